"""The training loop: learning, determinism, interruption, data files."""

import numpy as np
import pytest

from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.data import poisson_input, smile_input
from qsnn_mem.tasks.smile.train import train
from qsnn_mem.workload import load_workload

SMALL = dict(nb_inputs=100, nb_hidden=60, nb_outputs=40, nb_steps=60)


def test_quick_workload_loss_falls():
    cfg = load_workload("workloads/smile_quick.yaml", ["nb_epochs=30"])
    metrics = train(cfg).metrics
    first = metrics[0]["loss"]
    late = np.mean([m["loss"] for m in metrics[-5:]])
    assert late < 0.95 * first


def test_same_seed_same_metrics_and_another_seed_differs():
    runs = [train(SmileWorkload(**SMALL, nb_epochs=8, seed=s)).metrics for s in (5, 5, 6)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_interrupt_keeps_the_finished_epochs():
    def stop_at_three(result, res):
        if len(result.metrics) == 3:
            raise KeyboardInterrupt

    result = train(SmileWorkload(**SMALL, nb_epochs=50), on_epoch=stop_at_three)
    assert result.interrupted
    assert [m["epoch"] for m in result.metrics] == [0, 1, 2]


def test_metrics_columns():
    row = train(SmileWorkload(**SMALL, nb_epochs=1)).metrics[0]
    assert set(row) == {
        "epoch",
        "loss",
        "van_rossum",
        "spikes_fc1",
        "spikes_fc2",
        "nonzero_w_fc1",
        "nonzero_w_fc2",
    }
    assert 0 < row["nonzero_w_fc1"] < 1
    # The textbook van Rossum normalisation of the same distance.
    assert row["van_rossum"] == pytest.approx(row["loss"] * (1e-3 * 5e-3 / 5e-3) ** 0.5)


def test_input_file_in_the_reference_orientation(tmp_path):
    raster = poisson_input(SMALL["nb_inputs"], SMALL["nb_steps"], seed=9)
    np.save(tmp_path / "input.npy", raster.T)  # (neuron, time) as input_700_250_25.pkl
    cfg = SmileWorkload(**SMALL, input=str(tmp_path / "input.npy"))
    assert np.array_equal(smile_input(cfg), raster)
