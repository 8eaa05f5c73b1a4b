"""Every registered weight encoding against hand arithmetic: storage words and the cost of each
access pattern (row, col, elem × read, write) on a small explicit matrix, then end to end
through the estimator on one fully connected layer pass.

The unit matrix (R=4 rows, C=6 columns, b=2 bits, nnz=12; row non-zeros 4, 2, 3, 3)::

    1 1 0 1 0 1
    0 1 0 0 1 0
    1 0 1 0 0 1
    0 1 1 1 0 0

so n̄ = 12/4 = 3 non-zeros per row, density 12/24 = 1/2. The walks over it:

* row: all 4 rows, N=4, E=4·6=24, Z=12 (6 values and 3 non-zeros per access);
* col: all 6 columns, N=6, E=24, Z=12 (4 values and 2 non-zeros per access);
* elem: 3 single synapses, two of them non-zero: N=3, E=3, Z=2.

Two layouts of it:

* P1 (``synapses_per_access: 1``, ``bitmap_bits: 8``, ``run_bits: 2``): values 2 bits × 1
  field; bitmap 8 bits × 8 positions; pointers ⌈log2(12 value words + 1)⌉ = 4 bits; indices
  ⌈log2 6⌉ = 3 bits × 1; runs 2 bits × 1; pixels (per-pixel pointers) 4 bits × 1.
* W16 (``synapses_per_access: packed``, ``word_bits: 16``): every array 16 bits wide; values
  ⌊16/2⌋ = 8 per word; bitmap 16 positions; pointers ⌈log2(⌈12/8⌉ + 1)⌉ = 2 bits, ⌊16/2⌋ = 8
  per word; indices ⌊16/3⌋ = 5 per word; runs ⌊16/2⌋ = 8; pixels 8.
* W8 (``word_bits: 8``, only for rows longer than a word): values ⌊8/2⌋ = 4 per word; bitmap 8
  positions; pointers ⌈log2(⌈12/4⌉ + 1)⌉ = 2 bits, 4 per word; indices ⌊8/3⌋ = 2; runs 4;
  pixels 4.

Sparse rows are stored back to back (a pointer addresses a field), so a values, indices or runs
array holds nnz/k words (the estimator rounds the array's depth up once), and a walk over a row
of x fields, k to a word, touches row_words(x, k) = x/k words when k <= 1 and
(x + min(x, 1)·(k − 1))/k when k > 1 (the row starts anywhere in a word). In W16 a row of n̄ = 3
values touches (3 + 7)/8 = 5/4 words, of 3 indices (3 + 4)/5 = 7/5.

RLE at density 1/2 with 2-bit runs (L = 2² = 4; C = 6 >= L, so a zero run can reach L): fillers
per non-zero f = q^L/(1−q^L) = (1/16)/(15/16) = 1/15, so an entry count is the non-zero count ×
F, F = 16/15; a row holds n̄·F = 16/5 = 3.2 entries.

The functional kernel: I=2 input channels, O=2 output channels, 2×2 taps (K²=4), stored as 2
rows of O·K² = 8 values, 12 of the 16 non-zero.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from qsnn_mem.contract import load_trace
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import datapath, encodings, estimate, layer_pass, layout, tables
from qsnn_mem.memory.arch import Arch
from qsnn_mem.memory.encodings.base import PATTERNS, ROLES, Layout, Walk
from qsnn_mem.schema import validate

F = Fraction(16, 15)  # RLE entries per non-zero, see the module docstring


def _per_role(values: dict[str, float]) -> np.ndarray:
    return np.array([[float(values[r]) for r in ROLES]])


def _one(x) -> np.ndarray:
    return np.array([float(x)])


def make_layout(rows, cols, nnz, bits, width, fields, ptr, idx, run, k2=1) -> Layout:
    return Layout(
        rows=_one(rows), cols=_one(cols), nnz=_one(nnz), bits=_one(bits),
        width=_per_role(width), fields=_per_role(fields), ptr_bits=_one(ptr), idx_bits=_one(idx),
        run_bits=_one(run), kernel_k2=_one(k2),
    )  # fmt: skip


LAYOUTS = {
    "P1": make_layout(
        4, 6, 12, 2,
        width={"values": 2, "bitmap": 8, "pointers": 4, "indices": 3, "runs": 2, "pixels": 4},
        fields={"values": 1, "bitmap": 8, "pointers": 1, "indices": 1, "runs": 1, "pixels": 1},
        ptr=4, idx=3, run=2,
    ),
    "W16": make_layout(
        4, 6, 12, 2,
        width=dict.fromkeys(ROLES, 16),
        fields={"values": 8, "bitmap": 16, "pointers": 8, "indices": 5, "runs": 8, "pixels": 8},
        ptr=2, idx=3, run=2,
    ),
    # Rows longer than a word (the long-row cases below): 8-bit packed words.
    "W8": make_layout(
        4, 6, 12, 2,
        width=dict.fromkeys(ROLES, 8),
        fields={"values": 4, "bitmap": 8, "pointers": 4, "indices": 2, "runs": 4, "pixels": 4},
        ptr=2, idx=3, run=2,
    ),
    # The functional kernel: 2 rows of 8 values, K² = 4.
    "K-P1": make_layout(
        2, 8, 12, 2,
        width={"values": 2, "bitmap": 8, "pointers": 4, "indices": 3, "runs": 2, "pixels": 4},
        fields={"values": 1, "bitmap": 8, "pointers": 1, "indices": 1, "runs": 1, "pixels": 1},
        ptr=4, idx=3, run=2, k2=4,
    ),
    "K-W16": make_layout(
        2, 8, 12, 2,
        width=dict.fromkeys(ROLES, 16),
        fields={"values": 8, "bitmap": 16, "pointers": 8, "indices": 5, "runs": 8, "pixels": 8},
        ptr=2, idx=3, run=2, k2=4,
    ),
}  # fmt: skip

# (pattern, N, E, Z) of the walks over the unit matrix and over the functional kernel.
WALKS = {"row": (4, 24, 12), "col": (6, 24, 12), "elem": (3, 3, 2)}
# Kernel: both channels spike (2 rows of 8); 2 output errors gather I·K² = 8 synapses each.
KERNEL_WALKS = {"row": (2, 16, 12), "col": (2, 16, 12), "elem": (3, 3, 2)}


def code(name: str) -> np.ndarray:
    return np.array([encodings.CODES[name]])


def walk(pattern: str, is_write: bool, n, e, z) -> Walk:
    return Walk(
        pattern=np.array([PATTERNS[pattern]]), is_write=np.array([is_write]), n=_one(n),
        e=_one(e), z=_one(z),
    )  # fmt: skip


def test_hand_layouts_are_what_the_estimator_builds():
    """The layouts above are the estimator's for P=1 and for 16- and 8-bit packed words."""
    m = {
        "per_access": np.array([1.0, 0.0, 0.0]),
        "word": np.array([0.0, 16.0, 8.0]),
        "run_bits": np.full(3, 2.0),
        "bitmap_bits": np.full(3, 8.0),
    }
    got = layout.array_layout(
        np.full(3, encodings.CODES["pb-bmp"]), np.full(3, 4.0), np.full(3, 6.0),
        np.full(3, 12.0), np.full(3, 2.0), m, np.arange(3), np.zeros(3, bool), np.ones(3),
    )  # fmt: skip
    for i, key in enumerate(("P1", "W16", "W8")):
        want = LAYOUTS[key]
        np.testing.assert_array_equal(got.width[i], want.width[0], err_msg=key)
        np.testing.assert_array_equal(got.fields[i], want.fields[0], err_msg=key)
        assert (got.ptr_bits[i], got.idx_bits[i], got.run_bits[i]) == (
            want.ptr_bits[0], want.idx_bits[0], want.run_bits[0],
        )  # fmt: skip


# --- storage ------------------------------------------------------------------------------------

STORAGE = [
    ("crossbar", "P1", {"values": 4 * 6}),  # R · ⌈C/1⌉
    ("crossbar", "W16", {"values": 4 * 1}),  # R · ⌈6/8⌉
    # values nnz/1 = 12; bitmap R·⌈C/8⌉ = 4·1; pointers ⌈R/1⌉
    ("pb-bmp", "P1", {"values": 12, "bitmap": 4, "pointers": 4}),
    # values nnz/8 = 12/8 = 1.5; bitmap 4·⌈6/16⌉ = 4; pointers ⌈4/8⌉ = 1
    ("pb-bmp", "W16", {"values": 1.5, "bitmap": 4, "pointers": 1}),
    # values and indices nnz/1 = 12; pointers ⌈(R+1)/1⌉
    ("pb-csr", "P1", {"values": 12, "indices": 12, "pointers": 5}),
    # values 12/8 = 1.5; indices 12/5 = 2.4; pointers ⌈5/8⌉ = 1
    ("pb-csr", "W16", {"values": 1.5, "indices": 2.4, "pointers": 1}),
    # values and runs R·n̄F/1 = 4·3.2 = 12.8 (12·F); pointers ⌈4/1⌉
    ("rle", "P1", {"values": 12 * F, "runs": 12 * F, "pointers": 4}),
    # values and runs 4·3.2/8 = 1.6 (12·F/8); pointers ⌈4/8⌉ = 1
    ("rle", "W16", {"values": 12 * F / 8, "runs": 12 * F / 8, "pointers": 1}),
    ("functional", "K-P1", {"values": 2 * 8}),  # I rows · ⌈O·K²/1⌉
    ("functional", "K-W16", {"values": 2 * 1}),  # 2 · ⌈8/8⌉
]


@pytest.mark.parametrize(("name", "layout", "words"), STORAGE)
def test_storage_words(name, layout, words):
    got = encodings.storage_words(code(name), LAYOUTS[layout])[0]
    want = [float(words.get(r, 0)) for r in ROLES]
    assert got.tolist() == pytest.approx(want, rel=1e-12, abs=1e-12)  # 2.4 and F: last bit


def test_storage_covers_every_registered_encoding_and_only_its_roles():
    assert {name for name, _, _ in STORAGE} == set(encodings.REGISTRY)
    for name, _, words in STORAGE:
        used = {ROLES[r] for r in encodings.REGISTRY[name].ROLES_USED}
        assert set(words) == used, name


# --- access cost --------------------------------------------------------------------------------

# (encoding, layout, pattern, write, reads per role, writes per role, values touched,
#  popcounts, compares, adds). Reads and writes of roles not named are zero.
R, W = False, True
CASES = [
    # Crossbar: a row ⌈C/k⌉ words, a column one word per row (E), an element one word.
    ("crossbar", "P1", "row", R, {"values": 4 * 6}, {}, 24, 0, 0, 0),  # N·⌈6/1⌉; values E
    ("crossbar", "P1", "row", W, {}, {"values": 24}, 24, 0, 0, 0),
    ("crossbar", "P1", "col", R, {"values": 24}, {}, 24, 0, 0, 0),  # E
    ("crossbar", "P1", "col", W, {}, {"values": 24}, 24, 0, 0, 0),
    ("crossbar", "P1", "elem", R, {"values": 3}, {}, 3, 0, 0, 0),  # N
    ("crossbar", "P1", "elem", W, {}, {"values": 3}, 3, 0, 0, 0),
    ("crossbar", "W16", "row", R, {"values": 4 * 1}, {}, 24, 0, 0, 0),  # N·⌈6/8⌉
    ("crossbar", "W16", "row", W, {}, {"values": 4}, 24, 0, 0, 0),
    ("crossbar", "W16", "col", R, {"values": 24}, {}, 24, 0, 0, 0),  # still one word per row
    ("crossbar", "W16", "col", W, {}, {"values": 24}, 24, 0, 0, 0),
    ("crossbar", "W16", "elem", R, {"values": 3}, {}, 3, 0, 0, 0),
    ("crossbar", "W16", "elem", W, {}, {"values": 3}, 3, 0, 0, 0),
    # PB-BMP row: pointer N; bitmap N·⌈6/8⌉ = 4; values N·⌈3/1⌉ = 12; popcount and add per mask.
    ("pb-bmp", "P1", "row", R, {"pointers": 4, "bitmap": 4, "values": 12}, {}, 12, 4, 0, 4),
    ("pb-bmp", "P1", "row", W, {}, {"values": 12}, 12, 0, 0, 0),
    # col: bitmap E = 24; per non-zero (Z = 12) a pointer, a value, a popcount and an add.
    ("pb-bmp", "P1", "col", R, {"pointers": 12, "bitmap": 24, "values": 12}, {}, 12, 12, 0, 12),
    ("pb-bmp", "P1", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    # elem: bitmap N = 3; pointer and value per non-zero Z = 2.
    ("pb-bmp", "P1", "elem", R, {"pointers": 2, "bitmap": 3, "values": 2}, {}, 2, 2, 0, 2),
    ("pb-bmp", "P1", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # W16 row: bitmap 4·⌈6/16⌉ = 4; values N·row_words(3, 8) = 4·(3 + 7)/8 = 5.
    ("pb-bmp", "W16", "row", R, {"pointers": 4, "bitmap": 4, "values": 5}, {}, 12, 4, 0, 4),
    ("pb-bmp", "W16", "row", W, {}, {"values": 5}, 12, 0, 0, 0),
    ("pb-bmp", "W16", "col", R, {"pointers": 12, "bitmap": 24, "values": 12}, {}, 12, 12, 0, 12),
    ("pb-bmp", "W16", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    ("pb-bmp", "W16", "elem", R, {"pointers": 2, "bitmap": 3, "values": 2}, {}, 2, 2, 0, 2),
    ("pb-bmp", "W16", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # PB-CSR row: pointer pair N·(1 + 1/1) = 8; indices and values N·⌈3/1⌉ = 12; adds N.
    ("pb-csr", "P1", "row", R, {"pointers": 8, "indices": 12, "values": 12}, {}, 12, 0, 0, 4),
    ("pb-csr", "P1", "row", W, {}, {"values": 12}, 12, 0, 0, 0),
    # col: per position (E = 24) a cursor read, an index read and a compare; per match
    # (Z = 12) a value read, a cursor write and an add.
    (
        "pb-csr", "P1", "col", R, {"pointers": 24, "indices": 24, "values": 12},
        {"pointers": 12}, 12, 0, 24, 12,
    ),
    ("pb-csr", "P1", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    # elem: pair 3·2 = 6; binary search over row_words(3, 1) = 3 index words: ⌈log2 4⌉ = 2
    # probes each, so
    # indices 3·2 = 6, compares 3·2·1 = 6, adds 6; values Z = 2.
    ("pb-csr", "P1", "elem", R, {"pointers": 6, "indices": 6, "values": 2}, {}, 2, 0, 6, 6),
    ("pb-csr", "P1", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # W16 row: pair 4·(1 + 1/8) = 4.5; indices 4·row_words(3, 5) = 4·(3 + 4)/5 = 5.6; values
    # 4·row_words(3, 8) = 4·(3 + 7)/8 = 5.
    ("pb-csr", "W16", "row", R, {"pointers": 4.5, "indices": 5.6, "values": 5}, {}, 12, 0, 0, 4),
    ("pb-csr", "W16", "row", W, {}, {"values": 5}, 12, 0, 0, 0),
    (
        "pb-csr", "W16", "col", R, {"pointers": 24, "indices": 24, "values": 12},
        {"pointers": 12}, 12, 0, 24, 12,
    ),
    ("pb-csr", "W16", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    # elem: pair 3·1.125 = 3.375; search over row_words(3, 5) = 7/5 words: ⌈log2(7/5 + 1)⌉ =
    # ⌈log2 2.4⌉ = 2 probes, so indices 3·2 = 6, compares 3·2·5 = 30 (every index of each
    # probed word), adds 6.
    ("pb-csr", "W16", "elem", R, {"pointers": 3.375, "indices": 6, "values": 2}, {}, 2, 0, 30, 6),
    ("pb-csr", "W16", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # RLE row: pointer N = 4; runs and values N·row_words(3·F, 1) = 4·3.2 = 12.8 (12·F); an
    # add per entry decoded, Z·F = 12·16/15.
    (
        "rle", "P1", "row", R, {"pointers": 4, "runs": 12 * F, "values": 12 * F}, {}, 12, 0, 0,
        12 * F,
    ),
    ("rle", "P1", "row", W, {}, {"values": 4 * 3}, 12, 0, 0, 0),  # N·3/1: non-zeros only
    # col: cursor reads and compares per position E = 24; every entry passed (Z·F) a run read,
    # a cursor write and an add; a value read per match Z = 12.
    (
        "rle", "P1", "col", R, {"pointers": 24, "runs": 12 * F, "values": 12},
        {"pointers": 12 * F}, 12, 0, 24, 12 * F,
    ),
    ("rle", "P1", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    # elem: pointer N = 3; half a row of run words, max(1, row_words(3.2, 1)/2) = 1.6 each:
    # 3·1.6 = 4.8 runs (9·F/2) and 4.8·1 adds; a value per non-zero Z = 2.
    (
        "rle", "P1", "elem", R, {"pointers": 3, "runs": 9 * F / 2, "values": 2}, {}, 2, 0, 0,
        9 * F / 2,
    ),
    ("rle", "P1", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # W16 row: runs and values 4·row_words(3.2, 8) = 4·(3.2 + 7)/8 = 5.1 ((3·F + 7)/2).
    (
        "rle", "W16", "row", R, {"pointers": 4, "runs": (3 * F + 7) / 2, "values": (3 * F + 7) / 2},
        {}, 12, 0, 0, 12 * F,
    ),
    ("rle", "W16", "row", W, {}, {"values": 5}, 12, 0, 0, 0),  # 4·row_words(3, 8) = 4·10/8
    (
        "rle", "W16", "col", R, {"pointers": 24, "runs": 12 * F, "values": 12},
        {"pointers": 12 * F}, 12, 0, 24, 12 * F,
    ),
    ("rle", "W16", "col", W, {}, {"values": 12}, 12, 0, 0, 0),
    # elem: half row max(1, row_words(3.2, 8)/2) = max(1, 10.2/16) = 1 word: 3 runs; adds
    # decode it, 3·1·8 = 24.
    ("rle", "W16", "elem", R, {"pointers": 3, "runs": 3, "values": 2}, {}, 2, 0, 0, 24),
    ("rle", "W16", "elem", W, {}, {"values": 2}, 2, 0, 0, 0),
    # Functional (kernel walks): per synapse reached one add and two bounds compares on reads.
    # row: N·⌈8/1⌉ = 16 words, E = 16 synapses.
    ("functional", "K-P1", "row", R, {"values": 16}, {}, 16, 0, 32, 16),
    ("functional", "K-P1", "row", W, {}, {"values": 16}, 16, 0, 0, 0),
    # col: E/K² = 4 blocks of ⌈4/1⌉ = 4 words.
    ("functional", "K-P1", "col", R, {"values": 16}, {}, 16, 0, 32, 16),
    ("functional", "K-P1", "col", W, {}, {"values": 16}, 16, 0, 0, 0),
    ("functional", "K-P1", "elem", R, {"values": 3}, {}, 3, 0, 6, 3),  # N words, N synapses
    ("functional", "K-P1", "elem", W, {}, {"values": 3}, 3, 0, 0, 0),
    ("functional", "K-W16", "row", R, {"values": 2}, {}, 16, 0, 32, 16),  # 2·⌈8/8⌉
    ("functional", "K-W16", "row", W, {}, {"values": 2}, 16, 0, 0, 0),
    ("functional", "K-W16", "col", R, {"values": 4}, {}, 16, 0, 32, 16),  # 4 blocks · ⌈4/8⌉
    ("functional", "K-W16", "col", W, {}, {"values": 4}, 16, 0, 0, 0),
    ("functional", "K-W16", "elem", R, {"values": 3}, {}, 3, 0, 6, 3),
    ("functional", "K-W16", "elem", W, {}, {"values": 3}, 3, 0, 0, 0),
]  # fmt: skip


def _id(case) -> str:
    name, layout, pattern, write = case[:4]
    return f"{name}-{layout}-{pattern}-{'write' if write else 'read'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_access_cost(case):
    name, layout, pattern, write, reads, writes, values, popcounts, compares, adds = case
    walks = KERNEL_WALKS if layout.startswith("K-") else WALKS
    cost = encodings.access_cost(code(name), LAYOUTS[layout], walk(pattern, write, *walks[pattern]))
    assert_cost(cost, reads, writes, values, popcounts, compares, adds)


def assert_cost(cost, reads, writes, values, popcounts, compares, adds) -> None:
    def exact(x):  # F = 16/15, 5.6, 2.4 are no binary fractions: allow last-bit rounding only
        return pytest.approx(x, rel=1e-12, abs=1e-12)

    assert cost.reads[0].tolist() == exact([float(reads.get(r, 0)) for r in ROLES])
    assert cost.writes[0].tolist() == exact([float(writes.get(r, 0)) for r in ROLES])
    assert cost.values[0] == exact(float(values))
    assert cost.popcounts[0] == exact(float(popcounts))
    assert cost.compares[0] == exact(float(compares))
    assert cost.adds[0] == exact(float(adds))


# Rows longer than a word (W8, k > 1): a walk over x fields touches (x + k − 1)/k words. The
# unit matrix's rows (n̄ = 3, Z/N = 3) span two index words at k = 2, and a walk whose rows
# average under one non-zero (N = 4, E = 24, Z = 2: 1/2 a row) touches Z/N of a word per row.
# (walk (pattern, write, N, E, Z), reads, writes, values touched, popcounts, compares, adds)
LONG_ROWS = [
    # values nnz/4 = 3; indices nnz/2 = 6; pointers ⌈(4 + 1)/4⌉ = 2.
    ("pb-csr-storage", None, {"values": 3, "indices": 6, "pointers": 2}, {}, 0, 0, 0, 0),
    # PB-BMP row: pointers N = 4; bitmap 4·⌈6/8⌉ = 4; values 4·row_words(3, 4) = 4·(3 + 3)/4 = 6.
    ("pb-bmp", ("row", R, 4, 24, 12), {"pointers": 4, "bitmap": 4, "values": 6}, {}, 12, 4, 0, 4),
    # PB-CSR row: pair 4·(1 + 1/4) = 5; indices 4·row_words(3, 2) = 4·(3 + 1)/2 = 8 (a row of 3
    # indices spans 2 words wherever it starts); values 4·(3 + 3)/4 = 6; adds N = 4.
    ("pb-csr", ("row", R, 4, 24, 12), {"pointers": 5, "indices": 8, "values": 6}, {}, 12, 0, 0, 4),
    ("pb-csr", ("row", W, 4, 24, 12), {}, {"values": 6}, 12, 0, 0, 0),
    # elem: pair 3·1.25 = 3.75; search over row_words(3, 2) = 2 words: ⌈log2(2 + 1)⌉ = 2
    # probes, so indices 3·2 = 6, compares 3·2·2 = 12, adds 6; values Z = 2.
    (
        "pb-csr", ("elem", R, 3, 3, 2), {"pointers": 3.75, "indices": 6, "values": 2}, {}, 2, 0,
        12, 6,
    ),
    # Half-empty rows, Z/N = 1/2: indices 4·row_words(1/2, 2) = 4·(1/2 + 1/2·1)/2 = 2, values
    # 4·(1/2 + 1/2·3)/4 = 2 (= Z: a word per non-zero); pair 5; adds N = 4.
    ("pb-csr", ("row", R, 4, 24, 2), {"pointers": 5, "indices": 2, "values": 2}, {}, 2, 0, 0, 4),
    # RLE row: runs and values 4·row_words(3.2, 4) = 4·(3.2 + 3)/4 = 6.2 (3·F + 3); adds Z·F.
    (
        "rle", ("row", R, 4, 24, 12), {"pointers": 4, "runs": 3 * F + 3, "values": 3 * F + 3},
        {}, 12, 0, 0, 12 * F,
    ),
    ("rle", ("row", W, 4, 24, 12), {}, {"values": 6}, 12, 0, 0, 0),  # 4·(3 + 3)/4
]  # fmt: skip


def _long_id(case) -> str:
    name, w = case[:2]
    return name if w is None else f"{name}-{w[0]}-{'write' if w[1] else 'read'}-Z{w[4]}"


@pytest.mark.parametrize("case", LONG_ROWS, ids=_long_id)
def test_rows_longer_than_a_word(case):
    name, w, reads, writes, values, popcounts, compares, adds = case
    g = LAYOUTS["W8"]
    if w is None:  # storage
        got = encodings.storage_words(code(name.removesuffix("-storage")), g)[0]
        assert got.tolist() == [float(reads.get(r, 0)) for r in ROLES]
        return
    cost = encodings.access_cost(code(name), g, walk(*w))
    assert_cost(cost, reads, writes, values, popcounts, compares, adds)


def test_every_encoding_pattern_and_op_is_covered():
    got = {(c[0], c[2], c[3]) for c in CASES}
    want = {(n, p, w) for n in encodings.REGISTRY for p in PATTERNS for w in (R, W)}
    assert got == want
    for name in ("crossbar", "pb-bmp"):
        assert {c[1] for c in CASES if c[0] == name} == {"P1", "W16"}


def test_a_batch_prices_each_row_under_its_own_encoding():
    """access_cost dispatches per row: a mixed batch equals the rows priced one at a time."""
    picks = [c for c in CASES if c[1] in ("P1", "W16") and c[2] == "col" and not c[3]]
    layouts = [LAYOUTS[c[1]] for c in picks]
    batch_layout = Layout(
        **{f: np.concatenate([getattr(g, f) for g in layouts]) for f in Layout.__dataclass_fields__}
    )
    n, e, z = WALKS["col"]
    m = len(picks)
    batch = Walk(
        pattern=np.full(m, PATTERNS["col"]), is_write=np.zeros(m, bool), n=np.full(m, float(n)),
        e=np.full(m, float(e)), z=np.full(m, float(z)),
    )  # fmt: skip
    codes = np.array([encodings.CODES[c[0]] for c in picks])
    cost = encodings.access_cost(codes, batch_layout, batch)
    for i, case in enumerate(picks):
        reads = case[4]
        want = [float(reads.get(r, 0)) for r in ROLES]  # RLE's 12·F: allow the last bit
        assert cost.reads[i].tolist() == pytest.approx(want, rel=1e-12, abs=1e-12)


# --- end to end: one fully connected layer pass through the estimator ---------------------------
#
# fc_pass(8 rows, 6 cols, density 1/2, 2 bits): nnz = round(0.5·48) = 24, n̄ = 3. Access rows:
# forward read row (N=8, E=48, Z=24); backward read row, traversal row (8, 48, 24); backward
# read col, traversal col (N=6, E=48, Z=24); update read and write row (8, 48, 24).
# Arch defaults: P=1, bitmap_bits 8, run_bits 4, banks 1. Widths: values 2 bits, pointers
# ⌈log2(24 + 1)⌉ = 5, indices ⌈log2 6⌉ = 3, runs 4.
# RLE: L = 2⁴ = 16 > C = 6, so no zero run in a row reaches L: no fillers (f = 0), a row holds
# n̄ = 3 entries and a column walk passes Z = 24. (The unit-matrix cases above price fillers.)

FC_AREA = {
    "crossbar": {"values": (2, 8 * 6)},  # R·⌈C/1⌉
    # values nnz/1 = 24; bitmap R·⌈6/8⌉ = 8; pointers ⌈R/1⌉ = 8
    "pb-bmp": {"values": (2, 24), "bitmap": (8, 8), "pointers": (5, 8)},
    # values and indices nnz/1 = 24; pointers ⌈(R+1)/1⌉ = 9
    "pb-csr": {"values": (2, 24), "indices": (3, 24), "pointers": (5, 9)},
    # values and runs R·n̄·(1 + 0)/1 = 8·3 = 24; pointers ⌈8/1⌉ = 8
    "rle": {"values": (2, 24), "runs": (4, 24), "pointers": (5, 8)},
}
# Per stage (backward split by traversal): {(op, array): accesses}.
FC_ACCESSES = {
    "crossbar": {
        "forward": {("read", "values"): 8 * 6},  # N·⌈6/1⌉
        "row": {("read", "values"): 48},
        "col": {("read", "values"): 48},  # E
        "update": {("read", "values"): 48, ("write", "values"): 48},
    },
    "pb-bmp": {
        # pointers N; bitmap N·⌈6/8⌉; values N·row_words(3, 1) = 8·3
        "forward": {("read", "pointers"): 8, ("read", "bitmap"): 8, ("read", "values"): 24},
        "row": {("read", "pointers"): 8, ("read", "bitmap"): 8, ("read", "values"): 24},
        # pointers Z; bitmap E; values Z
        "col": {("read", "pointers"): 24, ("read", "bitmap"): 48, ("read", "values"): 24},
        "update": {
            ("read", "pointers"): 8, ("read", "bitmap"): 8, ("read", "values"): 24,
            ("write", "values"): 24,
        },
    },
    "pb-csr": {
        # pointer pair N·2; indices and values N·row_words(3, 1) = 8·3
        "forward": {("read", "pointers"): 16, ("read", "indices"): 24, ("read", "values"): 24},
        "row": {("read", "pointers"): 16, ("read", "indices"): 24, ("read", "values"): 24},
        # cursor and index per position E = 48; value and cursor write per match Z = 24
        "col": {
            ("read", "pointers"): 48, ("read", "indices"): 48, ("read", "values"): 24,
            ("write", "pointers"): 24,
        },
        "update": {
            ("read", "pointers"): 16, ("read", "indices"): 24, ("read", "values"): 24,
            ("write", "values"): 24,
        },
    },
    "rle": {
        # pointer N; runs and values N·row_words(3·1, 1) = 8·3
        "forward": {("read", "pointers"): 8, ("read", "runs"): 24, ("read", "values"): 24},
        "row": {("read", "pointers"): 8, ("read", "runs"): 24, ("read", "values"): 24},
        # cursor E = 48; runs and cursor writes Z·1 = 24; values Z = 24
        "col": {
            ("read", "pointers"): 48, ("read", "runs"): 24, ("read", "values"): 24,
            ("write", "pointers"): 24,
        },
        "update": {
            ("read", "pointers"): 8, ("read", "runs"): 24, ("read", "values"): 24,
            ("write", "values"): 8 * 3,  # non-zeros only: N·row_words(3, 1)
        },
    },
}  # fmt: skip


def weight_arch(encoding: str, **memory) -> Arch:
    mem = {"name": "weights", "encoding": encoding, "holds": ["weight"], **memory}
    data = {"name": f"x-{encoding}", "tech_node_nm": 45, "clock_hz": 1e8, "memories": [mem]}
    return validate(Arch, data, "test")


@pytest.fixture(scope="module")
def fc_trace(tmp_path_factory):
    return load_trace(layer_pass.fc_pass(tmp_path_factory.mktemp("fc") / "t", 8, 6, 0.5, 2))


@pytest.fixture(scope="module")
def conv_trace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conv") / "t"
    return load_trace(layer_pass.conv_pass(folder, 2, 4, 3, 6, 0.5, 4))


def _stage_accesses(energy, stage: str) -> dict:
    rows = energy[(energy.component == "memory") & (energy.stage == stage)]
    return {(op, arr): n for op, arr, n in zip(rows.op, rows.array, rows.accesses, strict=True)}


def _rounded(counts: dict) -> dict:
    return {key: round(float(n)) for key, n in counts.items()}


@pytest.mark.parametrize("propagation", ["row", "col"])
@pytest.mark.parametrize("name", sorted(FC_AREA))
def test_fc_pass_end_to_end(fc_trace, name, propagation):
    ev = estimate.evaluate([(weight_arch(name, propagation=propagation), fc_trace)])
    area = tables.area_table(ev)
    got_area = {a: (w, d) for a, w, d in zip(area.array, area.word_bits, area.depth, strict=True)}
    assert got_area == FC_AREA[name]
    assert area.capacity_bits.tolist() == [w * d for w, d in area[["word_bits", "depth"]].values]

    energy = tables.energy_table(ev)
    want = FC_ACCESSES[name]
    assert _stage_accesses(energy, "forward") == _rounded(want["forward"])
    assert _stage_accesses(energy, "backward") == _rounded(want[propagation])
    assert _stage_accesses(energy, "update") == _rounded(want["update"])
    assert tables.traversal_table(ev).propagation.tolist() == [propagation]

    # Controller: one cycle per array access of an access row (a PB-CSR or RLE column walk's
    # cursor writes belong to its read row); the update's read and write rows separately.
    ctrl = energy[energy.component == "controller"]
    per_cycle = float(datapath.controller_J(45.0))
    for stage, key in (("forward", "forward"), ("backward", propagation)):
        hand = sum(float(n) for n in want[key].values())
        sel = ctrl[ctrl.stage == stage]
        assert sel.op.tolist() == ["read"]
        assert sel.energy_J.sum() == pytest.approx(hand * per_cycle, rel=1e-12)
        assert sel.accesses.sum() == round(hand)
    for op in ("read", "write"):
        hand = sum(float(n) for (o, _), n in want["update"].items() if o == op)
        sel = ctrl[(ctrl.stage == "update") & (ctrl.op == op)]
        assert sel.energy_J.sum() == pytest.approx(hand * per_cycle, rel=1e-12)
        assert sel.accesses.sum() == round(hand)


@pytest.mark.parametrize("name", sorted(FC_AREA))
def test_auto_propagation_keeps_the_cheaper_variant(fc_trace, name):
    props = ("auto", "row", "col")
    ev = estimate.evaluate([(weight_arch(name, propagation=p), fc_trace) for p in props])
    s = ev.summary()
    dynamic = (s.train_memory_J + s.train_controller_J + s.train_datapath_J).tolist()
    auto, row, col = dynamic
    assert auto == pytest.approx(min(row, col), rel=1e-12)
    chosen = tables.traversal_table(ev, 0).propagation.tolist()
    assert chosen == ["row" if row <= col else "col"]
    # The two variants do differ (otherwise the check above proves nothing).
    assert row != pytest.approx(col, rel=1e-9)


@pytest.mark.parametrize("name", list(encodings.REGISTRY))
def test_every_registered_encoding_evaluates(fc_trace, conv_trace, name):
    traces = [conv_trace] if encodings.kernels_only(name) else [fc_trace, conv_trace]
    for propagation in ("auto", "row", "col"):
        arch = weight_arch(name, propagation=propagation)
        s = estimate.evaluate([(arch, t) for t in traces]).summary()
        for col in ("train_J", "train_memory_J", "train_controller_J", "area_m2", "capacity_bits"):
            assert np.isfinite(s[col]).all() and (s[col] > 0).all(), (name, propagation, col)


def test_functional_stores_the_kernel_once(conv_trace):
    # conv 2→4, 3×3: I = 2 rows of O·K² = 36 values, 4 bits each, P = 1: 2·36 words.
    area = tables.area_table(estimate.evaluate([(weight_arch("functional"), conv_trace)]))
    assert area[["array", "word_bits", "depth"]].values.tolist() == [["values", 4, 72]]


def test_functional_refuses_a_fully_connected_weight(fc_trace):
    with pytest.raises(QsnnError, match=r"fc1\.weight") as err:
        estimate.evaluate([(weight_arch("functional"), fc_trace)])
    assert "functional" in str(err.value) and "fully connected" in str(err.value)


def test_unrolled_conv_storage_stores_more_and_costs_more(conv_trace):
    """conv_pass(in 2, out 4, k 3, image 6, density 1/2, 4 bits) in PB-CSR."""
    shared = weight_arch("pb-csr", conv_storage="kernel-shared")
    unrolled = weight_arch("pb-csr", conv_storage="unrolled")
    ev = estimate.evaluate([(shared, conv_trace), (unrolled, conv_trace)])
    s = ev.summary()
    assert s.area_m2[1] > s.area_m2[0]
    assert s.capacity_bits[1] > s.capacity_bits[0]
    assert s.train_J[1] > s.train_J[0]
    # Kernel-shared: 2 input-channel rows of 4·9 = 36 positions, nnz = round(0.5·72) = 36,
    # n̄ = 18; pointers ⌈log2(36 + 1)⌉ = 6 bits; indices ⌈log2 36⌉ = 6 bits. values and
    # indices 2·⌈18/1⌉ = 36 words; pointers ⌈3/1⌉ = 3; a pointer per input pixel 2·6·6 = 72.
    area = tables.area_table(ev, 0)
    got = {a: (w, d) for a, w, d in zip(area.array, area.word_bits, area.depth, strict=True)}
    assert got == {
        "values": (4, 36), "indices": (6, 36), "pointers": (6, 3), "pixels": (6, 72),
    }  # fmt: skip
    assert "pixels" not in set(tables.area_table(ev, 1).array)


# --- rows back to back at one field per word; fillers only where a run can reach 2^r ---

P1_WIDTH = {"values": 2, "bitmap": 8, "pointers": 4, "indices": 3, "runs": 2, "pixels": 4}
P1_FIELDS = {"values": 1, "bitmap": 8, "pointers": 1, "indices": 1, "runs": 1, "pixels": 1}


@pytest.mark.parametrize("name", ["pb-bmp", "pb-csr"])
def test_p1_row_walk_reads_each_non_zero_once(name):
    cost = encodings.access_cost(code(name), LAYOUTS["P1"], walk("row", False, 2, 12, 5))
    assert cost.reads[0][ROLES.index("values")] == 2 + 3


@pytest.mark.parametrize("name", ["pb-bmp", "pb-csr"])
def test_p1_storage_is_one_word_per_non_zero(name):
    g = make_layout(4, 6, 9, 2, P1_WIDTH, P1_FIELDS, ptr=4, idx=3, run=2)  # ⌈log2(9+1)⌉ = 4
    assert encodings.storage_words(code(name), g)[0][ROLES.index("values")] == 9


def test_rle_short_rows_need_no_fillers():
    g = make_layout(4, 6, 12, 2, P1_WIDTH, P1_FIELDS, ptr=4, idx=3, run=4)
    assert encodings.storage_words(code("rle"), g)[0][ROLES.index("values")] == 4 * 3
