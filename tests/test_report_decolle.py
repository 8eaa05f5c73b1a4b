"""A DECOLLE report end to end: accuracy (higher is better) as the quality metric, per-layer
accuracies in summary.csv, the DECOLLE figures and no smile-only ones, the stored (priced) weight
bits beside the configured ones; runs of two tasks in one folder are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from qsnn_mem import tasks
from qsnn_mem.cli import main
from qsnn_mem.report import analysis, style
from qsnn_mem.report.breakdown import breakdown_figure

ROOT = Path(__file__).resolve().parents[1]
TASK = tasks.get("decolle")
RUNS = {"w4_seed0": ("4", "0"), "w4_seed1": ("4", "1"), "w6_seed0": ("6", "0")}
# Register files (no CACTI table needed): one organization holds every weight as a crossbar,
# the other the DECOLLE kernels by name in the functional encoding.
STATES = """  - {name: states, kind: regfile, word_bits: 32,
     holds: [syn, mem, spk, refrac, trace_p, trace_q, input]}
  - {name: learning, kind: regfile, word_bits: 32, holds: [err, grad, readout, feedback]}
"""
ARCHS = {
    "rf-crossbar": "  - {name: weights, kind: regfile, encoding: crossbar, holds: [weight]}\n",
    "rf-functional": (
        "  - {name: kernels, kind: regfile, encoding: functional,\n"
        "     holds: [conv1.weight, conv2.weight, conv3.weight]}\n"
        "  - {name: biases, kind: regfile, encoding: crossbar,\n"
        "     holds: [conv1_bias.weight, conv2_bias.weight, conv3_bias.weight]}\n"
    ),
}
ACCURACY = TASK.quality


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    root = tmp_path_factory.mktemp("decolle_report")
    for name, (bits, seed) in RUNS.items():
        sets = [*TASK.example_overrides, f"weight_bits={bits}", f"seed={seed}"]
        args = ["trace", str(ROOT / TASK.example_workload), "-q"]
        args += ["--out", str(root / "runs" / name), *(x for s in sets for x in ("--set", s))]
        assert main(args) == 0
    archs = []
    for name, weights in ARCHS.items():
        path = root / f"{name}.yaml"
        path.write_text(f"name: {name}\ntech_node_nm: 45\nclock_hz: 1.0e8\nmemories:\n"
                        f"{weights}{STATES}")  # fmt: skip
        archs += ["--arch", str(path)]
    out = root / "report"
    assert main(["report", str(root / "runs"), "--out", str(out), *archs]) == 0
    return root, archs, out


def test_summary_has_accuracy_per_layer_and_no_distance(reported):
    root, _, out = reported
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == len(RUNS) * len(ARCHS)
    layers = [c for c in summary.columns if c.startswith("accuracy_layer")]
    assert layers == ["accuracy_layer1", "accuracy_layer2", "accuracy_layer3"]
    assert "accuracy_max" in summary and not any("van_rossum" in c for c in summary.columns)
    assert not any(c.startswith("nonzero_w_fc") for c in summary.columns)
    for _, row in summary.iterrows():
        metrics = pd.read_csv(root / "runs" / row["point"] / "metrics.csv")
        assert row["accuracy_layer2"] == pytest.approx(metrics["test_acc2"].max())
        assert row["accuracy_max"] == row["accuracy_layer3"]
    assert {"mem_bits", "p_bits", "q_bits"} <= set(summary.columns)  # the task's precisions


def test_figures_are_the_decolle_ones(reported):
    _, _, out = reported
    for stem in ("energy_vs_bits", "pareto", "breakdown", "area_vs_bits"):
        assert (out / f"{stem}.png").is_file() and (out / f"{stem}.svg").is_file()
    assert not list(out.glob("density_vs_bits.*"))
    pareto = (out / "pareto.svg").read_text()
    assert ACCURACY.label in pareto and "van Rossum" not in pareto
    energy = (out / "energy_vs_bits.svg").read_text()
    assert "weight bits (configured; stored in parentheses)" in energy and "rf-functional" in energy


def test_weights_are_labelled_with_the_bits_they_were_priced_at(reported):
    # Shadow weights live on the gradient grid: weight_bits 4 and 6 are stored (and priced) at
    # grad_bits = 10, and no figure or table shows 4 or 6 as if it were the priced width.
    root, _, out = reported
    assert TASK.schema().grad_bits == 10
    summary = pd.read_csv(out / "summary.csv")
    cols = list(summary.columns)
    assert cols.index("stored_weight_bits") == cols.index("weight_bits") + 1
    assert set(summary["weight_bits"]) == {4, 6} and (summary["stored_weight_bits"] == 10).all()
    for point in RUNS:
        tensors = pd.read_csv(root / "runs" / point / "tensors.csv")
        assert set(tensors[tensors.tensor == "weight"].bits) == {10}
    energy = (out / "energy_vs_bits.svg").read_text()
    assert "4 (stored 10)" in energy and "6 (stored 10)" in energy
    assert "stored 10" in (out / "area_vs_bits.svg").read_text()
    assert "10" in set(pd.read_csv(out / "energy_vs_bits.csv")["stored_weight_bits"].astype(str))
    text = (out / "report.md").read_text()
    assert "| weight bits | stored weight bits | rf-crossbar per epoch |" in text
    assert "| weight bits | stored weight bits | accuracy_max |" in text
    assert "| organization | best by | point | stored weight bits |" in text
    assert "| 4 | 10 |" in text and "| 6 | 10 |" in text


def test_old_run_folders_take_the_stored_bits_from_tensors_csv(reported, tmp_path):
    root, archs, _ = reported
    shutil.copytree(root / "runs" / "w6_seed0", tmp_path / "old" / "w6_seed0")
    info = json.loads((tmp_path / "old" / "w6_seed0" / "run.json").read_text())
    del info["precision"]
    (tmp_path / "old" / "w6_seed0" / "run.json").write_text(json.dumps(info))
    assert main(["report", str(tmp_path / "old"), *archs, "--out", str(tmp_path / "r")]) == 0
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    assert (summary["weight_bits"] == 6).all() and (summary["stored_weight_bits"] == 10).all()


def test_report_md_speaks_of_accuracy(reported):
    _, _, out = reported
    text = (out / "report.md").read_text()
    assert "accuracy" in text and "van Rossum" not in text and "density_vs_bits" not in text
    assert ACCURACY.label in text and "| accuracy_max |" in text
    assert "ISCAS 2020" not in text


def test_pareto_front_keeps_the_highest_accuracy(reported):
    _, _, out = reported
    pts = pd.read_csv(out / "design_points.csv")
    e, a = pts["energy_per_epoch_J"].to_numpy(), pts["accuracy_max"].to_numpy()
    for i in range(len(pts)):
        dominated = ((e <= e[i]) & (a >= a[i]) & ((e < e[i]) | (a > a[i]))).any()
        assert pts["pareto"].iloc[i] == (not dominated)
    w4 = pts[pts["weight_bits"] == 4]
    assert (w4["trials"] == 2).all() and "accuracy_max_std" in pts  # error bars over trials


def test_pareto_direction():
    pts = pd.DataFrame({"energy_per_epoch_J": [1.0, 2.0, 3.0], "q": [0.5, 0.4, 0.9]})
    assert analysis.pareto(pts, "q", lower_is_better=False).tolist() == [True, False, True]
    assert analysis.pareto(pts, "q", lower_is_better=True).tolist() == [True, True, False]
    assert isinstance(analysis.pareto(pts, "q", True), np.ndarray)


def test_runs_of_two_tasks_are_refused(reported, tmp_path, capsys):
    root, archs, _ = reported
    for name in ("a", "b"):
        shutil.copytree(root / "runs" / "w4_seed0", tmp_path / "mixed" / name)
    info = json.loads((tmp_path / "mixed" / "b" / "run.json").read_text())
    info["config"]["task"] = "smile"
    (tmp_path / "mixed" / "b" / "run.json").write_text(json.dumps(info))
    code = main(["report", str(tmp_path / "mixed"), *archs, "--out", str(tmp_path / "r")])
    assert code == 2
    err = "".join(capsys.readouterr().err.split())  # the console may wrap long paths
    assert "mixed/aisadecollerunbut" in err and "mixed/bisasmilerun" in err
    assert not (tmp_path / "r").exists()


def test_breakdown_gives_every_decolle_tensor_its_own_colour(reported):
    """DECOLLE prices more than ten tensor kinds: none shares a colour (tab10 repeated after
    ten), and none wears an organization's colour."""
    _, _, out = reported
    detail = pd.read_csv(out / "breakdown.csv")
    fig = breakdown_figure(detail, list(ARCHS))
    kinds: dict[str, set[str]] = {}
    for ax in fig.axes[1:]:
        for c in ax.containers:
            kinds.setdefault(c.get_label(), set()).add(to_hex(c.patches[0].get_facecolor()))
    assert len(kinds) > 10 and {"trace_p", "trace_q", "refrac"} <= set(kinds)
    colours = [c for cs in kinds.values() for c in cs]
    assert len(colours) == len(set(colours)) == len(kinds)
    assert not set(colours) & set(style.ORGANIZATION)
    plt.close(fig)
