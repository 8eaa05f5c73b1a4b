"""The trace command end to end: its tables, determinism, inference from saved weights, errors."""

import json

import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.contract import load_trace

SMALL = ["--set", "nb_epochs=3", "--set", "nb_hidden=40", "--set", "nb_outputs=250", "-q"]


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace") / "run"
    assert main(["trace", "workloads/smile_quick.yaml", *SMALL, "--out", str(out)]) == 0
    return out


def test_trace_writes_the_tables(traced):
    acc = pd.read_csv(traced / "accesses.csv")
    assert list(acc.columns) == [
        "phase", "stage", "layer", "tensor", "op", "pattern", "traversal", "bits", "accesses",
        "elements", "nonzero",
    ]  # fmt: skip
    assert set(acc.phase) == {"train", "infer"}
    assert set(acc.stage) == {"forward", "backward", "update"}
    assert all(acc[c].dtype == "int64" for c in ("accesses", "elements", "nonzero"))
    assert (acc.nonzero <= acc.elements).all()
    # Three epochs of 250 steps: each layer's state is read and written once per step.
    mem = acc.query("phase == 'train' and stage == 'forward' and tensor == 'mem'")
    assert set(mem.accesses) == {3 * 250}
    # fc2 sends its errors down to fc1, counted both as row gathers and as column scatters.
    variants = acc[acc.traversal != "any"]
    assert sorted(zip(variants.layer, variants.pattern, variants.traversal, strict=True)) == [
        ("fc2", "col", "col"), ("fc2", "row", "row")
    ]  # fmt: skip
    assert set(variants.stage) == {"backward"} and set(variants.tensor) == {"weight"}
    gather = variants[variants.traversal == "row"].iloc[0]
    assert gather.elements == gather.accesses * 250  # a row of fc2 holds 250 weights
    info = json.loads((traced / "trace.json").read_text())
    assert info["format_version"] == 2
    load_trace(traced)  # the estimator accepts it
    assert info["normalisers"] == {
        "train_epochs": 3, "train_samples": 3, "infer_samples": 1, "time_steps": 250
    }  # fmt: skip
    tensors = pd.read_csv(traced / "tensors.csv")
    w = tensors.query("layer == 'fc1' and tensor == 'weight'").iloc[0]
    assert (w.rows, w.cols, w.bits) == (700, 40, 2)
    bench = json.loads((traced / "neurobench.json").read_text())
    assert bench["footprint_bits_inference"] == 700 * 40 * 2 + 40 * 250 * 2 + 2 * 8 * (40 + 250)
    assert 0 < bench["connection_sparsity"] < 1
    assert bench["synaptic_ops_effective_acs"] < bench["synaptic_ops_dense"]


def test_same_seed_same_counts(traced, tmp_path):
    again = tmp_path / "again"
    assert main(["trace", "workloads/smile_quick.yaml", *SMALL, "--out", str(again)]) == 0
    assert (again / "accesses.csv").read_bytes() == (traced / "accesses.csv").read_bytes()


def test_inference_from_saved_weights_counts_the_same(traced, tmp_path):
    out = tmp_path / "infer"
    args = ["trace", "workloads/smile_quick.yaml", *SMALL, "--phase", "infer"]
    assert main([*args, "--weights", str(traced), "--out", str(out)]) == 0
    infer = pd.read_csv(out / "accesses.csv")
    assert set(infer.phase) == {"infer"}
    both = pd.read_csv(traced / "accesses.csv").query("phase == 'infer'").reset_index(drop=True)
    pd.testing.assert_frame_equal(infer, both)


def test_dense_mode_reads_every_synapse(tmp_path):
    out = tmp_path / "dense"
    args = ["trace", "workloads/smile_quick.yaml", *SMALL, "--mode", "dense", "--phase", "train"]
    assert main([*args, "--out", str(out)]) == 0
    acc = pd.read_csv(out / "accesses.csv")
    w = acc.query("stage == 'forward' and layer == 'fc1' and tensor == 'weight'").iloc[0]
    assert (w.accesses, w.elements) == (3 * 250 * 700, 3 * 250 * 700 * 40)
    assert set(acc.phase) == {"train"}
    back = acc.query("stage == 'backward' and tensor == 'weight'").set_index("traversal")
    assert back.loc["row", "accesses"] == 3 * 250 * 40  # every fc2 row every step
    assert back.loc["col", "accesses"] == 3 * 250 * 250  # every fc2 column every step
    assert back.loc["row", "nonzero"] == back.loc["col", "nonzero"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--phase", "infer"], "--phase infer needs --weights"),
        (["--phase", "infer", "--weights", "nowhere"], "weights file not found"),
        (["--weights", "x"], "--weights is only used with --phase infer"),
    ],
)
def test_bad_trace_arguments(tmp_path, capsys, extra, message):
    assert main(["trace", "workloads/smile_quick.yaml", *SMALL, *extra]) == 2
    assert message in capsys.readouterr().err


def test_weights_of_another_network_are_refused(traced, tmp_path, capsys):
    args = ["trace", "workloads/smile_quick.yaml", "--set", "nb_hidden=30", "--phase", "infer"]
    assert main([*args, "--weights", str(traced), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'fc1_shadow' has shape (700, 40)" in err and "(700, 30)" in err
    assert not (tmp_path / "o" / "accesses.csv").exists()


def test_corrupt_weights_file(tmp_path, capsys):
    bad = tmp_path / "weights.npz"
    bad.write_bytes(b"not a zip file")
    args = ["trace", "workloads/smile_quick.yaml", "--phase", "infer", "--weights", str(bad)]
    assert main(args) == 2
    assert "not a readable weights file" in capsys.readouterr().err


def test_other_weight_bits_are_refused(traced, tmp_path, capsys):
    args = ["trace", "workloads/smile_quick.yaml", *SMALL, "--set", "global_wb=4"]
    assert main([*args, "--phase", "infer", "--weights", str(traced)]) == 2
    assert "add --set weight_bits=2" in capsys.readouterr().err


def test_unwritable_output_keeps_nothing_half_written(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["trace", "workloads/smile_quick.yaml", *SMALL, "--out", str(blocker / "x")]) == 2
    assert "cannot create output folder" in capsys.readouterr().err
