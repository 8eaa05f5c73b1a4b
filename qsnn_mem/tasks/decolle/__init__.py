"""The ICONS 2020 task: DECOLLE local learning in a 3-layer convolutional LIF network on DVS
Gesture / DVS Poker recordings, every state variable quantized (docs/decolle.md)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..base import Metric, Task
from .config import DECOLLE_SEED_NAMES, DecolleWorkload
from .precision import PRECISION_FIELDS, precision


def run(cfg, run_dir, **options) -> Any:
    # Training needs torch; imported when a run starts so that sweep planning, reports and the
    # estimator (which import the registry) stay torch-free.
    from .run import run_decolle

    return run_decolle(cfg, run_dir, **options)


def summarize(metrics: pd.DataFrame) -> dict[str, float]:
    """Best accuracy of every layer's readout over training (test if measured, else train),
    the last layer's as ``accuracy_max``; the minimum loss."""
    out: dict[str, float] = {"loss_min": float(metrics["loss"].min())}
    split = "test" if any(c.startswith("test_acc") for c in metrics.columns) else "train"
    layers = sorted(
        int(m.group(1)) for c in metrics.columns if (m := re.fullmatch(rf"{split}_acc(\d+)", c))
    )
    for k in layers:
        out[f"accuracy_layer{k}"] = float(metrics[f"{split}_acc{k}"].max())
    out["accuracy_max"] = out[f"accuracy_layer{layers[-1]}"] if layers else float("nan")
    return out


AXIS_ALIASES = {
    "weight": "weight_bits", "state": "mem_bits", "error": "error_bits",
    "grad": "grad_bits", "rng": "rng_bits",
}  # fmt: skip

TASK = Task(
    name="decolle",
    schema=DecolleWorkload,
    seed_names=DECOLLE_SEED_NAMES,
    path_fields=("train_file", "test_file"),
    precision_fields=PRECISION_FIELDS,
    axis_aliases=AXIS_ALIASES,
    quality=Metric(
        "accuracy_max", "best accuracy of the last layer (fraction correct)", lower_is_better=False
    ),
    figures=("energy_vs_bits", "breakdown", "pareto", "area"),
    run=run,
    summarize=summarize,
    layers=lambda cfg: [f"conv{k + 1}" for k in range(len(cfg.channels))],
    precision=precision,
    example_workload="workloads/decolle_quick.yaml",
    example_overrides=(
        "epochs=1",
        "max_batches=2",
        "generated.train_samples=20",
        "generated.test_samples=8",
        "validation_fraction=0",
    ),
)
