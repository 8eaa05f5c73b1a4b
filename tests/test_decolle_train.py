"""The quick DECOLLE workload learns; the CLI trains, traces, prices and prepares end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.decolle.data.events import EventSet, write_events_npz
from qsnn_mem.tasks.decolle.train import load_data, train_decolle
from qsnn_mem.workload import load_workload
from tests.test_data_dvs import make_gesture_folder


def test_quick_workload_learns():
    cfg = load_workload("workloads/decolle_quick.yaml", ["epochs=3"])
    result = train_decolle(cfg)
    frame = pd.DataFrame(result.metrics)
    assert frame.loss.iloc[-1] < frame.loss.iloc[0]
    chance = 1 / cfg.generated.classes
    best_train = frame[[f"train_acc{k}" for k in (1, 2, 3)]].to_numpy().max()
    best_test = frame[[f"test_acc{k}" for k in (1, 2, 3)]].to_numpy()
    assert best_train > chance + 0.3
    assert np.nanmax(best_test) > chance + 0.1


def test_cli_trace_and_estimate(tmp_path):
    run = tmp_path / "run"
    args = ["--set", "epochs=1", "--set", "max_batches=2", "--set", "generated.train_samples=20",
            "--set", "generated.test_samples=8", "--set", "validation_fraction=0"]  # fmt: skip
    assert main(["trace", "workloads/decolle_quick.yaml", "--out", str(run), "-q", *args]) == 0
    for name in ("metrics.csv", "run.json", "weights.npz", "accesses.csv", "tensors.csv"):
        assert (run / name).is_file(), name
    meta = json.loads((run / "trace.json").read_text())
    assert meta["task"] == "decolle" and meta["normalisers"]["train_samples"] == 16
    tensors = pd.read_csv(run / "tensors.csv")
    kernels = tensors[tensors.kernel]
    assert set(kernels.layer) == {"conv1", "conv2", "conv3"} and set(kernels.tensor) == {"weight"}
    assert (kernels.unrolled_nonzero > kernels.nonzero).all()
    precision = json.loads((run / "run.json").read_text())["precision"]
    assert precision == meta["precision"] and precision["tag"] == "w8u6p12q10r2s6a6sig6e6g10"
    assert set(tensors[tensors.tensor == "weight"].bits) == {precision["stored"]["weight"]} == {10}
    assert {
        "trace_p",
        "trace_q",
        "refrac",
        "mem",
        "spk",
        "readout",
        "feedback",
        "err",
        "grad",
    } <= set(tensors.tensor)
    est = tmp_path / "est"
    assert main(["estimate", "arch/functional.yaml", "--trace", str(run), "--out", str(est)]) == 0
    assert (est / "energy.csv").is_file()
    assert main(["train", "workloads/decolle_quick.yaml", "--out", str(tmp_path / "t"), "-q",
                 *args]) == 0  # fmt: skip
    assert "val_acc1" not in pd.read_csv(tmp_path / "t" / "metrics.csv")


def test_bad_data_files(tmp_path):
    yaml_file = tmp_path / "w.yaml"
    yaml_file.write_text("task: decolle\ndata-set: Poker\ntrain_file: nope.npz\ntest_file: t.npz\n")
    with pytest.raises(QsnnError, match=r"nope\.npz: prepared event file not found"):
        load_data(load_workload(yaml_file))
    sample = np.array([[0, 1, 1, 1]], dtype=np.uint32)
    write_events_npz(tmp_path / "bad.npz", EventSet([sample, sample], np.array([0, 4]), (128, 128)))
    write_events_npz(tmp_path / "t.npz", EventSet([sample], np.array([1]), (128, 128)))
    yaml_file.write_text("task: decolle\ndata-set: Poker\ntrain_file: bad.npz\ntest_file: t.npz\n")
    with pytest.raises(QsnnError, match=r"bad.npz: sample 1 has label 4 \(allowed: 0-3"):
        load_data(load_workload(yaml_file))
    assert main(["train", str(yaml_file), "--out", str(tmp_path / "r"), "-q"]) == 2


def test_cli_prepare_gesture(tmp_path, capsys):
    raw = tmp_path / "raw"
    make_gesture_folder(raw, corrupt_b=True)
    out = tmp_path / "prepared"
    assert main(["prepare", "gesture", str(raw), "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "skipped" in printed and (out / "gesture_train.npz").is_file()
    assert main(["prepare", "gesture", str(raw), "--out", str(out), "--on-error", "refuse"]) == 2
    assert main(["prepare", "gesture", str(tmp_path / "missing")]) == 2
