"""Numeric views of traces and architectures, and the tensor→memory mapping of a pair.

:mod:`qsnn_mem.memory.estimate` prices many (architecture × trace) pairs at once; it needs
each trace and each architecture as flat numpy arrays, built once and cached here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contract import Trace
from ..errors import QsnnError
from . import encodings as enc
from .arch import Arch
from .encodings.base import PATTERNS, ROLES

PHASES = ("train", "infer")
STAGES = ("forward", "backward", "update")
OPS = ("read", "write")
TRAVERSALS = ("any", "row", "col")  # error propagation: any, gather, scatter
PROPAGATIONS = ("auto", "row", "col")
DEFAULT_STATE_BITS = 16  # accumulator width when the trace lists no state of the layer
# Tensors shaped like a weight matrix (the weights, DECOLLE's fixed readout and feedback, the
# gradient accumulators): never a history of time steps, stored as listed.
MATRICES = ("weight", "readout", "feedback", "grad")


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
    col_run: np.ndarray  # adjacent values per run of a column walk (docs/memory.md)
    state_bits: np.ndarray  # the layer's membrane bits: the forward accumulator
    error_bits: np.ndarray  # the layer's error bits: the propagation accumulator
    a_tensor: np.ndarray  # per access row: index into the tensors above
    a_phase: np.ndarray
    a_stage: np.ndarray
    a_op: np.ndarray
    a_pattern: np.ndarray
    a_traversal: np.ndarray
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
    rows, nnz, u_rows, u_nnz = (
        ten[c].to_numpy(float) for c in ("rows", "nonzero", "unrolled_rows", "unrolled_nonzero")
    )
    matrix = ten["tensor"].isin(MATRICES).to_numpy()
    if not (acc["phase"] == "train").any():
        # An inference-only trace: inference keeps only the current step of each state, so a
        # state listed as its history (one row per time step) is sized as one step.
        steps = float(trace.normalisers["time_steps"])
        history = ~matrix & (rows == steps) & (steps > 1)
        rows, u_rows = np.where(history, 1.0, rows), np.where(history, 1.0, u_rows)
        nnz = np.where(history, np.ceil(nnz / steps), nnz)
        u_nnz = np.where(history, np.ceil(u_nnz / steps), u_nnz)
    index = {key: i for i, key in enumerate(keys)}
    k_in, k_out_k2, k2, kernel_width = [], [], [], {}
    for layer, shape, kern, n_rows, n_cols in zip(
        ten["layer"], ten["shape"], ten["kernel"], rows, ten["cols"], strict=True
    ):
        dims = _parse_shape(str(shape), trace.folder) if kern else []
        if kern and len(dims) >= 3:
            positions = int(np.prod(dims[2:]))
            k_in.append(dims[1])
            k_out_k2.append(dims[0] * positions)
            k2.append(positions)
            kernel_width[str(layer)] = dims[-1]
        else:
            k_in.append(n_rows)
            k_out_k2.append(n_cols)
            k2.append(1)
    # A column walk of a convolution layer's state (a receptive field of its input trace) reads
    # a kernel row of adjacent values at a time; elsewhere a column has one value per row.
    runs = [float(kernel_width.get(str(layer), 1)) for layer in ten["layer"]]
    col_run = np.where(matrix, 1.0, np.array(runs, float))
    arrays = TraceArrays(
        keys=keys,
        is_weight=(ten["tensor"] == "weight").to_numpy(),
        kernel=ten["kernel"].to_numpy(bool),
        rows=rows,
        cols=ten["cols"].to_numpy(float),
        nnz=nnz,
        bits=ten["bits"].to_numpy(float),
        u_rows=u_rows,
        u_cols=ten["unrolled_cols"].to_numpy(float),
        u_nnz=u_nnz,
        k_in=np.array(k_in, float),
        k_out_k2=np.array(k_out_k2, float),
        k2=np.array(k2, float),
        col_run=col_run,
        state_bits=_layer_bits(ten, ("mem", "syn")),
        error_bits=_layer_bits(ten, ("err",)),
        a_tensor=np.array(
            [index[(str(la), str(te))] for la, te in zip(acc["layer"], acc["tensor"], strict=True)],
            dtype=np.int64,
        ),
        a_phase=acc["phase"].map(PHASES.index).to_numpy(np.int64),
        a_stage=acc["stage"].map(STAGES.index).to_numpy(np.int64),
        a_op=acc["op"].map(OPS.index).to_numpy(np.int64),
        a_pattern=acc["pattern"].map(PATTERNS).to_numpy(np.int64),
        a_traversal=acc["traversal"].map(TRAVERSALS.index).to_numpy(np.int64),
        a_bits=acc["bits"].to_numpy(float),
        a_accesses=acc["accesses"].to_numpy(float),
        a_elements=acc["elements"].to_numpy(float),
        a_nonzero=acc["nonzero"].to_numpy(float),
        epochs=trace.normalisers["train_epochs"],
        infer_samples=trace.normalisers["infer_samples"],
    )
    object.__setattr__(trace, "_arrays", arrays)
    return arrays


def _layer_bits(ten, names: tuple[str, ...]) -> np.ndarray:
    """Per tensor: the bits of the first of ``names`` its layer stores (else the default)."""
    bits = {}
    for name in reversed(names):
        sel = ten[ten["tensor"] == name]
        bits.update(zip(sel["layer"].astype(str), sel["bits"].astype(float), strict=True))
    return np.array([bits.get(str(la), DEFAULT_STATE_BITS) for la in ten["layer"]], float)


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
    kind_reg: np.ndarray  # [memory, role]: the array is a register file
    word: np.ndarray  # word_bits (0 when not given)
    per_access: np.ndarray  # synapses per access; 0 = packed into word_bits
    banks: np.ndarray
    ports: np.ndarray
    depth: np.ndarray  # -1 for auto
    code: np.ndarray  # weight encoding code (DENSE if the memory holds no weights)
    run_bits: np.ndarray
    bitmap_bits: np.ndarray
    propagation: np.ndarray  # index into PROPAGATIONS
    unrolled: np.ndarray  # kernels stored unrolled (else kernel-shared)
    holds_key: tuple


def arch_arrays(arch: Arch) -> ArchArrays:
    cached = _ARCH_CACHE.get(id(arch))
    if cached is not None and cached[0] is arch:
        return cached[1]
    mems = arch.memories
    arrays = ArchArrays(
        names=[m.name for m in mems],
        kind_reg=np.array(
            [[m.arrays.get(role, m.kind) == "regfile" for role in ROLES] for m in mems]
        ),
        word=np.array([m.word_bits or 0 for m in mems], float),
        per_access=np.array(
            [0 if m.synapses_per_access == "packed" else m.synapses_per_access for m in mems], float
        ),
        banks=np.array([m.banks for m in mems], float),
        ports=np.array([m.ports for m in mems], float),
        depth=np.array([-1 if m.depth == "auto" else m.depth for m in mems], float),
        code=np.array([enc.CODES[m.encoding] if m.encoding else enc.DENSE for m in mems]),
        run_bits=np.array([m.run_bits for m in mems], float),
        bitmap_bits=np.array([m.bitmap_bits for m in mems], float),
        propagation=np.array([PROPAGATIONS.index(m.propagation) for m in mems]),
        unrolled=np.array([m.conv_storage == "unrolled" for m in mems]),
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


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For items counted per pair: each item's pair, its index within the pair, pair starts."""
    pair = np.repeat(np.arange(len(counts)), counts)
    start = np.cumsum(counts) - counts
    return pair, np.arange(int(counts.sum())) - start[pair], start


class Stack:
    """Per-pair numeric views (shared objects) with their arrays stacked once per unique view."""

    def __init__(self, items: list, count_field: str) -> None:
        self.items = items
        index: dict[int, int] = {}
        self.unique: list = []
        self.which = np.empty(len(items), dtype=np.int64)
        for i, item in enumerate(items):
            j = index.setdefault(id(item), len(self.unique))
            if j == len(self.unique):
                self.unique.append(item)
            self.which[i] = j
        sizes = np.array([len(getattr(u, count_field)) for u in self.unique], dtype=np.int64)
        self.counts = sizes[self.which]
        self.pair, self.local, self.start = _expand(self.counts)
        self._index = (np.cumsum(sizes) - sizes)[self.which][self.pair] + self.local

    def field(self, name: str) -> np.ndarray:
        """Field ``name`` for every (pair, item), in pair order."""
        stacked = np.concatenate([np.asarray(getattr(u, name)) for u in self.unique])
        return stacked[self._index]
