"""The ISCAS 2020 spatio-temporal task: a 700-400-250 LIF network trained with BPTT and a van
Rossum loss to reproduce the smile spike pattern (docs/model.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..base import Metric, Task
from .config import SEED_NAMES, SmileWorkload
from .distance import DISTANCE_LABEL
from .precision import PRECISION_FIELDS, precision

LAYERS = ("fc1", "fc2")


# Training needs torch and numba: run.py is imported when a run starts, so that sweep planning,
# reports and the estimator (which read TASK) stay torch-free.
def run(cfg, run_dir, **options) -> Any:
    from .run import run as run_smile

    return run_smile(cfg, run_dir, **options)


def trace_saved_weights(cfg, weights, run_dir, **options) -> Any:
    from .run import trace_saved_weights as trace

    return trace(cfg, weights, run_dir, **options)


def summarize(metrics: pd.DataFrame) -> dict[str, float]:
    """Minimum van Rossum distance and training loss over training (two scales of one
    distance, :mod:`.distance`), final non-zero weight fractions."""
    last = metrics.iloc[-1]
    out = {
        "van_rossum_min": float(metrics["van_rossum"].min()),
        "loss_min": float(metrics["loss"].min()) if "loss" in metrics else np.nan,
    }
    for layer in LAYERS:
        col = f"nonzero_w_{layer}"
        out[col] = float(last[col]) if col in metrics.columns else np.nan
    return out


AXIS_ALIASES = {
    "weight": "weight_bits", "state": "state_bits", "error": "error_bits",
    "grad": "grad_bits", "rng": "rng_bits",
}  # fmt: skip

TASK = Task(
    name="smile",
    schema=SmileWorkload,
    seed_names=SEED_NAMES,
    path_fields=("input", "target"),
    precision_fields=PRECISION_FIELDS,
    axis_aliases=AXIS_ALIASES,
    quality=Metric("van_rossum_min", f"minimum {DISTANCE_LABEL}", lower_is_better=True),
    figures=("energy_vs_bits", "breakdown", "pareto", "density", "area"),
    # ISCAS 2020: the trained network's fraction of non-zero weights (energy-anchors.md).
    reference_density={2: 0.65, 3: 0.85, 4: 0.92, 5: 0.97, 6: 0.98},
    reference_label="ISCAS 2020 network",
    run=run,
    summarize=summarize,
    layers=lambda cfg: list(LAYERS),
    precision=precision,
    trace_saved_weights=trace_saved_weights,
    example_workload="workloads/smile_quick.yaml",
    example_overrides=("nb_epochs=3",),
)
