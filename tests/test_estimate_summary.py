"""What ``qsnn-mem estimate`` prints and writes beside energy.csv: the breakdowns agree with
energy.csv and area.csv, every --format parses, a bad --format is one message and exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.memory import arch, breakdown, plan, tables
from qsnn_mem.memory import estimate as est

from .memory_fixtures import smile, tiny_trace

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("table", "csv", "json", "markdown")


def _estimate(capsys, arch_name: str, trace: Path, out: Path, *options: str):
    """Run the command; its exit code, stdout and stderr."""
    args = [str(ROOT / "arch" / f"{arch_name}.yaml"), "--trace", str(trace), "--out", str(out)]
    code = main(["estimate", *args, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def smile_trace(tmp_path_factory):
    """A smile-sized synthetic trace: 3 epochs, 2 inferences (so the divisors matter)."""
    return smile(tmp_path_factory.mktemp("smile"), epochs=3, infer_samples=2)


def _stage(energy: pd.DataFrame) -> pd.Series:
    return energy["stage"].where(energy["op"] != "leak", "leakage")


def _check_against_tables(report: dict, energy: pd.DataFrame, area: pd.DataFrame, norm) -> None:
    """Every number of the breakdown against the rows of energy.csv and area.csv."""
    per = {"train": max(norm["train_epochs"], 1), "infer": max(norm["infer_samples"], 1)}
    stages = pd.DataFrame(report["stages"])
    grouped = energy.assign(stage=_stage(energy)).groupby(["phase", "memory", "stage"])
    expected = grouped["energy_J"].sum()
    for _, row in stages[stages["memory"] != "total"].iterrows():
        for stage in (*plan.STAGES, "leakage"):
            want = expected.get((row["phase"], row["memory"], stage), 0.0) / per[row["phase"]]
            assert row[f"{stage}_J"] == pytest.approx(want, rel=1e-9, abs=1e-30)
    for phase, rows in stages.groupby("phase"):
        total = rows[rows["memory"] == "total"].iloc[0]
        parts = rows[rows["memory"] != "total"]
        phase_J = energy.loc[energy["phase"] == phase, "energy_J"].sum() / per[phase]
        assert total["total_J"] == pytest.approx(phase_J, rel=1e-9)
        assert parts["total_J"].sum() == pytest.approx(phase_J, rel=1e-9)
        assert parts["share"].sum() == pytest.approx(1.0)

    # Per epoch and per inference: the stage table, the totals and energy.csv agree.
    total = stages.set_index(["phase", "memory"])["total_J"]
    assert report["totals"]["energy_per_epoch_J"] == pytest.approx(total["train", "total"])
    assert report["totals"]["energy_per_inference_J"] == pytest.approx(total["infer", "total"])

    top = pd.DataFrame(report["top"])
    keys = ["phase", "memory", "tensor", "stage", "op"]
    named = energy.assign(tensor=energy["tensor"].where(energy["op"] != "leak", "*.*"))
    sums = named.groupby(keys)["energy_J"].sum()
    for phase, rows in top.groupby("phase"):
        assert rows["share"].sum() <= 1.0 + 1e-12
        assert list(rows["rank"]) == list(range(1, len(rows) + 1))
        assert rows["energy_J"].is_monotonic_decreasing
        phase_total = energy.loc[energy["phase"] == phase, "energy_J"].sum()
        for _, r in rows.iterrows():
            want = sums[phase, r["memory"], f"{r['layer']}.{r['tensor']}", r["stage"], r["op"]]
            assert r["energy_J"] * per[phase] == pytest.approx(want, rel=1e-9)
            assert r["share"] == pytest.approx(want / phase_total, rel=1e-9)

    arrays = pd.DataFrame(report["arrays"]).set_index(["memory", "array"])
    memory_rows = energy[energy["component"] == "memory"]
    for op in ("read", "write"):
        rows = memory_rows[memory_rows["op"] == op].groupby(["memory", "array"])
        per_access = rows["energy_J"].sum() / rows["accesses"].sum() * 1e12
        got = arrays[f"{op}_pJ"].dropna()
        assert set(got.index) == set(per_access.index)
        np.testing.assert_allclose(got.loc[per_access.index], per_access, rtol=1e-9)
    area = area.set_index(["memory", "array"])
    for col in ("area_m2", "leakage_W", "capacity_bits", "word_bits", "depth"):
        np.testing.assert_allclose(arrays.loc[area.index, col], area[col], rtol=1e-12)


@pytest.mark.parametrize("arch_name", ["crossbar", "pb-bmp"])
def test_summary_numbers_agree_with_energy_and_area(tmp_path, capsys, smile_trace, arch_name):
    out = tmp_path / "out"
    folder = Path(smile_trace.folder)
    code, stdout, err = _estimate(capsys, arch_name, folder, out, "--format", "json")
    assert code == 0, err
    report = json.loads(stdout)
    energy, area = pd.read_csv(out / "energy.csv"), pd.read_csv(out / "area.csv")
    _check_against_tables(report, energy, area, smile_trace.normalisers)
    summary = json.loads((out / "run.json").read_text())["summary"]
    for key in ("energy_per_epoch_J", "energy_per_inference_J", "area_m2", "leakage_W"):
        assert report["totals"][key] == pytest.approx(summary[key], rel=1e-12)
    split = sum(report["totals"]["train_split_J"].values())
    assert split == pytest.approx(summary["energy_per_epoch_J"], rel=1e-9)
    # The files: every contributor (shares sum to 1), the same stages and arrays.
    ranked = pd.read_csv(out / "contributors.csv")
    assert ranked.groupby("phase")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert len(report["top"]) == 20 and len(ranked) > 20
    written = json.loads((out / "summary.json").read_text())
    assert written["stages"] == report["stages"] and written["arrays"] == report["arrays"]
    assert len(written["top"]) == len(ranked)
    stages = pd.read_csv(out / "stages.csv")
    assert stages["total_J"].to_numpy() == pytest.approx(
        [s["total_J"] for s in report["stages"]], rel=1e-12
    )
    assert "wrote" in err and "wrote" not in stdout


def test_words_per_access_counted_by_hand(tmp_path, capsys):
    """tiny_trace in a crossbar: 3 forward row reads of 4 values (12 words), 2 column scatters
    of 8 (16 words) or 8 row gathers of 4 (32 words), 1 inference row read of 4."""
    trace = tiny_trace(tmp_path / "trace")
    for propagation, words in (("col", (12 + 16 + 4) / 6), ("row", (12 + 32 + 4) / 12)):
        option = f"memories.0.propagation={propagation}"
        out = tmp_path / propagation
        options = ("--set", option, "--format", "json")
        code, stdout, _ = _estimate(capsys, "crossbar", trace, out, *options)
        assert code == 0
        report = json.loads(stdout)
        values = next(a for a in report["arrays"] if a["memory"] == "weights")
        assert values["words_per_read"] == pytest.approx(words)
        assert report["propagation"] == [
            {"tensor": "fc1.weight", "memory": "weights", "setting": propagation,
             "used": propagation}
        ]  # fmt: skip


def test_api_on_an_evaluation(smile_trace):
    """breakdown() builds energy.csv and area.csv itself; the same numbers as the CLI."""
    spec = arch.load_arch(ROOT / "arch" / "pb-csr.yaml")
    ev = est.evaluate([(spec, smile_trace)])
    report = breakdown.breakdown(ev)
    data = breakdown.as_dict(report, top=5)
    energy, area = tables.energy_table(ev), tables.area_table(ev)
    _check_against_tables(data, energy, area, smile_trace.normalisers)
    assert report.organization["name"] == "pb-csr" and report.organization["backend"] == "table"
    assert report.organization["narrow_arrays"] == ["weights.values"]  # 2-bit values
    assert breakdown.divisors({"train_epochs": 0, "infer_samples": 0}) == {
        "train": ("trace", 1.0), "infer": ("trace", 1.0)
    }  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_parses(tmp_path, capsys, fmt):
    trace = tiny_trace(tmp_path / "trace")
    options = ("--format", fmt, "--top", "3")
    code, stdout, err = _estimate(capsys, "pb-bmp", trace, tmp_path / "o", *options)
    assert code == 0, err
    if fmt == "json":
        data = json.loads(stdout)
        assert {"organization", "stages", "top", "arrays", "totals", "scope"} <= set(data)
        assert all(r["rank"] <= 3 for r in data["top"])
    elif fmt == "csv":
        frame = pd.read_csv(io.StringIO(stdout))
        sections = set(frame["section"])
        assert {"organization", "memories", "stages", "top", "arrays", "totals"} <= sections
        top = frame[frame["section"] == "top"]
        assert len(top) <= 3 * 2 and top["share"].sum() <= 2.0
        totals = frame[frame["section"] == "totals"].iloc[0]
        assert float(totals["energy_per_epoch_J"]) > 0
    elif fmt == "markdown":
        assert stdout.startswith("## Organization")
        assert stdout.count("\n### ") >= 6 and "|---|" in stdout
        assert "| memory | forward | backward | update | leakage | total | share |" in stdout
    else:
        expected = (
            "pb-bmp", "45 nm", "100 MHz", "CACTI 7 table", "same-depth",
            "error propagation: fc1.weight", "energy per training epoch by memory",
            "energy per inference", "top 3", "pJ", "mm²", "not modelled", "DRAM",
        )  # fmt: skip
        for text in expected:
            assert text in stdout, text
    if fmt != "table":
        assert "wrote" in err and "wrote" not in stdout


def test_bad_format_exits_2_naming_the_choices(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    out = tmp_path / "out"
    code, stdout, err = _estimate(capsys, "crossbar", trace, out, "--format", "xml")
    assert code == 2 and stdout == ""
    assert "Traceback" not in err and "'xml'" in err
    for name in FORMATS:
        assert f"'{name}'" in err
    assert not out.exists()
    code, _, err = _estimate(capsys, "crossbar", trace, out, "--top", "0")
    assert code == 2 and "--top" in err and "Traceback" not in err


def test_a_user_ert_is_named_as_the_backend(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    code, _, err = _estimate(capsys, "crossbar", trace, tmp_path / "a", "--export", "accelergy")
    assert code == 0, err
    ert = tmp_path / "a" / "accelergy" / "ERT.yaml"
    options = ("--ert", str(ert), "--format", "json")
    code, stdout, err = _estimate(capsys, "crossbar", trace, tmp_path / "b", *options)
    assert code == 0, err
    org = json.loads(stdout)["organization"]
    assert org["backend"] == "ert" and str(ert) in org["backend_text"]
    assert "CACTI 7 table" in org["backend_text"]  # what the ERT does not name
