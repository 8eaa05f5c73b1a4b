"""DECOLLE through sweeps: grid axes, point ids and the index come from the task, and a 2-point
sweep runs and resumes; loading a workload picks its schema through the task registry."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from qsnn_mem import tasks
from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.sweep import MARKER, expand, parse_grid_option
from qsnn_mem.sweep.spec import Sweep
from qsnn_mem.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "workloads" / "decolle_quick.yaml"
# decolle_quick shrunk to a few seconds per point.
TINY = ["epochs=1", "max_batches=2", "generated.train_samples=20", "generated.test_samples=8",
        "validation_fraction=0"]  # fmt: skip


def test_short_axis_names_mean_each_tasks_own_fields():
    assert parse_grid_option("weight=4", "decolle").fields == ("weight_bits",)
    assert parse_grid_option("state=4", "decolle").fields == ("mem_bits",)
    assert parse_grid_option("state=4", "smile").fields == ("state_bits",)
    assert parse_grid_option("global_qb=8", "decolle").fields == ("q_bits",)


def test_unknown_axis_lists_the_tasks_names():
    with pytest.raises(QsnnError) as err:
        parse_grid_option("state_bits=4", "decolle")
    text = str(err.value)
    assert "unknown grid axis 'state_bits'" in text
    assert "mem_bits" in text and "state," in text and "seed name such as global_wb" in text


def test_point_ids_use_the_tasks_precision_tag():
    axes = [parse_grid_option("state=4,8", "decolle"), parse_grid_option("burn_in=5", "decolle")]
    points = expand(Sweep(QUICK, list(TINY), 1, {"g": axes}))
    assert [p.id for p in points] == [
        "w8u4p12q10r2s6a6sig6e6g10_burn_in5_seed0", "w8u8p12q10r2s6a6sig6e6g10_burn_in5_seed0"
    ]  # fmt: skip
    assert [p.cfg.mem_bits for p in points] == [4, 8]


def test_cli_sweep_runs_two_points_and_resumes(tmp_path, capsys):
    out = tmp_path / "sw"
    sets = [x for s in TINY for x in ("--set", s)]
    args = ["sweep", str(QUICK), "--grid", "weight=4,6", "--out", str(out), "-q", *sets]
    assert main(args) == 0
    index = pd.read_csv(out / "sweep.csv")
    assert sorted(index["weight_bits"]) == [4, 6] and set(index["status"]) == {"done"}
    precision = list(tasks.get("decolle").precision_fields)
    assert list(index.columns[3 : 3 + len(precision)]) == precision
    for folder in index["folder"]:
        for name in ("trace.json", "accesses.csv", "tensors.csv", MARKER):
            assert (out / folder / name).is_file(), (folder, name)
    capsys.readouterr()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 already done, 0 to run" in text and "0 ran, 2 skipped" in text


def test_nested_set_keeps_the_files_other_keys(tmp_path):
    file = tmp_path / "w.yaml"
    file.write_text("task: decolle\ndata-set: generated\ngenerated: {classes: 3, sensor: 64}\n")
    cfg = load_workload(file, ["generated.train_samples=20"])
    assert (cfg.generated.classes, cfg.generated.sensor, cfg.generated.train_samples) == (3, 64, 20)


def test_unknown_task_names_file_field_value_and_tasks(tmp_path):
    file = tmp_path / "w.yaml"
    file.write_text("task: nope\n")
    message = f"w.yaml: field 'task' = 'nope' (allowed: {', '.join(tasks.REGISTRY)})"
    with pytest.raises(QsnnError, match=re.escape(message)):
        load_workload(file)
