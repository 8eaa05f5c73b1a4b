"""Input and target rasters of the ISCAS "smile" task: generated deterministically from a seed
(:func:`poisson_input`, :func:`smile_target`) or read from the user's files.

Every raster is a float32 array of 0/1 with **rows = time steps**, the layout the training loop
consumes directly (the reference stored its input as (neuron, time) and transposed it).
"""

from __future__ import annotations

import numpy as np

from ...data.files import load_array
from ...errors import QsnnError
from .config import SmileWorkload


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise QsnnError(f"{name} = {value!r} is not allowed (allowed: an integer >= 1)")


def poisson_input(nb_inputs: int = 700, nb_steps: int = 250, seed: int = 0) -> np.ndarray:
    """Spike raster of ``nb_inputs`` renewal processes with slower and slower firing.

    Recipe (the reference's ``noise_prep.py``): neuron ``i`` has a mean inter-spike interval

        λ_i = 1 + 0.25 · (⌊i / 5⌋ + 1)  time steps   (1.25 for neurons 0-4, 36.0 for 695-699),

    its inter-spike intervals are integers drawn from Poisson(λ_i) (zero is possible), their
    cumulative sums are spike times, and every spike time ``< nb_steps`` is set to 1; intervals of
    zero put two spikes on the same step, which collapse into one. Density therefore falls from
    ≈ 0.55 spikes/step (first neurons) to ≈ 0.03 (last); with 700 × 250 about 0.09 overall.

    The reference drew 10,000 intervals per neuron; only the intervals that end before
    ``nb_steps`` matter, so intervals are drawn in blocks of ``nb_steps`` per neuron (all neurons
    at once, from ``numpy.random.default_rng(seed)``) until every neuron has passed ``nb_steps``.
    The result is a function of ``(nb_inputs, nb_steps, seed)`` only.

    Returns float32 of shape ``(nb_steps, nb_inputs)`` = (time, neuron).
    """
    _check_positive("nb_inputs", nb_inputs)
    _check_positive("nb_steps", nb_steps)
    rng = np.random.default_rng(seed)
    lam = 1.0 + 0.25 * (np.arange(nb_inputs) // 5 + 1)
    raster = np.zeros((nb_steps, nb_inputs), dtype=np.float32)
    offset = np.zeros(nb_inputs, dtype=np.int64)
    while (offset < nb_steps).any():
        intervals = rng.poisson(lam[:, None], size=(nb_inputs, nb_steps))
        times = offset[:, None] + np.cumsum(intervals, axis=1)
        neuron, which = np.nonzero(times < nb_steps)
        raster[times[neuron, which], neuron] = 1.0
        offset = times[:, -1]
    return raster


def _smiley(height: int, width: int) -> np.ndarray:
    """Boolean line drawing of a smiley face fitted to a ``height`` × ``width`` canvas."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    # Work in units of the canvas so any size gives the same drawing.
    y = (rows + 0.5) / height - 0.5
    x = (cols + 0.5) / width - 0.5
    thick = 0.014  # half line width: 7 px on a 250-px canvas, like a pen drawing
    face = np.abs(np.hypot(x, y) - 0.44) < thick
    eyes = np.zeros_like(face)
    for eye_x in (-0.15, 0.15):
        eyes |= np.hypot((x - eye_x) / 0.045, (y + 0.13) / 0.075) < 1.0
    # Smile: the lower part of a circle centred a little above the middle of the face.
    radius = np.hypot(x, y + 0.04)
    angle = np.degrees(np.arctan2(y + 0.04, x))  # image y grows downwards: 90° points down
    on_arc = (angle > 30.0) & (angle < 150.0)
    smile = on_arc & (np.abs(radius - 0.27) < thick * 1.2)
    # Round the two ends of the smile as a pen stroke would.
    for end in (30.0, 150.0):
        end_x = 0.27 * np.cos(np.radians(end))
        end_y = 0.27 * np.sin(np.radians(end)) - 0.04
        smile |= np.hypot(x - end_x, y - end_y) < thick * 1.2
    return face | eyes | smile


def smile_target(
    nb_steps: int = 250, nb_outputs: int = 250, keep: float = 0.95, seed: int = 0
) -> np.ndarray:
    """Target raster showing a smiley face, with a fraction ``1 - keep`` of its spikes removed.

    Recipe (after the reference's ``image_prep.py``, which thresholded a dark-on-white smiley
    photograph at RGB sum < 500): a smiley is drawn procedurally on an ``nb_steps`` × ``nb_outputs``
    canvas (a face circle, two filled oval eyes and a smile arc, lines ≈ 3 % of the canvas wide),
    dark pixels become 1 (≈ 11 % of the pixels at 250 × 250), and every 1 is kept with probability
    ``keep`` by an independent Bernoulli mask from ``numpy.random.default_rng(seed)``
    (``keep=0.95`` is the reference's ``smile95``; 1.0 gives ``smile100``).

    Returns float32 of shape ``(nb_steps, nb_outputs)``: rows = time steps, columns = output
    neurons, the layout the loss compares against the output raster.
    """
    _check_positive("nb_steps", nb_steps)
    _check_positive("nb_outputs", nb_outputs)
    if not 0.0 <= float(keep) <= 1.0:
        raise QsnnError(f"keep = {keep!r} is not allowed (allowed: a probability in [0, 1])")
    drawing = _smiley(nb_steps, nb_outputs)
    mask = np.random.default_rng(seed).random(drawing.shape) < keep
    return (drawing & mask).astype(np.float32)


def smile_input(cfg: SmileWorkload) -> np.ndarray:
    """(nb_steps, nb_inputs) binary raster; a file may hold it as (nb_inputs, nb_steps) too."""
    if cfg.input == "generate":
        return poisson_input(cfg.nb_inputs, cfg.nb_steps, seed=cfg.seed)
    array = load_array(cfg.input, name="input", binary=True)
    if array.shape == (cfg.nb_inputs, cfg.nb_steps):  # the reference's orientation
        return np.ascontiguousarray(array.T)
    if array.shape == (cfg.nb_steps, cfg.nb_inputs):
        return array
    raise QsnnError(
        f"{cfg.input}: input has shape {array.shape}, expected (nb_inputs, nb_steps) = "
        f"({cfg.nb_inputs}, {cfg.nb_steps}) or its transpose"
    )


def smile_target_raster(cfg: SmileWorkload) -> np.ndarray:
    """(nb_steps, nb_outputs) binary raster: rows are time steps, columns output neurons."""
    if cfg.target == "generate":
        return smile_target(cfg.nb_steps, cfg.nb_outputs, keep=cfg.target_keep, seed=cfg.seed)
    return load_array(
        cfg.target, name="target", expect_shape=(cfg.nb_steps, cfg.nb_outputs), binary=True
    )
