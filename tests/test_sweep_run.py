"""Running sweeps: in process, on a real local Dask cluster, resumed after SIGKILL, with a failing
point, and the command's messages for bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from qsnn_mem import runner
from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.sweep import MARKER, parse_grid_option, plan, run
from qsnn_mem.sweep import point as point_mod
from qsnn_mem.sweep.spec import Sweep

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "workloads" / "smile_quick.yaml"
# The smile task shrunk to a second per point.
TINY = ["nb_epochs=2", "nb_hidden=20", "nb_steps=60", "nb_inputs=60", "nb_outputs=30", "device=cpu"]
RUN_FILES = point_mod.RUN_FILES


def tiny_sweep(*grid: str, trials: int = 2) -> Sweep:
    return Sweep(QUICK, list(TINY), trials, {"g": [parse_grid_option(g) for g in grid]})


def check_done(folder: Path, ids: list[str]) -> pd.DataFrame:
    index = pd.read_csv(folder / "sweep.csv")
    assert sorted(index["point"]) == sorted(ids)
    assert set(index["status"]) == {"done"}
    for pid in ids:
        marker = json.loads((folder / pid / MARKER).read_text())
        assert marker["point"] == pid
        assert all((folder / pid / f).is_file() for f in RUN_FILES)
        assert not list((folder / pid).glob(".*.tmp"))
    return index


def test_local_sweep_3x2x2_then_rerun_skips_everything(tmp_path):
    pl = plan(tiny_sweep("weight=2,3,4", "state,error=6,8"), tmp_path / "sw")
    assert len(pl.jobs) == 12
    summary = run(pl)
    assert summary.ok and len(summary.ran) == 12 and not summary.skipped
    index = check_done(tmp_path / "sw", [j.id for j in pl.jobs])
    row = index.set_index("point").loc["w3a8g8e8_seed1"]
    assert (row.weight_bits, row.state_bits, row.error_bits, row.seed) == (3, 8, 8, 1)
    cfg = json.loads((tmp_path / "sw" / "w3a8g8e8_seed1" / "run.json").read_text())["config"]
    assert (cfg["weight_bits"], cfg["state_bits"], cfg["error_bits"], cfg["seed"]) == (3, 8, 8, 1)
    assert (tmp_path / "sw" / "sweep.yaml").is_file()

    again = plan(tiny_sweep("weight=2,3,4", "state,error=6,8"), tmp_path / "sw")
    assert not again.jobs and len(again.summary.skipped) == 12
    assert run(again).ok


def test_a_failing_point_is_reported_and_the_others_finish(tmp_path, monkeypatch):
    real = runner.run_workload

    def flaky(cfg, run_dir, **kw):
        if cfg.weight_bits == 3:
            raise RuntimeError("boom at 3 bits")
        return real(cfg, run_dir, **kw)

    monkeypatch.setattr("qsnn_mem.runner.run_workload", flaky)
    summary = run(plan(tiny_sweep("weight=2,3", trials=1), tmp_path / "sw"))
    assert summary.ran == ["w2a8g8e8_seed0"]
    assert summary.failed == {"w3a8g8e8_seed0": "RuntimeError: boom at 3 bits"}
    index = pd.read_csv(tmp_path / "sw" / "sweep.csv").set_index("point")
    assert index.loc["w3a8g8e8_seed0", "status"] == "failed"
    assert "boom" in index.loc["w3a8g8e8_seed0", "error"]
    assert not (tmp_path / "sw" / "w3a8g8e8_seed0" / MARKER).exists()
    monkeypatch.undo()
    retry = plan(tiny_sweep("weight=2,3", trials=1), tmp_path / "sw")
    assert [j.id for j in retry.jobs] == ["w3a8g8e8_seed0"]


def test_a_folder_of_another_configuration_is_not_overwritten(tmp_path):
    assert run(plan(tiny_sweep("weight=2", trials=1), tmp_path / "sw")).ok
    other = tiny_sweep("weight=2", trials=1)
    other.overrides.append("lr=0.5")
    with pytest.raises(QsnnError, match=re.escape("w2a8g8e8_seed0: lr: 1.0 != 0.5")):
        plan(other, tmp_path / "sw")


def test_sweep_on_a_local_dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    pl = plan(tiny_sweep("weight=2,3,4", "state,error=6,8"), tmp_path / "sw", threads=1)
    outcomes = []
    summary = run(pl, executor="dask", workers=2, on_outcome=lambda o, _: outcomes.append(o))
    assert summary.ok and len(summary.ran) == 12
    check_done(tmp_path / "sw", [j.id for j in pl.jobs])
    workers = {o.worker for o in outcomes}
    assert len(workers) == 2 and f"{os.uname().nodename}:{os.getpid()}" not in workers
    # Same numbers as a run in this process: the executor does not change results.
    ref = tmp_path / "ref"
    assert run(plan(tiny_sweep("weight=3", "state,error=8", trials=1), ref)).ok
    a = (ref / "w3a8g8e8_seed0" / "accesses.csv").read_bytes()
    assert a == (tmp_path / "sw" / "w3a8g8e8_seed0" / "accesses.csv").read_bytes()


def _sweep_cmd(out: Path) -> list[str]:
    sets = [x for s in TINY for x in ("--set", s)]
    grid = ["--grid", "weight=2,3", "--grid", "state=6,8"]
    cli = "import sys; from qsnn_mem.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", cli, "sweep", str(QUICK), *grid, "--trials", "1",
            *sets, "--set", "nb_epochs=30", "--out", str(out), "-q"]  # fmt: skip


def test_killed_sweep_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "sw"
    proc = subprocess.Popen(_sweep_cmd(out), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while not list(out.glob(f"*/{MARKER}")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no point finished in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = {p.parent.name for p in out.glob(f"*/{MARKER}")}
    assert 1 <= len(done) < 4
    started = {p.name for p in out.iterdir() if p.is_dir()}
    index = pd.read_csv(out / "sweep.csv").set_index("point")
    assert set(index.index[index["status"] == "done"]) <= done

    result = subprocess.run(_sweep_cmd(out), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{4 - len(done)} ran, {len(done)} skipped" in result.stdout
    check_done(out, ["w2a6g8e8_seed0", "w2a8g8e8_seed0", "w3a6g8e8_seed0", "w3a8g8e8_seed0"])
    assert started <= {p.name for p in out.iterdir() if p.is_dir()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "colour=1"], "unknown grid axis 'colour'"),
        (["--grid", "weight="], "grid axis 'weight' has no values"),
        (["--grid", "weight=2,40"], "axis 'weight' value 40 is not allowed"),
        (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach a Dask scheduler"),
    ],
)
def test_command_errors_are_one_message(tmp_path, capsys, args, message):
    if "--scheduler" in args:
        pytest.importorskip("distributed")
    code = main(["sweep", str(QUICK), *args, "--out", str(tmp_path / "o"), "-q"])
    assert code == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err


def test_command_missing_workload(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.yaml"), "--grid", "weight=2"]) == 2
    assert "none.yaml: file not found" in capsys.readouterr().err
