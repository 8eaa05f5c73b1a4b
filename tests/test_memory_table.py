"""Table lookup rules on a small hand-made table, and properties of the committed table
(no CACTI needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import table

NODES, WORDS, EXPS = (45, 65), (8, 16, 32, 64), (10, 11, 12, 13)
# At 45 nm, 32-bit words, 2^12 bits CACTI's own choice is cheaper than at 2^11 (as it sometimes
# is): read energy by DIP_READ, cycle time by DIP_CYCLE.
DIP_AT, DIP_READ, DIP_CYCLE = (45, 32, 12), 0.5, 0.6


def law(node: float, cap: float, word: int) -> np.ndarray:
    """A known power law: value ∝ node · word^0.3 · capacity^0.5 (all five quantities)."""
    return node * word**0.3 * cap**0.5 * np.array([1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.fixture
def small_table(tmp_path) -> str:
    rows = []
    for node in NODES:
        for word in WORDS:
            for k in EXPS:
                v = law(node, 2**k, word)
                if (node, word, k) == DIP_AT:
                    v[0] *= DIP_READ
                    v[4] *= DIP_CYCLE
                config = {"node_nm": node, "capacity_bits": 2**k, "word_bits": word}
                costs = dict(zip(table.QUANTITIES, v, strict=True))
                rows.append({**config, "banks": 1, "ports": 1, **costs})
    frame = pd.DataFrame(rows).assign(source="cacti7")
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    table.load.cache_clear()
    return str(path)


def look(path, node, cap, word):
    return table.lookup(node, cap, word, 1, 1, path=path)[0]


def test_powers_of_two_give_the_table_row(small_table):
    assert look(small_table, 45, 2**11, 64) == pytest.approx(law(45, 2**11, 64), rel=1e-12)


def test_between_powers_of_two_log_value_is_linear_in_log_capacity(small_table):
    # A power law is linear in log-log, so geometric interpolation reproduces it exactly.
    for cap in (1024 + 64, 1500 // 64 * 64, 3000 // 64 * 64, 8192 - 64):
        assert look(small_table, 45, cap, 64) == pytest.approx(law(45, cap, 64), rel=1e-12)


def test_a_dip_at_a_larger_size_is_raised_to_the_smaller_sizes_cost(small_table):
    at_11, at_12 = law(45, 2**11, 32), law(45, 2**12, 32)
    got = look(small_table, 45, 2**12, 32)
    assert got[0] == pytest.approx(at_11[0], rel=1e-12)  # raised to 2^11's read energy
    assert got[1:4] == pytest.approx(at_12[1:4], rel=1e-12)  # the others did not dip
    assert got[4] == pytest.approx(DIP_CYCLE * at_12[4], rel=1e-12)  # cycle time as it is
    # inside the cells on both sides, interpolated from the raised value
    assert look(small_table, 45, 3000 // 32 * 32, 32)[0] == pytest.approx(at_11[0], rel=1e-12)
    cap, at_13 = 6000 // 32 * 32, law(45, 2**13, 32)
    s = np.log2(cap) - 12
    want = at_11[0] ** (1 - s) * at_13[0] ** s
    assert look(small_table, 45, cap, 32)[0] == pytest.approx(want, rel=1e-12)


def test_nodes_are_linear_between_calibrated_ones(small_table):
    cap = 3000 // 32 * 32
    got = look(small_table, 50, cap, 16)
    want = 0.75 * law(45, cap, 16) + 0.25 * law(65, cap, 16)
    assert got == pytest.approx(want, rel=1e-12)


def test_odd_widths_interpolate_geometrically_at_the_same_depth(small_table):
    depth = 40
    got = look(small_table, 45, depth * 48, 48)
    narrow, wide = look(small_table, 45, depth * 32, 32), look(small_table, 45, depth * 64, 64)
    t = np.log2(48 / 32)
    assert got == pytest.approx(narrow ** (1 - t) * wide**t, rel=1e-12)


@pytest.mark.parametrize("word", [1, 2, 3, 4, 6, 7])
def test_narrow_words_cost_8_bit_words_of_the_same_capacity(small_table, word):
    depth = 1100
    got = look(small_table, 45, depth * word - word + 1, word)  # a partial word rounds up
    assert got == pytest.approx(law(45, depth * word, 8), rel=1e-12)
    if depth * word % 8 == 0:
        assert got == pytest.approx(look(small_table, 45, depth * word, 8), rel=1e-12)


def test_below_the_grid_energy_scales_with_exponent_078(small_table):
    got = look(small_table, 45, 512, 64)
    smallest = law(45, 1024, 64)
    assert got[:2] == pytest.approx(smallest[:2] * 0.5**0.78, rel=1e-12)
    assert got[2:4] == pytest.approx(smallest[2:4] * 0.5, rel=1e-12)
    assert got[4] == pytest.approx(smallest[4], rel=1e-12)
    tiny = look(small_table, 45, 100, 2)  # 2-bit words: 8-bit words of 100 bits
    assert tiny[:2] == pytest.approx(
        smallest[:2] * (8 / 64) ** 0.3 * (100 / 1024) ** 0.78, rel=1e-6, abs=0
    )


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
        ((45, 2**14, 32, 1, 1), "above the CACTI table's largest .*use backend: cacti"),
        ((45, 2**13, 48, 1, 1), "in 48-bit words \\(priced up to 10944 bits\\)"),
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


# The committed table.

configs = st.tuples(
    st.floats(22, 90), st.sampled_from(table.GRID["banks"]), st.sampled_from(table.GRID["ports"])
)


@settings(max_examples=200, deadline=None)
@given(configs, st.integers(1, 256), st.lists(st.floats(3, 22), min_size=2, max_size=6))
def test_cost_is_non_decreasing_in_capacity(config, word, log_caps):
    node, banks, ports = config
    caps = np.sort((2 ** np.array(log_caps)).astype(int))
    got = table.lookup(node, caps, word, banks, ports)
    assert (np.diff(got[:, :4], axis=0) >= 0).all()  # read, write, leakage, area


@settings(max_examples=200, deadline=None)
@given(configs, st.integers(1, 2**16), st.lists(st.integers(1, 256), min_size=2, max_size=6))
def test_read_energy_is_non_decreasing_in_width_at_fixed_depth(config, depth, words):
    node, banks, ports = config
    words = np.sort(words)
    words = words[depth * 2 * words <= table.GRID["capacity_bits"][-1]]
    read = table.lookup(node, depth * words, words, banks, ports)[:, 0]
    assert (np.diff(read) >= 0).all()


def test_one_word_past_a_power_of_two_costs_at_most_a_few_percent_more():
    # At least 64 words deep; measured at most 2.4 % (leakage), 1.2 % read (docs/sram.md).
    node, word, banks, ports, cap = (
        a.ravel() for a in np.meshgrid(*(table.GRID[k] for k in table.GRID), indexing="ij")
    )
    keep = (cap >= 64 * word) & (cap < table.GRID["capacity_bits"][-1])
    at = [a[keep] for a in (node, cap, word, banks, ports)]
    here = table.lookup(*at)
    above = table.lookup(at[0], at[1] + at[2], *at[2:])
    assert (above[:, :4] >= here[:, :4]).all()  # cycle time may also fall a little
    assert np.abs(np.log(above / here)).max() < np.log(1.03)


def test_every_width_is_priced_up_to_2_25_bits():
    words = np.arange(1, 257)
    got = table.lookup(45, 2**25, words, 8, 2)
    assert np.isfinite(got).all() and (got > 0).all()


def test_narrow_words_in_the_committed_table():
    for word in (1, 2, 5):
        got = table.lookup(32, 600 * word, word, 4, 2)
        assert got == pytest.approx(table.lookup(32, 600 * word, 8, 4, 2), rel=1e-12)


def test_ten_thousand_lookups_are_fast():
    import time

    points = table.off_grid_sample(10_000, seed=3)
    table.lookup(*points[:1].T)
    t0 = time.perf_counter()
    table.lookup(*points.T)
    assert time.perf_counter() - t0 < 0.5
