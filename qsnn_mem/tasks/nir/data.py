"""Input and target of a NIR workload: generated from the seed or read from the user's files,
checked against the network's shapes. Inputs are float32 rasters (samples, steps,
*input_shape) of 0/1; targets are class labels (samples,) or rasters (samples, steps,
*output_shape). Every problem is a QsnnError naming the file, the field and what is allowed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ...data.files import load_array
from ...errors import QsnnError
from ..smile.data import smile_target
from .config import POISSON, NirWorkload
from .graph import Network

CLASS_GAIN = 3.0  # generated classes: the class's block of inputs fires this much faster
EVENTS_KEY = "events"


def load_input(cfg: NirWorkload, network: Network) -> np.ndarray:
    """(samples, nb_steps, *input_shape) float32 spikes."""
    shape = tuple(network.input_shape)
    if cfg.input == POISSON:
        return poisson(cfg, network)
    events = _events(cfg.input)
    if events is not None:
        return _raster_from_events(cfg, events, shape)
    array = load_array(cfg.input, name="input", binary=True)
    return _samples(array, cfg.nb_steps, shape, cfg.input, "field 'input'", "input_shape")


def poisson(cfg: NirWorkload, network: Network) -> np.ndarray:
    """Bernoulli spikes of probability ``input_rate`` per input and step, ``nb_samples``
    samples, from ``numpy.random.default_rng(seed)``. With generated class targets, sample
    ``k`` is class ``k mod C`` and the ``c``-th of ``C`` equal blocks of the flattened inputs
    fires ``CLASS_GAIN`` times faster (at most every step)."""
    rng = np.random.default_rng(cfg.seed)
    shape = tuple(network.input_shape)
    n = int(np.prod(shape))
    rates = np.full((cfg.nb_samples, n), cfg.input_rate)
    if cfg.target_kind == "classes" and cfg.target is None:
        classes = network.layers[-1].n_out
        for k in range(cfg.nb_samples):
            c = k % classes
            rates[k, c * n // classes : (c + 1) * n // classes] *= CLASS_GAIN
    draws = rng.random((cfg.nb_samples, cfg.nb_steps, n)) < np.minimum(rates, 1.0)[:, None, :]
    return draws.astype(np.float32).reshape(cfg.nb_samples, cfg.nb_steps, *shape)


def load_target(cfg: NirWorkload, network: Network, samples: int) -> np.ndarray:
    """Class labels (samples,) int64, or target rasters (samples, nb_steps, *output_shape)."""
    out_shape = tuple(network.layers[-1].out_shape)
    n_out = int(np.prod(out_shape))
    if cfg.target_kind == "classes":
        if n_out < 2:
            raise QsnnError(
                f"{network.source}: target_kind 'classes' needs an output layer of at least 2 "
                f"neurons (one per class); this graph's has {n_out} (use target_kind: raster)"
            )
        if cfg.target is None:
            if cfg.input != POISSON:
                raise QsnnError(
                    f"field 'target' = null generates class labels for poisson input only; with "
                    f"input {cfg.input} give a .npy file of labels, one per sample ({samples})"
                )
            return np.arange(samples, dtype=np.int64) % n_out
        labels = load_array(cfg.target, name="target", expect_shape=(samples,))
        bad = (labels != np.round(labels)) | (labels < 0) | (labels >= n_out)
        if bad.any():
            raise QsnnError(
                f"{cfg.target}: field 'target' holds {labels[bad].flat[0]:g} (allowed: class "
                f"labels, integers 0 to {n_out - 1}, one per output neuron)"
            )
        return labels.astype(np.int64)
    if cfg.target is None:
        drawn = smile_target(cfg.nb_steps, n_out, keep=0.95, seed=cfg.seed)
        return np.repeat(drawn.reshape(1, cfg.nb_steps, *out_shape), samples, axis=0)
    array = load_array(cfg.target, name="target", binary=True)
    rasters = _samples(array, cfg.nb_steps, out_shape, cfg.target, "field 'target'", "output shape")
    if rasters.shape[0] == 1 and samples > 1:
        return np.repeat(rasters, samples, axis=0)
    if rasters.shape[0] != samples:
        raise QsnnError(
            f"{cfg.target}: field 'target' has {rasters.shape[0]} samples, the input {samples} "
            "(allowed: one raster for every sample, or one for all)"
        )
    return rasters


def _samples(
    array: np.ndarray, steps: int, shape: tuple, file: str, field: str, what: str
) -> np.ndarray:
    """A raster (steps, *shape) or (samples, steps, *shape) as (samples, steps, *shape)."""
    if array.shape == (steps, *shape):
        return array[None]
    if array.ndim == len(shape) + 2 and array.shape[1:] == (steps, *shape) and array.shape[0]:
        return array
    dims = ", ".join(str(n) for n in (steps, *shape))
    raise QsnnError(
        f"{file}: {field} has shape {array.shape} (allowed: (nb_steps, *{what}) = ({dims}), or "
        f"(samples, {dims}); nb_steps is {steps})"
    )


def _events(path: str) -> np.ndarray | None:
    """The 'events' array of an .npz file, or None when the file holds a raster."""
    file = Path(path)
    if file.suffix.lower() != ".npz" or not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as archive:
            if EVENTS_KEY not in archive.files:
                return None
            return archive[EVENTS_KEY]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable .npz file: {exc}") from None


def _raster_from_events(cfg: NirWorkload, events: np.ndarray, shape: tuple) -> np.ndarray:
    n = int(np.prod(shape))
    ok = events.ndim == 2 and events.shape[1] in (2, 3) and events.dtype.kind in "iu"
    if not ok:
        raise QsnnError(
            f"{cfg.input}: field 'input' events have shape {events.shape} and dtype "
            f"{events.dtype} (allowed: integer rows (step, index) or (sample, step, index))"
        )
    if events.shape[1] == 2:
        events = np.concatenate([np.zeros((len(events), 1), events.dtype), events], axis=1)
    limits = (("sample", None), ("step", cfg.nb_steps), ("input index", n))
    for col, (what, high) in enumerate(limits):
        values = events[:, col]
        bad = (values < 0) | (False if high is None else values >= high)
        if np.any(bad):
            allowed = "0 or more" if high is None else f"0 to {high - 1}"
            raise QsnnError(
                f"{cfg.input}: field 'input' has an event with {what} {values[bad][0]} "
                f"(allowed: {allowed})"
            )
    samples = int(events[:, 0].max()) + 1 if len(events) else 1
    raster = np.zeros((samples, cfg.nb_steps, n), np.float32)
    raster[events[:, 0], events[:, 1], events[:, 2]] = 1.0
    return raster.reshape(samples, cfg.nb_steps, *shape)
