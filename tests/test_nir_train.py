"""The NIR task end to end: workload validation, input and target data, training, the run
folder, tracing, pricing and inference from saved weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.contract import load_trace
from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.nir.data import load_input, load_target
from qsnn_mem.tasks.nir.nir_file import load_network, save_network
from qsnn_mem.tasks.nir.train import train
from qsnn_mem.workload import load_workload

from .nir_cases import conv_network, dense_network

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "workloads" / "nir_example.yaml"
ARCH = ROOT / "arch" / "crossbar.yaml"


def write_workload(folder: Path, network=None, **fields) -> Path:
    """A workload YAML in ``folder`` whose graph (``net.nir``) is ``network``."""
    if network is not None:
        save_network(network, folder / "net.nir")
    data = {"task": "nir", "graph": "net.nir", **fields}
    path = folder / "w.yaml"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in data.items()))
    return path


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"graph": "net.onnx"}, ["'graph'", "net.onnx", ".nir"]),
        ({"input": "spikes.csv"}, ["'input'", "spikes.csv", "poisson", ".npy/.npz"]),
        ({"target": "labels.txt"}, ["'target'", "labels.txt", "null or a .npy/.npz"]),
        ({"state_scale": 3}, ["'state_scale'", "3", "power of two"]),
        ({"target_kind": "spikes"}, ["'target_kind'", "'classes'", "'raster'"]),
        ({"global_wb": 1}, ["'global_wb' (weight_bits)", "1", "greater than or equal to 2"]),
        ({"nb_step": 10}, ["unknown field 'nb_step'"]),
    ],
)
def test_bad_fields_are_named_with_their_value_and_what_is_allowed(tmp_path, fields, words):
    path = write_workload(tmp_path, **fields)
    with pytest.raises(QsnnError) as err:
        load_workload(path)
    assert str(path) in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_paths_are_relative_to_the_workload_and_null_stays_null(tmp_path):
    cfg = load_workload(write_workload(tmp_path, input="x.npy"))
    assert cfg.graph == str(tmp_path / "net.nir") and cfg.input == str(tmp_path / "x.npy")
    assert cfg.target is None
    assert load_workload(write_workload(tmp_path)).input == "poisson"


def test_inputs_and_targets_from_files(tmp_path):
    rng = np.random.default_rng(0)
    network = dense_network(rng, [6, 5, 3], ["LIF", "LIF"])
    raster = (rng.random((4, 20, 6)) < 0.3).astype(np.float32)
    np.save(tmp_path / "x.npy", raster)
    np.save(tmp_path / "labels.npy", np.array([0, 2, 1, 2]))
    fields = dict(input="x.npy", target="labels.npy", nb_steps=20, target_kind="classes")
    cfg = load_workload(write_workload(tmp_path, network, **fields))
    np.testing.assert_array_equal(load_input(cfg, network), raster)
    np.testing.assert_array_equal(load_target(cfg, network, 4), [0, 2, 1, 2])
    # Events (sample, step, index) give the same raster.
    s, t, i = np.nonzero(raster)
    np.savez(tmp_path / "ev.npz", events=np.stack([s, t, i], axis=1))
    events = cfg.model_copy(update={"input": str(tmp_path / "ev.npz")})
    np.testing.assert_array_equal(load_input(events, network), raster)
    # One raster target is every sample's.
    np.save(tmp_path / "goal.npy", raster[0, :, :3])
    raster_cfg = cfg.model_copy(update={"target": str(tmp_path / "goal.npy"),
                                        "target_kind": "raster"})  # fmt: skip
    assert load_target(raster_cfg, network, 4).shape == (4, 20, 3)


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"nb_steps": 21}, ["x.npy", "(4, 20, 6)", "nb_steps is 21"]),
        ({"input": "ev.npz"}, ["ev.npz", "input index 6", "0 to 5"]),
        ({"target": "bad.npy"}, ["bad.npy", "'target' holds 3", "0 to 2"]),
        ({"input": "poisson", "target": None, "nb_samples": 2}, None),
    ],
)
def test_bad_data_is_named(tmp_path, update, words):
    rng = np.random.default_rng(1)
    network = dense_network(rng, [6, 5, 3], ["LIF", "LIF"])
    np.save(tmp_path / "x.npy", (rng.random((4, 20, 6)) < 0.3).astype(np.float32))
    np.save(tmp_path / "bad.npy", np.array([0, 3, 1, 2]))
    np.savez(tmp_path / "ev.npz", events=np.array([[0, 1, 6]]))
    fields = dict(input="x.npy", target="bad.npy", nb_steps=20, target_kind="classes")
    cfg = load_workload(write_workload(tmp_path, network, **fields))
    changes = {
        k: (str(tmp_path / v) if k in ("input", "target") and v not in (None, "poisson") else v)
        for k, v in update.items()
    }
    cfg = cfg.model_copy(update=changes)
    if words is None:  # generated classes: labels cycle over the outputs
        np.testing.assert_array_equal(load_target(cfg, network, 5), [0, 1, 2, 0, 1])
        return
    with pytest.raises(QsnnError) as err:
        load_target(cfg, network, len(load_input(cfg, network)))
    for word in words:
        assert word in str(err.value)


def test_the_example_learns_its_classes():
    cfg = load_workload(EXAMPLE, ["nb_epochs=12"])
    result = train(cfg)
    assert result.net.backend == "fused"
    metrics = pd.DataFrame(result.metrics)
    assert metrics.loss.iloc[-3:].mean() < 0.6 * metrics.loss.iloc[:3].mean()
    assert metrics.accuracy.iloc[-1] >= 0.5 > metrics.accuracy.iloc[0]


def test_a_raster_target_trains_with_the_van_rossum_distance(tmp_path):
    rng = np.random.default_rng(3)
    network = dense_network(rng, [30, 20, 15], ["CubaLIF", "CubaLIF"], spike_first=True,
                            reset="subtract")  # fmt: skip
    cfg = load_workload(write_workload(tmp_path, network, nb_steps=40, nb_epochs=4, input_rate=0.2))
    result = train(cfg)
    assert set(result.metrics[0]) >= {"loss", "van_rossum", "spikes_fc1", "nonzero_w_fc2"}
    assert all(np.isfinite(m["loss"]) and m["loss"] > 0 for m in result.metrics)
    assert result.target.shape == (1, 40, 15) and result.target.any()  # the smiley


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nir")
    out = folder / "run"
    args = ["trace", str(EXAMPLE), "--set", "nb_epochs=3", "--set", "nb_samples=4"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    return out


def test_trace_writes_a_run_folder_the_estimator_prices(traced, tmp_path):
    for name in ("run.json", "metrics.csv", "weights.npz", "raster.png", "loss.png"):
        assert (traced / name).is_file(), name
    info = json.loads((traced / "trace.json").read_text())
    assert info["task"] == "nir" and info["precision"]["tag"] == "w4a8g8e8"
    assert info["normalisers"] == {
        "train_epochs": 3, "train_samples": 12, "infer_samples": 4, "time_steps": 50
    }  # fmt: skip
    trace = load_trace(traced)
    acc = trace.accesses
    assert set(acc.layer) >= {"fc1", "fc2"} and set(acc.phase) == {"train", "infer"}
    # Each sample's two layers update their membrane every step.
    mem = acc.query("phase == 'train' and stage == 'forward' and tensor == 'mem' and op == 'write'")
    assert set(mem.accesses) == {12 * 50}
    w = trace.tensors.query("layer == 'fc1' and tensor == 'weight'").iloc[0]
    assert (w.rows, w.cols, w.bits) == (100, 200, 4)
    assert main(["estimate", str(ARCH), "--trace", str(traced), "--out", str(tmp_path / "e")]) == 0
    assert pd.read_csv(tmp_path / "e" / "energy.csv")["energy_J"].sum() > 0
    run = json.loads((traced / "run.json").read_text())
    assert run["status"] == "done" and run["layers"] == ["fc1", "fc2"]
    assert run["precision"]["stored"]["weight"] == 4


def test_same_seed_same_run_and_inference_from_saved_weights(traced, tmp_path):
    again = tmp_path / "again"
    args = ["trace", str(EXAMPLE), "--set", "nb_epochs=3", "--set", "nb_samples=4", "-q"]
    assert main([*args, "--out", str(again)]) == 0
    assert (again / "accesses.csv").read_bytes() == (traced / "accesses.csv").read_bytes()
    assert (again / "metrics.csv").read_bytes() == (traced / "metrics.csv").read_bytes()
    infer = tmp_path / "infer"
    assert main([*args, "--phase", "infer", "--weights", str(traced), "--out", str(infer)]) == 0
    acc = load_trace(infer).accesses
    assert set(acc.phase) == {"infer"}
    mine = acc.sort_values(list(acc.columns)).reset_index(drop=True)
    theirs = load_trace(traced).accesses.query("phase == 'infer'")
    theirs = theirs.sort_values(list(acc.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    wrong = [*args, "--set", "weight_bits=6", "--phase", "infer", "--weights", str(traced)]
    assert main([*wrong, "--out", str(tmp_path / "x")]) == 2


def test_a_conv_network_traces_on_the_autograd_backend(tmp_path):
    rng = np.random.default_rng(11)
    network = conv_network(rng)
    path = write_workload(tmp_path, network, nb_steps=20, nb_epochs=2, nb_samples=2,
                          target_kind="classes", input_rate=0.3, grad_scale=1.0)  # fmt: skip
    out = tmp_path / "run"
    assert main(["trace", str(path), "--out", str(out), "-q"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["backend"] == "autograd"
    trace = load_trace(out)
    kernel = trace.tensors.query("layer == 'conv1' and tensor == 'weight'").iloc[0]
    assert bool(kernel.kernel) and kernel.unrolled_rows == 2 * 4 * 4
    assert set(trace.accesses.layer) >= {"conv1", "conv2", "fc3", "conv1_bias"}
    assert load_network(out.parent / "net.nir", 1e-3).layer_names == ["conv1", "conv2", "fc3"]
    fused = ["trace", str(path), "--set", "backend=fused", "--out", str(tmp_path / "f"), "-q"]
    assert main(fused) == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [("npy", "a single array, not a weights .npz"), ("junk", "not a readable weights file")],
)
def test_saved_weights_that_are_no_npz_are_named(tmp_path, capsys, content, words):
    bad = tmp_path / f"weights.{'npy' if content == 'npy' else 'npz'}"
    if content == "npy":
        np.save(bad, np.zeros((3, 3)))
    else:
        bad.write_bytes(b"not a zip file")
    args = ["trace", "workloads/nir_example.yaml", "--phase", "infer", "--weights", str(bad)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
