"""Numeric views of traces and architectures, and the tensor→memory mapping of a pair.

:mod:`qsnn_mem.memory.estimate` prices many (architecture × trace) pairs at once; it needs
each trace and each architecture as flat numpy arrays, built once and cached here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import QsnnError
from . import encodings as enc
from .accesses import Trace
from .arch import Arch

PHASES = ("train", "infer")
STAGES = ("forward", "backward", "update")
OPS = ("read", "write")


@dataclass
class TraceArrays:
    """Tensor-level and access-level arrays of one trace."""

    keys: list[tuple[str, str]]  # (layer, tensor) per tensor
    is_weight: np.ndarray
    kernel: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    nnz: np.ndarray
    bits: np.ndarray
    u_rows: np.ndarray
    u_cols: np.ndarray
    u_nnz: np.ndarray
    k_in: np.ndarray  # input channels of a kernel (functional rows)
    k_out_k2: np.ndarray  # output channels × kernel positions (functional columns)
    k2: np.ndarray  # kernel positions KH·KW
    a_tensor: np.ndarray  # per access row: index into the tensors above
    a_phase: np.ndarray
    a_stage: np.ndarray
    a_op: np.ndarray
    a_pattern: np.ndarray
    a_bits: np.ndarray
    a_accesses: np.ndarray
    a_elements: np.ndarray
    a_nonzero: np.ndarray
    epochs: int
    infer_samples: int


def trace_arrays(trace: Trace) -> TraceArrays:
    cached = getattr(trace, "_arrays", None)
    if cached is not None:
        return cached
    ten, acc = trace.tensors, trace.accesses
    keys = list(zip(ten["layer"].astype(str), ten["tensor"].astype(str), strict=True))
    index = {key: i for i, key in enumerate(keys)}
    k_in, k_out_k2, k2 = [], [], []
    for shape, kern, rows, cols in zip(
        ten["shape"], ten["kernel"], ten["rows"], ten["cols"], strict=True
    ):
        dims = _parse_shape(str(shape), trace.folder) if kern else []
        if kern and len(dims) >= 3:
            positions = int(np.prod(dims[2:]))
            k_in.append(dims[1])
            k_out_k2.append(dims[0] * positions)
            k2.append(positions)
        else:
            k_in.append(rows)
            k_out_k2.append(cols)
            k2.append(1)
    arrays = TraceArrays(
        keys=keys,
        is_weight=(ten["tensor"] == "weight").to_numpy(),
        kernel=ten["kernel"].to_numpy(bool),
        rows=ten["rows"].to_numpy(float),
        cols=ten["cols"].to_numpy(float),
        nnz=ten["nonzero"].to_numpy(float),
        bits=ten["bits"].to_numpy(float),
        u_rows=ten["unrolled_rows"].to_numpy(float),
        u_cols=ten["unrolled_cols"].to_numpy(float),
        u_nnz=ten["unrolled_nonzero"].to_numpy(float),
        k_in=np.array(k_in, float),
        k_out_k2=np.array(k_out_k2, float),
        k2=np.array(k2, float),
        a_tensor=np.array(
            [index[(str(la), str(te))] for la, te in zip(acc["layer"], acc["tensor"], strict=True)],
            dtype=np.int64,
        ),
        a_phase=acc["phase"].map(PHASES.index).to_numpy(np.int64),
        a_stage=acc["stage"].map(STAGES.index).to_numpy(np.int64),
        a_op=acc["op"].map(OPS.index).to_numpy(np.int64),
        a_pattern=acc["pattern"].map(enc.PATTERNS).to_numpy(np.int64),
        a_bits=acc["bits"].to_numpy(float),
        a_accesses=acc["accesses"].to_numpy(float),
        a_elements=acc["elements"].to_numpy(float),
        a_nonzero=acc["nonzero"].to_numpy(float),
        epochs=trace.normalisers["train_epochs"],
        infer_samples=trace.normalisers["infer_samples"],
    )
    object.__setattr__(trace, "_arrays", arrays)
    return arrays


def _parse_shape(text: str, folder: str) -> list[int]:
    try:
        return [int(part) for part in text.lower().split("x")]
    except ValueError:
        raise QsnnError(
            f"{folder}/tensors.csv: column 'shape' = {text!r} (allowed: sizes joined "
            "by x, e.g. 64x2x7x7)"
        ) from None


@dataclass
class ArchArrays:
    """Per-memory arrays of one architecture."""

    names: list[str]
    kind_reg: np.ndarray
    word: np.ndarray
    banks: np.ndarray
    ports: np.ndarray
    depth: np.ndarray  # -1 for auto
    code: np.ndarray  # weight encoding code (DENSE if the memory holds no weights)
    run_bits: np.ndarray
    holds_key: tuple


def arch_arrays(arch: Arch) -> ArchArrays:
    cached = _ARCH_CACHE.get(id(arch))
    if cached is not None and cached[0] is arch:
        return cached[1]
    mems = arch.memories
    arrays = ArchArrays(
        names=[m.name for m in mems],
        kind_reg=np.array([m.kind == "regfile" for m in mems]),
        word=np.array([m.word_bits for m in mems], float),
        banks=np.array([m.banks for m in mems], float),
        ports=np.array([m.ports for m in mems], float),
        depth=np.array([-1 if m.depth == "auto" else m.depth for m in mems], float),
        code=np.array([enc.CODES[m.encoding] if m.encoding else enc.DENSE for m in mems]),
        run_bits=np.array([m.run_bits for m in mems], float),
        holds_key=tuple(tuple(m.holds) for m in mems),
    )
    if len(_ARCH_CACHE) > 100_000:
        _ARCH_CACHE.clear()
    _ARCH_CACHE[id(arch)] = (arch, arrays)
    return arrays


_ARCH_CACHE: dict[int, tuple[Arch, ArchArrays]] = {}


def owners(arch: Arch, trace: Trace) -> np.ndarray:
    """Index of the memory holding each tensor of ``trace``; a tensor held by none is an error."""
    tarr = trace_arrays(trace)
    cache = getattr(trace, "_owners", None)
    if cache is None:
        cache = {}
        object.__setattr__(trace, "_owners", cache)
    key = arch_arrays(arch).holds_key
    hit = cache.get(key)
    if hit is not None:
        return hit
    out = np.empty(len(tarr.keys), dtype=np.int64)
    for i, (layer, tensor) in enumerate(tarr.keys):
        owner = arch.owner_of(layer, tensor)
        if owner is None:
            names = ", ".join(m.name for m in arch.memories)
            raise QsnnError(
                f"tensor '{layer}.{tensor}' of trace {trace.folder} is held by no "
                f"memory of arch '{arch.name}' (memories: {names}); add '{tensor}' "
                f"or '{layer}.{tensor}' to one memory's holds"
            )
        out[i] = owner
    cache[key] = out
    return out
