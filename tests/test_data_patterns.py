"""Generated ISCAS patterns: deterministic, right layout, the reference's density profile."""

import numpy as np
import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.smile.data import poisson_input, smile_target


def test_poisson_input_shape_dtype_binary():
    x = poisson_input()
    assert x.shape == (250, 700)  # (time, neuron)
    assert x.dtype == np.float32
    assert set(np.unique(x)) <= {0.0, 1.0}


def test_poisson_input_is_deterministic_per_seed():
    np.testing.assert_array_equal(poisson_input(seed=3), poisson_input(seed=3))
    assert not np.array_equal(poisson_input(seed=3), poisson_input(seed=4))


def test_poisson_input_density_profile():
    x = poisson_input(seed=0)
    rate = x.mean(axis=0)  # spikes per step per neuron
    assert 0.50 < rate[:5].mean() < 0.62  # λ = 1.25: ≈ 0.57
    assert 0.015 < rate[-5:].mean() < 0.045  # λ = 36: ≈ 0.028
    assert 0.085 < x.mean() < 0.098  # reference: 16,052 / 175,000 = 0.0917
    # Rate falls with the neuron index (compare groups of 100 neurons).
    groups = rate.reshape(7, 100).mean(axis=1)
    assert np.all(np.diff(groups) < 0)


def test_poisson_input_small_and_long_shapes():
    x = poisson_input(nb_inputs=3, nb_steps=2000, seed=1)
    assert x.shape == (2000, 3)
    assert 0.5 < x[:, 0].mean() < 0.65  # long runs must not stop early


def test_poisson_input_rejects_bad_sizes():
    with pytest.raises(QsnnError, match="nb_steps"):
        poisson_input(nb_steps=0)


def test_smile_target_shape_density_keep():
    full = smile_target(keep=1.0)
    kept = smile_target(keep=0.95, seed=0)
    assert full.shape == kept.shape == (250, 250)
    assert kept.dtype == np.float32
    assert 0.10 < full.mean() < 0.15
    # Only ones of the full drawing survive, about 95 % of them.
    assert np.all(kept <= full)
    assert 0.93 < kept.sum() / full.sum() < 0.97


def test_smile_target_is_a_face():
    full = smile_target(keep=1.0)
    assert full[125, 125] == 0  # the middle of the face is empty
    upper, lower = full[:125].sum(), full[125:].sum()
    assert abs(upper - lower) / full.sum() < 0.2  # outline + eyes vs outline + smile
    # Left-right symmetric drawing.
    assert (full == full[:, ::-1]).mean() > 0.99


def test_smile_target_deterministic_and_bad_keep():
    np.testing.assert_array_equal(smile_target(seed=5), smile_target(seed=5))
    assert not np.array_equal(smile_target(seed=5), smile_target(seed=6))
    with pytest.raises(QsnnError, match="keep"):
        smile_target(keep=1.5)
