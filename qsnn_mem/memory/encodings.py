"""Weight encodings: storage words and words/logic per access (formulas in docs/memory.md).

Everything is vectorised: each argument is a numpy array with one entry per tensor (storage) or
per access-table row (accesses), and the encoding of each entry is an integer code
(:data:`CODES`). Non-weight tensors use code ``DENSE`` (packed values, no metadata).

Notation (as in docs/memory.md): ``R`` rows (pre-synaptic side), ``C`` columns, ``b`` bits per
value, ``W`` word bits, ``k = ⌊W/b⌋`` values per word, ``n̄ = nnz/R`` stored non-zeros per row,
``v`` values per access (dense semantics), ``z`` non-zeros among them, ``p`` pointer bits.
Rows start at word boundaries; per-row quantities use the average row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DENSE, CROSSBAR, PB_CSR, PB_BMP, RLE, FUNCTIONAL = range(6)
CODES = {
    "crossbar": CROSSBAR,
    "pb-csr": PB_CSR,
    "pb-bmp": PB_BMP,
    "rle": RLE,
    "functional": FUNCTIONAL,
}
ROW, COL, ELEM = range(3)
PATTERNS = {"row": ROW, "col": COL, "elem": ELEM}


def _ceil(x: np.ndarray) -> np.ndarray:
    """Ceiling that ignores float noise (``3.0000000001`` -> 3)."""
    return np.ceil(np.asarray(x, dtype=float) - 1e-9)


def _log2_ceil(x: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, _ceil(np.log2(np.maximum(np.asarray(x, dtype=float), 1.0))))


@dataclass
class Shape:
    """Per-entry geometry of what is stored (arrays of equal length)."""

    code: np.ndarray  # encoding code
    rows: np.ndarray  # R (1 for state vectors)
    cols: np.ndarray  # C
    nnz: np.ndarray  # stored non-zeros (end of training)
    bits: np.ndarray  # b
    word: np.ndarray  # W
    kernel_k2: np.ndarray  # KH·KW of a convolution kernel (functional), else 1
    run_bits: np.ndarray  # RLE zero-run field width

    def derived(self) -> dict[str, np.ndarray]:
        """Per-word packing factors and metadata widths used by every formula."""
        b, w = self.bits.astype(float), self.word.astype(float)
        nbar = self.nnz / np.maximum(self.rows, 1)
        density = self.nnz / np.maximum(self.rows * self.cols, 1)
        ptr = _log2_ceil(self.nnz + 1)
        idx_c = _log2_ceil(self.cols)
        run_len = 2.0**self.run_bits
        q = 1.0 - density
        # Expected RLE fillers per non-zero: zero gaps are geometric, a gap g needs ⌊g/2^r⌋ fillers.
        with np.errstate(divide="ignore", invalid="ignore"):
            fill = np.where(density > 0, q**run_len / np.maximum(1.0 - q**run_len, 1e-300), 0.0)
        return {
            "k": np.maximum(np.floor(w / b), 1.0),
            "k_ptr": np.maximum(np.floor(w / ptr), 1.0),
            "k_csr": np.maximum(np.floor(w / (b + idx_c)), 1.0),
            "k_rle": np.maximum(np.floor(w / (b + self.run_bits)), 1.0),
            "mask": _ceil(self.cols / w),
            "nbar": nbar,
            "fill": fill,
        }


def storage_words(s: Shape) -> np.ndarray:
    """Words each entry occupies in its memory, metadata included."""
    d = s.derived()
    r = s.rows.astype(float)
    dense = _ceil(r * s.cols / d["k"]) * (s.rows == 1) + r * _ceil(s.cols / d["k"]) * (s.rows > 1)
    out = np.where(s.code == DENSE, dense, r * _ceil(s.cols / d["k"]))
    ptr_words = _ceil((r + 1) / d["k_ptr"])
    csr = ptr_words + r * _ceil(d["nbar"] / d["k_csr"])
    bmp = _ceil(r / d["k_ptr"]) + r * d["mask"] + r * _ceil(d["nbar"] / d["k"])
    rle = _ceil(r / d["k_ptr"]) + r * _ceil(d["nbar"] * (1 + d["fill"]) / d["k_rle"])
    # A kernel O×I×KH×KW is stored per input channel: I rows of O·KH·KW values.
    func = r * _ceil(s.cols / d["k"])
    out = np.where(s.code == PB_CSR, csr, out)
    out = np.where(s.code == PB_BMP, bmp, out)
    out = np.where(s.code == RLE, rle, out)
    return np.where(s.code == FUNCTIONAL, func, out)


@dataclass
class AccessCost:
    """Word counts and controller operations for a batch of access-table rows."""

    read_words: np.ndarray
    write_words: np.ndarray
    adds: np.ndarray  # address/pointer additions (16-bit)
    compares: np.ndarray  # index comparisons and bounds checks (16-bit)
    popcounts: np.ndarray  # popcounts of one W-bit mask word


def access_cost(
    s: Shape,
    pattern: np.ndarray,
    is_write: np.ndarray,
    accesses: np.ndarray,
    elements: np.ndarray,
    nonzero: np.ndarray,
) -> AccessCost:
    """Words and logic for each access-table row (``s`` holds the row's tensor geometry).

    Writes follow a read of the same access (read-modify-write in the update stage), so the
    metadata that locates a value is paid by the read; a write stores only value words.
    """
    d = s.derived()
    n = accesses.astype(float)
    safe_n = np.maximum(n, 1.0)
    v = elements / safe_n  # values per access (dense semantics)
    z = nonzero / safe_n  # non-zeros per access
    vec = s.rows == 1
    row, col = pattern == ROW, pattern == COL
    k = d["k"]

    # Dense and crossbar: row-major, rows word-aligned; a column touches one word per row.
    packed = n * _ceil(v / k)
    dense = np.where(col, elements.astype(float), np.where(row, packed, n))
    dense = np.where(vec & (s.code == DENSE), _ceil(elements / k), dense)
    reads = dense.copy()
    writes = dense.copy()
    adds = reads.copy()
    cmps = np.zeros_like(reads)
    pops = np.zeros_like(reads)

    # Value words a sparse encoding writes back: the packed non-zeros of a row, else one each.
    sparse_write = np.where(row, n * _ceil(z / k), nonzero.astype(float))

    m = s.code == PB_CSR
    ptr = (
        1.0 + 1.0 / d["k_ptr"]
    )  # start and end pointer; the pair straddles a word 1/k_ptr of the time
    search = _log2_ceil(_ceil(d["nbar"] / d["k_csr"]) + 1)  # binary search over a row's words
    csr_row = n * (ptr + _ceil(z / d["k_csr"]))
    csr_col = np.where(col, elements, n) * (ptr + search)
    _set(m, reads, np.where(row, csr_row, csr_col))
    _set(m, writes, np.where(row, n * _ceil(z / d["k_csr"]), nonzero.astype(float)))
    _set(m, adds, np.where(row, csr_row, csr_col))
    _set(m, cmps, np.where(row, 0.0, np.where(col, elements, n) * search * d["k_csr"]))

    m = s.code == PB_BMP
    before = (d["mask"] - 1.0) / 2.0  # mask words left of a column, on average
    bmp_row = n * (1.0 + d["mask"] + _ceil(z / k))
    bmp_col = np.where(col, elements, n) + nonzero * (2.0 + before)
    _set(m, reads, np.where(row, bmp_row, bmp_col))
    _set(m, writes, sparse_write)
    _set(m, adds, np.where(row, bmp_row, bmp_col))
    _set(m, pops, np.where(row, n * d["mask"], nonzero * (1.0 + before)))

    m = s.code == RLE
    entries_row = d["nbar"] * (1.0 + d["fill"])
    half_row = np.maximum(1.0, _ceil(entries_row / d["k_rle"]) / 2.0)
    rle_row = n * (1.0 + _ceil(z * (1.0 + d["fill"]) / d["k_rle"]))
    rle_col = np.where(col, elements, n) * (1.0 + half_row)
    _set(m, reads, np.where(row, rle_row, rle_col))
    _set(
        m,
        writes,
        np.where(row, n * _ceil(z * (1.0 + d["fill"]) / d["k_rle"]), nonzero.astype(float)),
    )
    decoded = np.where(
        row, n * z * (1.0 + d["fill"]), np.where(col, elements, n) * half_row * d["k_rle"]
    )
    _set(m, adds, decoded)

    m = s.code == FUNCTIONAL
    k2 = s.kernel_k2.astype(float)
    func_col = n * (v / k2) * _ceil(k2 / k)  # per input channel one contiguous KH·KW block
    func = np.where(row, packed, np.where(col, func_col, n))
    _set(m, reads, func)
    _set(m, writes, func)
    _set(m, adds, elements.astype(float))  # address generator: one add per synapse
    _set(m, cmps, 2.0 * elements)  # and two bounds checks (image borders)

    w = is_write.astype(bool)
    return AccessCost(
        read_words=np.where(w, 0.0, reads),
        write_words=np.where(w, writes, 0.0),
        adds=np.where(w, 0.0, adds),
        compares=np.where(w, 0.0, cmps),
        popcounts=np.where(w, 0.0, pops),
    )


def _set(mask: np.ndarray, target: np.ndarray, values: np.ndarray) -> None:
    target[mask] = values[mask]
