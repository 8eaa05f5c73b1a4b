"""Bring your own network: a feed-forward spiking network read from a NIR graph file,
WAGE-quantized as the smile task, trained with BPTT and traced (docs/nir.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..base import Metric, Task
from .config import SEED_NAMES, NirWorkload
from .nir_file import load_network
from .precision import PRECISION_FIELDS, precision


# Training needs torch and numba: run.py is imported when a run starts, so that sweep planning,
# reports and the estimator (which read TASK) stay torch-free.
def run(cfg, run_dir, **options) -> Any:
    from .run import run as run_nir

    return run_nir(cfg, run_dir, **options)


def trace_saved_weights(cfg, weights, run_dir, **options) -> Any:
    from .run import trace_saved_weights as trace

    return trace(cfg, weights, run_dir, **options)


def summarize(metrics: pd.DataFrame) -> dict[str, float]:
    """Minimum loss over training, best accuracy (classes) or minimum van Rossum distance
    (raster), and the final non-zero forward weight fraction of every layer."""
    out = {"loss_min": float(metrics["loss"].min())}
    if "accuracy" in metrics.columns:
        out["accuracy_max"] = float(metrics["accuracy"].max())
    if "van_rossum" in metrics.columns:
        out["van_rossum_min"] = float(metrics["van_rossum"].min())
    last = metrics.iloc[-1]
    for col in metrics.columns:
        if col.startswith("nonzero_w_"):
            out[col] = float(last[col])
    return out


def layers(cfg: NirWorkload) -> list[str]:
    """The layer names of the workload's graph (its synapse nodes), in order."""
    return load_network(cfg.graph, cfg.dt).layer_names


AXIS_ALIASES = {
    "weight": "weight_bits", "state": "state_bits", "error": "error_bits",
    "grad": "grad_bits", "rng": "rng_bits",
}  # fmt: skip

TASK = Task(
    name="nir",
    schema=NirWorkload,
    seed_names=SEED_NAMES,
    path_fields=("graph", "input", "target"),
    precision_fields=PRECISION_FIELDS,
    axis_aliases=AXIS_ALIASES,
    quality=Metric(
        "loss_min", "minimum training loss (cross-entropy or van Rossum)", lower_is_better=True
    ),
    figures=("energy_vs_bits", "breakdown", "pareto", "density", "area"),
    run=run,
    summarize=summarize,
    layers=layers,
    precision=precision,
    trace_saved_weights=trace_saved_weights,
    example_workload="workloads/nir_example.yaml",
    example_overrides=("nb_epochs=2",),
)
