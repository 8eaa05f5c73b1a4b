"""The memory-organization YAML (``arch/*.yaml``): a validated, self-documenting schema.

Unknown keys are rejected and numbers are finite and bounded (:class:`~qsnn_mem.schema.Schema`).
Checks that need the trace (a tensor held by nobody, depth too small) happen in
:mod:`qsnn_mem.memory.estimate`; everything checkable from the file alone happens here.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..contract.vocabulary import TENSORS
from ..errors import QsnnError
from ..schema import Name, Schema, apply_overrides, read_yaml, validate
from . import encodings

ENCODINGS = encodings.ENCODINGS
NODE_RANGE_NM = (22.0, 90.0)  # CACTI 7's technology files; also the table's range
WEIGHT_ONLY = ("synapses_per_access", "propagation", "bitmap_bits", "run_bits", "conv_storage")


class Memory(Schema):
    """One on-chip memory: an SRAM macro or a register file, and the tensors it holds.

    A memory holding weights is a set of physical arrays, one per role its encoding needs
    (values; bitmap; row pointers; column indices; runs; per-pixel pointers), each sized to
    what it holds and priced at its own width and depth.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    """Unique name, used in the output tables."""
    kind: Literal["sram", "regfile"] = "sram"
    """``sram`` (priced by CACTI 7 or its table) or ``regfile`` (flip-flop register file, priced
    per bit from published numbers)."""
    word_bits: int | None = Field(default=None, ge=1, le=1024)
    """Bits per access of a memory without weights (``⌊word_bits / bits⌋`` values per word), or
    of every array of a weight memory with ``synapses_per_access: packed``."""
    synapses_per_access: int | Literal["packed"] = Field(default=1)
    """Weight memories: synapses one value access serves, P (the value array is P·b bits wide,
    index and run arrays P fields wide); 1 is the ISCAS 2020 design. ``packed``: every array
    has ``word_bits``-bit words packed with as many fields as fit."""
    propagation: Literal["auto", "row", "col"] = "auto"
    """Weight memories: how the backward pass propagates errors through the weights: ``row``
    (gather: each pre-synaptic neuron reads its outgoing row), ``col`` (scatter: each non-zero
    error reads its incoming column) or ``auto`` (the cheaper, per layer and trace)."""
    bitmap_bits: int = Field(default=8, ge=1, le=1024)
    """PB-BMP: bits per bitmap word (positions tested per bitmap read in a row walk)."""
    run_bits: int = Field(default=4, ge=1, le=16)
    """RLE: zero-run field width."""
    conv_storage: Literal["kernel-shared", "unrolled"] = "kernel-shared"
    """Convolution kernels in an encoding other than ``functional``: ``kernel-shared`` (the
    kernel's entries plus a pointer per input pixel; the transposed pass walks kernel rows)
    or ``unrolled`` (every synapse of the unrolled matrix indexed, Loihi-like)."""
    arrays: dict[str, Literal["sram", "regfile"]] = Field(default_factory=dict)
    """Kind of individual arrays where it differs from ``kind``, e.g. ``{pointers: regfile}``."""
    depth: int | Literal["auto"] = "auto"
    """Words in the whole memory (all banks together), or ``auto``: exactly what the held
    tensors need at the run's bitwidths (rounded up to a multiple of ``banks``). A weight
    memory's explicit depth applies to its value array; its metadata arrays are sized to what
    they hold."""
    banks: int = 1
    """Independent banks; each serves one access per port per cycle (1, 2, 4 or 8)."""
    ports: int = Field(default=1, ge=1, le=2)
    """Read-write ports per bank (1 or 2)."""
    holds: list[str] = Field(min_length=1)
    """Tensors stored here: vocabulary names (``weight``) or layer-qualified (``fc1.weight``)."""
    encoding: str | None = None
    """How weight matrices are stored (required if the memory holds weights, else not
    allowed): ``crossbar`` dense; ``pb-csr`` row pointers + column indices + values; ``pb-bmp``
    row pointers + bitmap + non-zero values; ``rle`` row pointers + (zero-run, value) entries;
    ``functional`` convolution kernels only, connectivity computed."""

    @field_validator("banks")
    @classmethod
    def _banks_power_of_two(cls, v: int) -> int:
        if v not in (1, 2, 4, 8):
            raise ValueError("banks must be 1, 2, 4 or 8")
        return v

    @field_validator("synapses_per_access")
    @classmethod
    def _at_least_one(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= 256:
            raise ValueError(f"synapses_per_access = {v} (allowed: 1-256, or packed)")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is not None and v not in ENCODINGS:
            raise ValueError(f"unknown encoding '{v}' (allowed: {', '.join(ENCODINGS)})")
        return v

    @field_validator("holds")
    @classmethod
    def _known_tensors(cls, v: list[str]) -> list[str]:
        for item in v:
            tensor = item.rsplit(".", 1)[-1]
            if tensor not in TENSORS:
                raise ValueError(
                    f"unknown tensor '{item}' (allowed: {', '.join(TENSORS)}, "
                    "optionally as layer.tensor)"
                )
        if len(set(v)) != len(v):
            raise ValueError("a tensor is listed twice")
        return v

    @property
    def holds_weights(self) -> bool:
        return any(item.rsplit(".", 1)[-1] == "weight" for item in self.holds)

    @property
    def roles(self) -> tuple[str, ...]:
        """The physical arrays of this memory."""
        if self.encoding is None:
            return ("values",)
        module = encodings.REGISTRY[self.encoding]
        roles = [encodings.ROLES[r] for r in module.ROLES_USED]
        if not encodings.kernels_only(self.encoding) and self.conv_storage == "kernel-shared":
            roles.append("pixels")
        return tuple(roles)

    @model_validator(mode="after")
    def _fields_fit_the_contents(self) -> Memory:
        where = f"memory '{self.name}'"
        if self.holds_weights and self.encoding is None:
            raise ValueError(
                f"{where} holds weights but has no encoding (allowed: {', '.join(ENCODINGS)})"
            )
        if not self.holds_weights:
            if self.encoding is not None:
                raise ValueError(
                    f"{where} has encoding '{self.encoding}' but holds no weights "
                    "(encodings apply to weight matrices)"
                )
            wrong = [
                f for f in WEIGHT_ONLY
                if f in self.model_fields_set and getattr(self, f) != Memory.model_fields[f].default
            ]  # fmt: skip
            if wrong:
                raise ValueError(f"{where}: field '{wrong[0]}' applies to weight memories only")
            if self.word_bits is None:
                raise ValueError(f"{where}: field 'word_bits' is required (bits per access)")
        elif self.synapses_per_access == "packed" and self.word_bits is None:
            raise ValueError(f"{where}: synapses_per_access 'packed' needs word_bits")
        elif self.synapses_per_access != "packed" and self.word_bits is not None:
            raise ValueError(
                f"{where}: field 'word_bits' = {self.word_bits} does not apply with "
                f"synapses_per_access = {self.synapses_per_access} (the value array is "
                "synapses_per_access x weight bits wide); write synapses_per_access: packed "
                "to pack values into word_bits-bit words"
            )
        unknown = sorted(set(self.arrays) - set(self.roles))
        if unknown:
            raise ValueError(
                f"{where}: field 'arrays' names '{unknown[0]}' (allowed: {', '.join(self.roles)})"
            )
        if isinstance(self.depth, int) and self.depth < self.banks:
            raise ValueError(f"{where}: depth {self.depth} is smaller than its {self.banks} banks")
        return self


class Arch(Schema):
    """A memory organization: technology, clock, backend and the list of memories."""

    model_config = ConfigDict(frozen=True)

    name: Name
    """Short name used in reports and output folder names (no '/' or '..')."""
    description: str = ""
    """Free text."""
    tech_node_nm: float
    """Technology node in nm, 22-90 (the range of CACTI 7's technology files)."""
    clock_hz: float = Field(gt=0)
    """Clock of the memories; sets the run time, hence the leakage energy."""
    narrow_words: Literal["same-depth", "same-capacity"] = "same-depth"
    """SRAM arrays narrower than 8 bits: ``same-depth``, a byte-wide macro of the same depth
    (a narrow access costs a byte access; CACTI's narrowest word), or ``same-capacity``, the
    column-muxed array of exactly depth × width cells (docs/memory.md compares the two)."""
    backend: Literal["table", "cacti"] = "table"
    """SRAM costs from the committed CACTI 7 table (interpolated, no compiler needed) or from
    the live CACTI 7 binary (``qsnn-mem cacti build``)."""
    memories: list[Memory] = Field(min_length=1)
    """The memories; every traced tensor must be held by exactly one of them."""

    @field_validator("tech_node_nm")
    @classmethod
    def _node_in_range(cls, v: float) -> float:
        lo, hi = NODE_RANGE_NM
        if not lo <= v <= hi:
            raise ValueError(f"tech node must be within {lo:g}-{hi:g} nm (CACTI 7's range)")
        return v

    @model_validator(mode="after")
    def _unique_and_disjoint(self) -> Arch:
        names = [m.name for m in self.memories]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"memory name '{dup[0]}' is used twice")
        owner: dict[str, str] = {}
        for m in self.memories:
            for item in m.holds:
                if item in owner:
                    raise ValueError(
                        f"tensor '{item}' is held by both '{owner[item]}' and '{m.name}'"
                    )
                owner[item] = m.name
        for item, mem in owner.items():
            if "." in item:
                generic = item.rsplit(".", 1)[-1]
                if generic in owner and owner[generic] != mem:
                    raise ValueError(
                        f"tensor '{item}' is held by both '{owner[generic]}' (as "
                        f"'{generic}') and '{mem}'"
                    )
        return self

    def owner_of(self, layer: str, tensor: str) -> int | None:
        """Index of the memory holding ``layer.tensor`` (the qualified name wins), or None."""
        qualified = f"{layer}.{tensor}"
        generic = None
        for i, m in enumerate(self.memories):
            if qualified in m.holds:
                return i
            if tensor in m.holds:
                generic = i
        return generic


def load_arch(path: str | os.PathLike, overrides: list[str] | None = None) -> Arch:
    """Read and validate an arch YAML; ``overrides`` are ``--set key=value`` strings.

    Memories can be addressed by index: ``memories.0.word_bits=32``.
    """
    data = read_yaml(path)
    if overrides:
        data = _apply_with_lists(data, overrides)
    return validate(Arch, data, str(path))


def _apply_with_lists(data: dict, overrides: list[str]) -> dict:
    """apply_overrides(), plus numeric path parts that index into lists (memories.1.banks)."""
    plain, indexed = [], []
    for text in overrides:
        key = text.partition("=")[0]
        (indexed if any(p.isdigit() for p in key.split(".")) else plain).append(text)
    out = apply_overrides(data, plain)
    for text in indexed:
        key, _, _ = text.partition("=")
        parts = key.strip().split(".")
        head = parts[0]
        items = out.get(head)
        if not isinstance(items, list) or not parts[1].isdigit():
            raise QsnnError(f"--set {text!r}: '{head}' is not a list")
        i = int(parts[1])
        if i >= len(items):
            raise QsnnError(
                f"--set {text!r}: '{head}' has {len(items)} entries (index 0-{len(items) - 1})"
            )
        items = list(items)
        sub = ".".join(parts[2:])
        if not sub:
            raise QsnnError(f"--set {text!r}: name a field of {head}.{i}")
        items[i] = apply_overrides(dict(items[i]), [f"{sub}={text.partition('=')[2]}"])
        out[head] = items
    return out
