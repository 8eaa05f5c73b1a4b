"""Table lookup rules on a small hand-made table (no CACTI needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import table

NODES, WORDS, EXPS = (45, 65), (8, 16, 32, 64), (10, 11, 12)
STEP = 1.5  # a power of two (CACTI's own choice) costs this much more than the cell's law
ROW = 4  # words per row across the subarrays: the first and last row of a cell are steps


def interior(node: float, cap: float, word: int) -> np.ndarray:
    """A known law inside cells: value ∝ node · word^0.3 · capacity^0.5 (all five quantities)."""
    return node * word**0.3 * cap**0.5 * np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def first_and_last(k: int, word: int) -> tuple[int, int]:
    return 2**k + ROW * word, 2 ** (k + 1) - ROW * word


@pytest.fixture
def small_table(tmp_path) -> str:
    rows = []

    def add(point, node, word, cap, k, v):
        config = {"node_nm": node, "word_bits": word, "banks": 1, "ports": 1}
        rows.append({"point": point, **config, "capacity_bits": cap, "cell_exp": k, "v": v})

    for node in NODES:
        for word in WORDS:
            for k in EXPS:
                add("top", node, word, 2**k, -1, STEP * interior(node, 2**k, word))
            for k in EXPS[:-1]:
                first, last = first_and_last(k, word)
                caps = np.geomspace(first, last, table.CELL_POINTS) // word * word
                for i, cap in enumerate(caps):
                    add(f"p{i}", node, word, int(cap), k, interior(node, cap, word))
    frame = pd.DataFrame(rows)
    values = np.stack(frame.pop("v").to_numpy())
    for i, q in enumerate(table.QUANTITIES):
        frame[q] = values[:, i]
    frame["source"] = "cacti7"
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    table.load.cache_clear()
    return str(path)


def look(path, node, cap, word):
    return table.lookup(node, cap, word, 1, 1, path=path)[0]


def test_powers_of_two_give_the_top_point(small_table):
    assert look(small_table, 45, 2**11, 64) == pytest.approx(STEP * interior(45, 2**11, 64))


def test_inside_a_cell_the_interior_law_is_followed(small_table):
    first, last = first_and_last(10, 64)
    for cap in (first, 1500 // 64 * 64, 1800 // 64 * 64, last):
        assert look(small_table, 45, cap, 64) == pytest.approx(interior(45, cap, 64), rel=1e-12)


def test_a_cells_first_and_last_row_cost_their_neighbours(small_table):
    first, last = first_and_last(10, 32)
    assert look(small_table, 65, 1024 + 32, 32) == pytest.approx(interior(65, first, 32))
    assert look(small_table, 65, last + 32, 32) == pytest.approx(STEP * interior(65, 2048, 32))


def test_nodes_are_linear_between_calibrated_ones(small_table):
    cap = 3000 // 32 * 32
    got = look(small_table, 50, cap, 32)
    want = 0.75 * interior(45, cap, 32) + 0.25 * interior(65, cap, 32)
    assert got == pytest.approx(want, rel=1e-12)


def test_odd_widths_interpolate_geometrically_at_the_same_depth(small_table):
    depth = 40
    got = look(small_table, 45, depth * 48, 48)
    narrow, wide = look(small_table, 45, depth * 32, 32), look(small_table, 45, depth * 64, 64)
    t = np.log2(48 / 32)
    assert got == pytest.approx(narrow ** (1 - t) * wide**t, rel=1e-12)


def test_widths_below_8_bits_are_scaled_from_8(small_table):
    got, eight = look(small_table, 45, 300 * 6, 6), look(small_table, 45, 300 * 8, 8)
    r = 6 / 8
    assert got[:2] == pytest.approx(eight[:2] * (0.7 * r + 0.3), rel=1e-12)
    assert got[2:4] == pytest.approx(eight[2:4] * r, rel=1e-12)


def test_below_the_grid_energy_scales_with_exponent_078(small_table):
    got = look(small_table, 45, 512, 32)
    top = STEP * interior(45, 1024, 32)
    assert got[:2] == pytest.approx(top[:2] * 0.5**0.78, rel=1e-12)
    assert got[2:4] == pytest.approx(top[2:4] * 0.5, rel=1e-12)


def test_lookup_broadcasts_arrays(small_table):
    caps = np.array([1100, 2**11, 3000]) // 32 * 32
    batch = table.lookup(45, caps, 32, 1, 1, path=small_table)
    assert batch.shape == (3, 5)
    for row, cap in zip(batch, caps, strict=True):
        assert row == pytest.approx(look(small_table, 45, cap, 32), rel=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((30, 2048, 32, 1, 1), "tech_node_nm = 30 is outside"),
        ((45, 2048, 32, 2, 1), r"banks = 2 is not in the CACTI table \(allowed: 1\)"),
        ((45, 2048, 100, 1, 1), "word_bits = 100 is outside"),
        ((45, 2**13, 32, 1, 1), "above the CACTI table's largest .*use backend: cacti"),
    ],
)
def test_outside_the_table_is_a_clear_error(small_table, args, message):
    with pytest.raises(QsnnError, match=message):
        table.lookup(*args, path=small_table)


def test_a_table_with_holes_is_rejected(small_table, tmp_path):
    frame = pd.read_csv(small_table)
    broken = tmp_path / "broken.csv"
    frame.drop(index=5).to_csv(broken, index=False)
    with pytest.raises(QsnnError, match="holes"):
        table.lookup(45, 2048, 32, 1, 1, path=str(broken))
