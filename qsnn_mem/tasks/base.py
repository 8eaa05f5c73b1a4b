"""What sweep, report, CLI and run folders ask of an experiment: the one small Task interface.

A task is a frozen record of facts (its workload schema, the reference's option names, which
fields make up its precision, its quality metric, the report figures that apply) plus three
functions (run, summarize, layers). Nothing outside ``qsnn_mem/tasks/<name>/`` names an
experiment; adding a network is one folder and one line in :data:`qsnn_mem.tasks.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel


@dataclass(frozen=True)
class Metric:
    """A run's quality, as one number per run in the report's summary."""

    column: str  # summary column, e.g. "van_rossum_min" or "accuracy_max"
    label: str  # axis label, with its unit
    lower_is_better: bool


@dataclass(frozen=True)
class Precision:
    """A run's precision, computed once by its task and passed down: the configured bitwidths
    (``None`` = float), their folder tag, and the bits each tensor of the trace vocabulary
    occupies in memory (which may differ from the configured width: e.g. DECOLLE's shadow
    weights live on the gradient grid). Tracers and reports read ``stored``; nothing re-reads
    bit fields from the config."""

    tag: str
    configured: dict[str, int | None]
    stored: dict[str, int]

    def bits(self, tensor: str) -> int:
        """Stored bits of a vocabulary tensor (``weight``, ``mem``, ...)."""
        return self.stored[tensor]


@dataclass(frozen=True)
class Task:
    """One experiment. ``run(cfg, run_dir, *, trace_mode, infer, on_epoch, command, overwrite)``
    trains (and traces) a validated workload into ``run_dir``; ``summarize(metrics)`` turns a
    run's metrics.csv into its summary values (``quality.column`` among them); ``layers(cfg)``
    names the layers in the order of the network."""

    name: str
    schema: type[BaseModel]
    seed_names: dict[str, str]  # the reference's option names -> schema fields
    path_fields: tuple[str, ...]  # fields holding data paths (relative to the YAML file)
    precision_fields: tuple[str, ...]  # the fields of the precision tag, in tag order
    axis_aliases: dict[str, str]  # short grid axis names -> schema fields
    quality: Metric
    figures: tuple[str, ...]  # report figures that apply (qsnn_mem.report.figures)
    run: Callable[..., Any]
    summarize: Callable[[pd.DataFrame], dict[str, float]]
    layers: Callable[[Any], list[str]]
    precision: Callable[[Any], Precision] | None = None
    # Published weight density per weight bitwidth, drawn beside the runs' on the density
    # figure, and whose it is (e.g. the paper's trained network).
    reference_density: dict[int, float] = field(default_factory=dict)
    reference_label: str = ""
    # ``trace_saved_weights(cfg, weights, run_dir, *, trace_mode, command)``: one traced
    # inference with the weights of an earlier run (``qsnn-mem trace --phase infer``); None
    # where the task cannot (the CLI then says so).
    trace_saved_weights: Callable[..., Any] | None = None
    # A workload that runs in seconds with these overrides (the contract test runs every task).
    example_workload: str = ""
    example_overrides: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def precision_tag(self, cfg: Any) -> str:
        """The folder name of a precision setup, e.g. ``w2a8g8e8``."""
        if self.precision is not None:
            return self.precision(cfg).tag
        return str(cfg.precision_tag)

    def describe(self, folder: Path) -> str:
        return f"{self.name} run {folder}"
