"""Sweep grids: axis names, tied axes, sweep files, expansion, and one clear error per bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.sweep import expand, parse_grid_option, read_sweep_file
from qsnn_mem.sweep.spec import Sweep, check_grid

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "workloads" / "smile_quick.yaml"


def sweep(*grid: str, trials: int = 1, overrides: list[str] | None = None) -> Sweep:
    axes = [parse_grid_option(g) for g in grid]
    check_grid(axes, "--grid")
    return Sweep(QUICK, overrides or [], trials, {"grid": axes} if axes else {})


def test_aliases_seed_names_and_field_names_map_to_fields():
    assert parse_grid_option("weight=2,3").fields == ("weight_bits",)
    assert parse_grid_option("global_eb=6").fields == ("error_bits",)
    assert parse_grid_option("nb_hidden=10,20").values == (10, 20)
    tied = parse_grid_option("state,error=6,7,8")
    assert tied.fields == ("state_bits", "error_bits") and tied.values == (6, 7, 8)


def test_cross_product_times_trials_with_tied_axes():
    points = expand(sweep("weight=2,3,4", "state,error=6,8", trials=2))
    assert len(points) == 12
    ids = [p.id for p in points]
    assert ids[:4] == ["w2a6g8e6_seed0", "w2a6g8e6_seed1", "w2a8g8e8_seed0", "w2a8g8e8_seed1"]
    p = points[1]
    assert (p.cfg.weight_bits, p.cfg.state_bits, p.cfg.error_bits, p.cfg.seed) == (2, 6, 6, 1)
    assert p.cfg.grad_bits == 8  # untouched fields keep the workload's value


def test_axes_beyond_precisions_appear_in_the_folder_name():
    points = expand(sweep("weight=2", "nb_hidden=10,20"))
    assert [p.id for p in points] == ["w2a8g8e8_nb_hidden10_seed0", "w2a8g8e8_nb_hidden20_seed0"]


def test_no_grid_is_one_point_per_trial():
    assert [p.id for p in expand(sweep(trials=3))] == [
        "w2a8g8e8_seed0", "w2a8g8e8_seed1", "w2a8g8e8_seed2"
    ]  # fmt: skip


def test_paper_sweep_file_has_both_grids_and_shares_their_common_points():
    spec = read_sweep_file(ROOT / "workloads" / "iscas_sweep.yaml")
    assert spec.trials == 5 and set(spec.grids) == {"state_error", "gradient"}
    points = expand(spec)
    assert len(points) == 2 * 25 * 5 - 25
    shared = [p for p in points if len(p.grids) == 2]
    assert len(shared) == 25
    assert {p.cfg.state_bits for p in shared} == {12} and {p.cfg.grad_bits for p in shared} == {8}
    ab_eb = {(p.cfg.state_bits, p.cfg.error_bits) for p in points}
    assert all(a == e for a, e in ab_eb)
    assert {p.cfg.weight_bits for p in points} == {2, 3, 4, 5, 6}
    assert all(p.cfg.nb_epochs == 10000 for p in points)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("colour=2,3", "unknown grid axis 'colour'"),
        ("weight=", "grid axis 'weight' has no values"),
        ("weight", "expected AXIS=V1,V2"),
        ("seed=1,2", "cannot be swept (seeds come from --trials"),
        ("weight,global_wb=2", "names field 'weight_bits' twice"),
    ],
)
def test_bad_grid_options(grid, message):
    with pytest.raises(QsnnError, match=re.escape(message)):
        parse_grid_option(grid)


def test_value_not_allowed_names_axis_value_and_field():
    with pytest.raises(QsnnError) as err:
        expand(sweep("weight=2,1"))
    text = str(err.value)
    assert "axis 'weight' value 1 is not allowed" in text and "weight_bits" in text


def test_same_field_twice_and_set_clash():
    with pytest.raises(QsnnError, match="set by both axis 'weight' and 'global_wb'"):
        sweep("weight=2", "global_wb=3")
    with pytest.raises(QsnnError, match=r"both set .* and swept"):
        expand(sweep("weight=2,3", overrides=["global_wb=4"]))


def test_missing_workload():
    with pytest.raises(QsnnError, match="file not found"):
        expand(Sweep(Path("nope.yaml"), [], 1, {}))


def test_sweep_file_rejects_unknown_keys_and_empty_grids(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text(f"workload: {QUICK}\nsweep:\n  trials: 2\n  grids: {{g: {{weight: [2]}}}}\n"
                   "  trails: 3\n")  # fmt: skip
    with pytest.raises(QsnnError, match=re.escape("unknown field 'sweep.trails'")):
        read_sweep_file(bad)
    bad.write_text(f"workload: {QUICK}\nsweep:\n  grids: {{g: {{weight: []}}}}\n")
    with pytest.raises(QsnnError, match="has no values"):
        read_sweep_file(bad)
    bad.write_text("workload: missing.yaml\nsweep:\n  grids: {g: {weight: [2]}}\n")
    with pytest.raises(QsnnError, match=re.escape("missing.yaml: file not found")):
        expand(read_sweep_file(bad))
