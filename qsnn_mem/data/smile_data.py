"""Input and target rasters of the smile task, generated or read from the user's files."""

from __future__ import annotations

import numpy as np

from ..config import SmileWorkload
from ..errors import QsnnError
from .files import load_array
from .patterns import poisson_input, smile_target


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
