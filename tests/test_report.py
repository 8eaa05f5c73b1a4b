"""The report: every run priced on every organization (checked against the estimator), the
figures (valid PNG and SVG with labelled axes), report.md, and errors for bad input."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.contract import load_trace
from qsnn_mem.memory import table as cacti_table
from qsnn_mem.memory.arch import load_arch
from qsnn_mem.memory.estimate import evaluate
from qsnn_mem.sweep import parse_grid_option, plan, run
from qsnn_mem.sweep.spec import Sweep

from .report_cases import ARCH, TINY

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("energy_vs_bits", "breakdown", "pareto", "density_vs_bits", "area_vs_bits")


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    grid = {"g": [parse_grid_option("weight=2,3"), parse_grid_option("state=6,8")]}
    spec = Sweep(ROOT / "workloads" / "smile_quick.yaml", TINY, 2, grid)
    assert run(plan(spec, root / "sw")).ok
    archs = []
    for enc in ("crossbar", "pb-bmp"):
        (root / f"{enc}.yaml").write_text(ARCH.format(enc=enc))
        archs.append(root / f"{enc}.yaml")
    out = root / "sw" / "report"
    args = ["report", str(root / "sw"), "--out", str(out)]
    assert main([*args, *(x for a in archs for x in ("--arch", str(a)))]) == 0
    return root / "sw", archs, out


def test_summary_matches_the_estimator(swept):
    sweep_dir, archs, out = swept
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 8 * 2 and set(summary["arch"]) == {"rf-crossbar", "rf-pb-bmp"}
    for _, row in summary.sample(4, random_state=0).iterrows():
        arch = load_arch(archs[0] if row["arch"] == "rf-crossbar" else archs[1])
        ref = evaluate([(arch, load_trace(sweep_dir / row["point"]))]).summary().iloc[0]
        for col in ("energy_per_epoch_J", "energy_per_inference_J", "area_m2", "leakage_W"):
            assert row[col] == pytest.approx(ref[col], rel=1e-12)
        metrics = pd.read_csv(sweep_dir / row["point"] / "metrics.csv")
        assert row["van_rossum_min"] == pytest.approx(metrics["van_rossum"].min(), rel=1e-6, abs=0)
        assert row["nonzero_w_fc2"] == pytest.approx(
            metrics["nonzero_w_fc2"].iloc[-1], rel=1e-6, abs=0
        )
        assert row["weight_bits"] == int(row["point"][1])


def test_smile_stores_weights_at_the_configured_bits(swept):
    sweep_dir, _, out = swept
    summary = pd.read_csv(out / "summary.csv")
    cols = list(summary.columns)
    assert cols.index("stored_weight_bits") == cols.index("weight_bits") + 1
    assert (summary["stored_weight_bits"] == summary["weight_bits"]).all()
    for point in set(summary["point"]):
        bits = int(point[1])
        run = json.loads((sweep_dir / point / "run.json").read_text())["precision"]
        trace = json.loads((sweep_dir / point / "trace.json").read_text())["precision"]
        assert run == trace and run["tag"] == point.rsplit("_seed", 1)[0]
        assert run["configured"]["weight_bits"] == run["stored"]["weight"] == bits
    # Nothing to tell apart: no "(stored ...)" tick labels, no stored-bits column in report.md.
    for stem in ("energy_vs_bits", "density_vs_bits", "area_vs_bits"):
        assert "stored" not in (out / f"{stem}.svg").read_text()
    assert "stored weight bits" not in (out / "report.md").read_text()


def test_headline_numbers_are_means_over_trials_at_the_slice(swept):
    _, _, out = swept
    summary = pd.read_csv(out / "summary.csv")
    head = pd.read_csv(out / "energy_vs_bits.csv")
    # state_bits varies 6/8 with equal counts: the tie goes to the workload default, 8.
    sl = summary[summary["state_bits"] == 8]
    expect = sl.groupby(["arch", "weight_bits"])["energy_per_epoch_J"].agg(["mean", "std"])
    for _, r in head.iterrows():
        mean, std = expect.loc[(r["arch"], r["weight_bits"])]
        assert r["epoch_mean_J"] == pytest.approx(mean, rel=1e-6, abs=0) and r[
            "epoch_std_J"
        ] == pytest.approx(std, rel=1e-6, abs=0)
        assert r["count"] == 2


def test_breakdown_adds_up_to_the_energy_per_epoch(swept):
    _, _, out = swept
    summary = pd.read_csv(out / "summary.csv").set_index(["point", "arch"])
    detail = pd.read_csv(out / "breakdown.csv")
    assert set(detail["stage"]) <= {"forward", "backward", "update", "leakage"}
    assert {"weight", "leakage"} <= set(detail["kind"])
    for arch, rows in detail.groupby("arch"):
        total = summary.loc[("w2a8g8e8_seed0", arch), "energy_per_epoch_J"]
        assert rows["energy_per_epoch_J"].sum() == pytest.approx(total, rel=1e-9)


def test_pareto_front_is_the_non_dominated_set(swept):
    _, _, out = swept
    pts = pd.read_csv(out / "design_points.csv")
    e, d = pts["energy_per_epoch_J"].to_numpy(), pts["van_rossum_min"].to_numpy()
    for i in range(len(pts)):
        dominated = ((e <= e[i]) & (d <= d[i]) & ((e < e[i]) | (d < d[i]))).any()
        assert pts["pareto"].iloc[i] == (not dominated)


def test_figures_are_valid_png_and_svg_with_labels(swept):
    _, _, out = swept
    for stem in FIGURES:
        png = out / f"{stem}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = mpimg.imread(png)
        assert image.shape[0] > 300 and image.shape[1] > 500
        assert np.std(image[..., :3]) > 0.05  # not blank
        root = ET.parse(out / f"{stem}.svg").getroot()
        assert root.tag.endswith("svg")
    energy_svg = (out / "energy_vs_bits.svg").read_text()
    for text in ("weight bitwidth (bits)", "energy per training epoch", "rf-pb-bmp", "rf-crossbar"):
        assert text in energy_svg
    assert "J)" in energy_svg  # a unit in the axis label
    assert "mm²" in (out / "area_vs_bits.svg").read_text()
    pareto = (out / "pareto.svg").read_text()
    assert "Pareto front" in pareto and "minimum van Rossum distance" in pareto
    assert "accuracy" not in pareto.lower()  # smile's quality is a distance


def test_report_md_shows_every_figure_with_a_caption_and_the_best_points(swept):
    _, _, out = swept
    text = (out / "report.md").read_text()
    for stem in FIGURES:
        assert f"]({stem}.png)" in text and (out / f"{stem}.svg").is_file()
    assert text.count("\n*") >= len(FIGURES)  # one italic caption line per figure
    assert "| weight bits |" in text and "**rf-" in text
    assert "## Best points" in text and "lowest energy" in text
    assert "van Rossum distance" in text and "accuracy" not in text.lower()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--arch", "missing.yaml"], "missing.yaml: file not found"),
        (["--at", "grad=9"], "'grad_bits' does not vary"),
        (["--point", "w9a1_seed0"], "no such run"),
        ([], "give at least one --arch"),
    ],
)
def test_report_errors(swept, tmp_path, capsys, extra, message):
    sweep_dir, archs, _ = swept
    arch = [] if not extra or extra[0] == "--arch" else ["--arch", str(archs[0])]
    code = main(["report", str(sweep_dir), *arch, *extra, "--out", str(tmp_path / "r")])
    assert code == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "r").exists()


def test_report_on_a_folder_without_runs(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    arch = str(ROOT / "arch" / "crossbar.yaml")
    assert main(["report", str(tmp_path / "empty"), "--arch", arch]) == 2
    assert "no finished runs" in capsys.readouterr().err


@pytest.mark.skipif(
    not cacti_table.data_path(cacti_table.TABLE_FILE).is_file(), reason="CACTI table not built"
)
def test_shipped_organizations(swept, tmp_path):
    sweep_dir, _, _ = swept
    archs = [x for n in ("crossbar", "pb-bmp", "pb-csr") for x in ("--arch", f"arch/{n}.yaml")]
    assert main(["report", str(sweep_dir), *archs, "--out", str(tmp_path / "r")]) == 0
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    assert set(summary["arch"]) == {"crossbar", "pb-bmp", "pb-csr"}
    assert (summary["energy_per_epoch_J"] > 0).all()


def test_metrics_without_the_van_rossum_distance_are_refused(swept, tmp_path, capsys):
    """The report plots the van Rossum distance loss.png plots; metrics.csv without it is not
    read as if its training loss (√1000 times larger) were that distance."""
    sweep_dir, archs, _ = swept
    run_dir = shutil.copytree(sweep_dir / "w2a8g8e8_seed0", tmp_path / "old" / "w2a8g8e8_seed0")
    metrics = pd.read_csv(run_dir / "metrics.csv")
    metrics.drop(columns="van_rossum").to_csv(run_dir / "metrics.csv", index=False)
    args = ["report", str(tmp_path / "old"), "--arch", str(archs[0]), "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "not the metrics of a smile run (missing 'van_rossum')" in err


def test_a_report_folder_is_one_report_whole(swept, tmp_path, capsys):
    """A rerun replaces the report (no stale file stays); a report of other organizations is
    refused unless --overwrite; a folder with files a report does not write is refused."""
    sweep_dir, archs, _ = swept
    out = tmp_path / "rep"
    both = [x for a in archs for x in ("--arch", str(a))]
    assert main(["report", str(sweep_dir), "--out", str(out), *both]) == 0
    (out / "pareto.svg").unlink()  # a rerun writes the whole folder again
    assert main(["report", str(sweep_dir), "--out", str(out), *both]) == 0
    assert (out / "pareto.svg").is_file()
    before = (out / "summary.csv").read_bytes()
    one = ["--arch", str(archs[0])]
    assert main(["report", str(sweep_dir), "--out", str(out), *one]) == 2
    assert "other organizations" in capsys.readouterr().err
    assert (out / "summary.csv").read_bytes() == before
    assert main(["report", str(sweep_dir), "--out", str(out), *one, "--overwrite"]) == 0
    assert set(pd.read_csv(out / "summary.csv")["arch"]) == {"rf-crossbar"}
    (out / "my_notes.md").write_text("keep")
    assert main(["report", str(sweep_dir), "--out", str(out), *one, "--overwrite"]) == 2
    assert "my_notes.md" in capsys.readouterr().err and (out / "my_notes.md").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
