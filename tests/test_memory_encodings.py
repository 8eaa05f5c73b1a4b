"""Each encoding's storage and per-access word counts against a hand-computed small matrix.

The matrix: R=4 rows, C=8 columns, 2-bit values, 8-bit words (k=4 values per word), 16
non-zeros (4 per row). Metadata widths: column index ⌈log2 8⌉=3 bits, pointer ⌈log2 17⌉=5 bits.
"""

from __future__ import annotations

import numpy as np
import pytest

from qsnn_mem.memory import encodings as enc


def shape(code: int, rows=4, cols=8, nnz=16, bits=2, word=8, k2=1, run_bits=2) -> enc.Shape:
    def a(x):
        return np.array([x], dtype=float)

    return enc.Shape(
        code=np.array([code]),
        rows=a(rows),
        cols=a(cols),
        nnz=a(nnz),
        bits=a(bits),
        word=a(word),
        kernel_k2=a(k2),
        run_bits=a(run_bits),
    )


def cost(s: enc.Shape, pattern: str, accesses: int, elements: int, nonzero: int, write=False):
    return enc.access_cost(
        s,
        np.array([enc.PATTERNS[pattern]]),
        np.array([write]),
        np.array([accesses], float),
        np.array([elements], float),
        np.array([nonzero], float),
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (enc.CROSSBAR, 4 * 2),  # 4 rows x ⌈8/4⌉
        (enc.PB_CSR, 5 + 4 * 4),  # ⌈5 pointers / 1 per word⌉ + 4 rows x ⌈4 entries / ⌊8/(2+3)⌋⌉
        (enc.PB_BMP, 4 + 4 * 1 + 4 * 1),  # 4 pointers + 4 one-word masks + 4 x ⌈4/4⌉ values
        (enc.RLE, 4 + 4 * 3),  # 4 pointers + 4 x ⌈4·(1+1/15)/⌊8/(2+2)⌋⌉ (fillers: q^4/(1-q^4))
    ],
)
def test_storage_words_of_hand_matrix(code, words):
    assert enc.storage_words(shape(code))[0] == words


def test_dense_vector_packs_across_the_whole_vector():
    # 1x10 state vector of 8-bit values in 32-bit words: ⌈10/4⌉ = 3 words.
    assert enc.storage_words(shape(enc.DENSE, rows=1, cols=10, nnz=5, bits=8, word=32))[0] == 3


def test_crossbar_row_col_elem():
    s = shape(enc.CROSSBAR)
    assert cost(s, "row", 3, 24, 12).read_words[0] == 3 * 2  # ⌈8/4⌉ words per row
    assert cost(s, "col", 2, 8, 4).read_words[0] == 8  # one word per row of each column
    assert cost(s, "elem", 5, 5, 2).read_words[0] == 5
    w = cost(s, "row", 3, 24, 12, write=True)
    assert (w.write_words[0], w.read_words[0]) == (6, 0)


def test_pb_csr_row_and_column():
    s = shape(enc.PB_CSR)
    row = cost(s, "row", 1, 8, 4)
    assert row.read_words[0] == 2 + 4  # pointer pair (1 + 1/k_ptr, k_ptr=1) + 4 entry words
    col = cost(s, "col", 1, 4, 2)
    # per row: pointer pair (2) + binary search over ⌈4/1⌉ words: ⌈log2 5⌉ = 3 reads
    assert col.read_words[0] == 4 * (2 + 3)
    assert col.compares[0] == 4 * 3 * 1
    assert cost(s, "col", 1, 4, 2, write=True).write_words[0] == 2  # only the non-zeros


def test_pb_bmp_row_and_column():
    s = shape(enc.PB_BMP)
    row = cost(s, "row", 1, 8, 4)
    assert row.read_words[0] == 1 + 1 + 1  # pointer + one mask word + ⌈4/4⌉ value word
    assert row.popcounts[0] == 1
    col = cost(s, "col", 1, 4, 2)
    # every row: its mask word; each non-zero: pointer + value word (+ 0 mask words before it)
    assert col.read_words[0] == 4 + 2 * 2
    assert col.popcounts[0] == 2


def test_rle_row():
    s = shape(enc.RLE)
    # pointer + ⌈4 non-zeros x (1 + 1/15) entries / 2 per word⌉ = 1 + 3
    assert cost(s, "row", 1, 8, 4).read_words[0] == 4


def test_functional_kernel_reads_only_the_kernel():
    # Kernel 2 (out) x 1 (in) x 2 x 2: stored as 1 row of 8 values: 2 words of 4.
    s = shape(enc.FUNCTIONAL, rows=1, cols=8, nnz=8, k2=4)
    assert enc.storage_words(s)[0] == 2
    assert cost(s, "row", 1, 8, 8).read_words[0] == 2
    c = cost(s, "col", 1, 4, 4)  # one output gathers 1 channel x 4 positions: one word
    assert c.read_words[0] == 1
    assert c.adds[0] == 4 and c.compares[0] == 8


def test_narrower_values_need_fewer_words():
    wide = enc.storage_words(shape(enc.CROSSBAR, cols=64, bits=8, word=64))[0]
    narrow = enc.storage_words(shape(enc.CROSSBAR, cols=64, bits=2, word=64))[0]
    assert (narrow, wide) == (4 * 2, 4 * 8)
