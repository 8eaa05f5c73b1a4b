"""Every registered task end to end: trace, estimate, a 2-point sweep, resume, report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qsnn_mem import tasks
from qsnn_mem.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARCH = """name: {name}
tech_node_nm: 45
clock_hz: 1.0e8
memories:
  - {{name: weights, encoding: {encoding}, holds: [weight]}}
  - {{name: states, word_bits: 32, holds: [syn, mem, spk, refrac, trace_p, trace_q, input]}}
  - {{name: learning, word_bits: 32, holds: [err, grad, readout, feedback]}}
"""


def _sets(task: tasks.Task) -> list[str]:
    return [x for o in task.example_overrides for x in ("--set", o)]


@pytest.mark.parametrize("name", list(tasks.REGISTRY))
def test_task_runs_end_to_end(name, tmp_path, capsys):
    task = tasks.get(name)
    workload = str(ROOT / task.example_workload)
    archs = []
    for encoding in ("crossbar", "pb-bmp"):
        path = tmp_path / f"{encoding}.yaml"
        path.write_text(ARCH.format(name=encoding, encoding=encoding))
        archs += ["--arch", str(path)]

    run = tmp_path / "run"
    assert main(["trace", workload, "--out", str(run), "-q", *_sets(task)]) == 0
    assert (run / "trace.json").is_file() and (run / "accesses.csv").is_file()
    assert main(["estimate", archs[1], "--trace", str(run), "--out", str(tmp_path / "e")]) == 0
    assert pd.read_csv(tmp_path / "e" / "energy.csv")["energy_J"].sum() > 0

    sweep = tmp_path / "sweep"
    args = ["sweep", workload, "--grid", "weight=4,6", "--out", str(sweep), "-q", *_sets(task)]
    assert main(args) == 0
    index = pd.read_csv(sweep / "sweep.csv")
    assert sorted(index["weight_bits"]) == [4, 6] and set(index["status"]) == {"done"}
    capsys.readouterr()
    assert main(args) == 0  # resume: nothing left to run
    assert "0 to run" in capsys.readouterr().out

    out = tmp_path / "report"
    assert main(["report", str(sweep), "--out", str(out), *archs]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert task.quality.column in summary.columns
    assert len(summary) == 2 * 2  # two runs on two organizations
    assert (out / "report.md").is_file()
