"""What every encoding shares: the array roles, a stored tensor's layout, an access batch and
its cost. All quantities are numpy float arrays with one entry per stored tensor (:class:`Layout`)
or per access-table row (:class:`Walk`, :class:`Cost`), so an encoding prices any number of
(architecture × trace) pairs in one call.

Notation (docs/memory.md): ``R`` rows (pre-synaptic side), ``C`` columns, ``nnz`` stored
non-zeros, ``n̄ = nnz/R``; an access-table row has ``N`` accesses touching ``E`` values in dense
semantics, ``Z`` of them non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# The physical arrays an encoding may need; each is priced at its own width and depth.
ROLES = ("values", "bitmap", "pointers", "indices", "runs", "pixels")
VALUES, BITMAP, POINTERS, INDICES, RUNS, PIXELS = range(len(ROLES))
ROW, COL, ELEM = range(3)
PATTERNS = {"row": ROW, "col": COL, "elem": ELEM}


def ceil(x) -> np.ndarray:
    """Ceiling that ignores float noise (``3.0000000001`` -> 3)."""
    return np.ceil(np.asarray(x, dtype=float) - 1e-9)


def log2_ceil(x) -> np.ndarray:
    """Bits to tell ``x`` things apart (at least 1)."""
    return np.maximum(1.0, ceil(np.log2(np.maximum(np.asarray(x, dtype=float), 1.0))))


def row_words(fields, k) -> np.ndarray:
    """Expected words a walk over one row's ``fields`` fields touches, ``k`` fields per word.

    Rows are stored back to back (a pointer addresses a field), so a row of ``x >= 1`` fields
    starting anywhere in a word touches ``(x + k − 1)/k`` words on average; with one field per
    word (or fewer) that is exact, ``x/k``; a row averaging under one field touches ``x``.
    """
    x, k = np.asarray(fields, dtype=float), np.asarray(k, dtype=float)
    return np.where(k > 1, (x + np.minimum(x, 1.0) * (k - 1.0)) / k, x / k)


def per_word(word_bits, field_bits) -> np.ndarray:
    """Fields per word: ``⌊W/f⌋``, or ``1/⌈f/W⌉`` when a field is wider than the word (it then
    takes ``⌈f/W⌉`` words)."""
    w, f = np.asarray(word_bits, dtype=float), np.asarray(field_bits, dtype=float)
    w = np.maximum(w, 1.0)  # an unused word width (0) still gives finite numbers
    return np.where(w >= f, np.floor(w / np.maximum(f, 1.0)), 1.0 / ceil(f / w))


@dataclass
class Layout:
    """Per stored tensor: geometry as stored and, per role, word width and fields per word."""

    rows: np.ndarray
    cols: np.ndarray
    nnz: np.ndarray
    bits: np.ndarray  # b, bits per value
    width: np.ndarray  # [n, roles] word width of each array, bits
    fields: np.ndarray  # [n, roles] fields per word (values, indices, bitmap positions, ...)
    ptr_bits: np.ndarray  # a row pointer: ⌈log2(value words + 1)⌉
    idx_bits: np.ndarray  # a column index: ⌈log2 C⌉
    run_bits: np.ndarray  # RLE zero-run field
    kernel_k2: np.ndarray  # KH·KW of a functionally stored kernel, else 1
    # Non-weight tensors: adjacent values per run of a column walk (the kernel width in a
    # convolution layer's state, else 1: a column has one value per row). None: all 1.
    col_run: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.col_run is None:
            self.col_run = np.ones_like(np.asarray(self.rows, dtype=float))

    @property
    def nbar(self) -> np.ndarray:
        return self.nnz / np.maximum(self.rows, 1.0)

    @property
    def density(self) -> np.ndarray:
        return self.nnz / np.maximum(self.rows * self.cols, 1.0)

    def k(self, role: int) -> np.ndarray:
        return self.fields[:, role]

    def take(self, index: np.ndarray) -> Layout:
        """The layouts at ``index`` (e.g. the tensor of every access row)."""
        return Layout(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Walk:
    """A batch of access-table rows: pattern, write flag and counts (floats)."""

    pattern: np.ndarray
    is_write: np.ndarray
    n: np.ndarray
    e: np.ndarray
    z: np.ndarray

    @property
    def v(self) -> np.ndarray:
        """Values per access (dense semantics)."""
        return self.e / np.maximum(self.n, 1.0)

    @property
    def zper(self) -> np.ndarray:
        """Non-zeros per access."""
        return self.z / np.maximum(self.n, 1.0)

    def take(self, index: np.ndarray) -> Walk:
        return Walk(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Cost:
    """Per access row: array reads and writes per role, values touched, control operations."""

    reads: np.ndarray  # [m, roles]
    writes: np.ndarray  # [m, roles]
    values: np.ndarray  # synapse values read or written (a weight update adds to each)
    popcounts: np.ndarray  # popcounts of one bitmap word
    compares: np.ndarray  # index or position comparisons
    adds: np.ndarray  # address and pointer additions

    @classmethod
    def zeros(cls, m: int) -> Cost:
        return cls(
            np.zeros((m, len(ROLES))), np.zeros((m, len(ROLES))),
            *(np.zeros(m) for _ in range(4)),
        )  # fmt: skip

    def put(self, index: np.ndarray, other: Cost) -> None:
        for f in fields(self):
            getattr(self, f.name)[index] = getattr(other, f.name)


def by_pattern(w: Walk, row, col, elem) -> np.ndarray:
    """Pick per access row the value for its pattern."""
    return np.where(w.pattern == ROW, row, np.where(w.pattern == COL, col, elem))


def split_rw(w: Walk, reads: np.ndarray, writes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep ``reads`` on read rows and ``writes`` on write rows ([m, roles] each)."""
    wr = w.is_write.astype(bool)[:, None]
    return np.where(wr, 0.0, reads), np.where(wr, writes, 0.0)


def value_words_only(w: Walk, words: np.ndarray) -> Cost:
    """The cost of an encoding without metadata: ``words`` value words read (or written), and
    every value of the access touched."""
    cost = Cost.zeros(len(w.n))
    both = np.zeros_like(cost.reads)
    both[:, VALUES] = words
    cost.reads, cost.writes = split_rw(w, both, both)
    cost.values = by_pattern(w, w.e, w.e, w.n)
    return cost


def row_major_words(g: Layout) -> np.ndarray:
    """Storage of a matrix without metadata: row by row, each row starting a word."""
    out = empty_storage(len(g.rows))
    out[:, VALUES] = g.rows * ceil(g.cols / g.k(VALUES))
    return out


def empty_storage(n: int) -> np.ndarray:
    return np.zeros((n, len(ROLES)))
