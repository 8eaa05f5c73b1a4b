"""Each report figure drawn from priced runs, by name: what ``qsnn-mem report`` saves and what
a notebook draws into its own axes (``qsnn_mem.api.draw``).

The slice of the sweep a bitwidth figure shows (``chosen``: other axes held, e.g.
``{"state_bits": "8"}``) defaults to the most frequent combination, as in the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..errors import QsnnError
from . import analysis, figures
from .breakdown import breakdown_figure
from .collect import Priced

# File stem -> the name a task lists in ``Task.figures``.
FIGURES = {
    "energy_vs_bits": "energy_vs_bits",
    "area_vs_bits": "area",
    "density_vs_bits": "density",
    "pareto": "pareto",
    "breakdown": "breakdown",
}


@dataclass
class Slice:
    """The tables the bitwidth figures are drawn from: one row per (arch, weight bits)."""

    chosen: dict[str, str]
    title: str
    trials: int
    per_epoch: pd.DataFrame
    per_infer: pd.DataFrame
    area: pd.DataFrame


def slice_tables(priced: Priced, chosen: dict[str, str] | None = None) -> Slice:
    """Means and std over trials of energy and area per (arch, weight bits) at ``chosen``."""
    chosen = analysis.choose_slice(priced, chosen or {})
    sl = analysis.slice_of(priced, chosen)
    trials = int(sl.groupby(["arch", "weight_bits"]).size().max())
    where = ", ".join(f"{k}={v}" for k, v in chosen.items())
    title = (f"{Path(priced.folder).resolve().name}{' at ' + where if where else ''}: "
             f"mean ± std over {trials} trial(s)")  # fmt: skip
    area = analysis.by_bits(sl, "area_m2")
    weight_area = analysis.by_bits(sl, "weight_area_m2")
    area[["weight_mean", "weight_std"]] = weight_area[["mean", "std"]].to_numpy()
    per_epoch = analysis.by_bits(sl, "energy_per_epoch_J")
    per_infer = analysis.by_bits(sl, "energy_per_inference_J")
    return Slice(chosen, title, trials, per_epoch, per_infer, area)


def design_points(priced: Priced) -> pd.DataFrame:
    """Means per design point with the Pareto flag (quality direction from the task)."""
    quality = priced.task.quality
    points = analysis.point_means(priced.summary, priced.axes, quality.column)
    points["pareto"] = analysis.pareto(points, quality.column, quality.lower_is_better)
    return points


def available(priced: Priced) -> list[str]:
    """The figures that apply to the priced runs' task, by file stem."""
    wanted = set(priced.task.figures)
    return [stem for stem, name in FIGURES.items() if name in wanted]


def draw(
    priced: Priced,
    name: str,
    *,
    ax=None,
    chosen: dict[str, str] | None = None,
    point: str | None = None,
    tables: Slice | None = None,
) -> Figure:
    """Draw the report figure ``name`` (a key of :data:`FIGURES`) of ``priced`` into ``ax``
    (a pair of axes for energy_vs_bits, a Figure or SubFigure for breakdown; a new figure if
    None). ``point``: the run of the breakdown figure (default: the report's)."""
    if name not in available(priced):
        raise QsnnError(
            f"figure {name!r} (allowed for {priced.task.name} runs: {', '.join(available(priced))})"
        )
    archs = [a.name for a in priced.archs]
    colour = figures.colours(archs)
    tables = tables or slice_tables(priced, chosen)
    if name == "energy_vs_bits":
        return figures.energy_vs_bits(
            tables.per_epoch, tables.per_infer, colour, tables.title, ax=ax
        )
    if name == "area_vs_bits":
        return figures.area_vs_bits(tables.area, colour, tables.title, ax=ax)
    if name == "density_vs_bits":
        return _density(priced, tables, ax)
    if name == "pareto":
        points = design_points(priced)
        title = f"{len(points)} design points (organization × configuration), means over seeds"
        front = points["pareto"].to_numpy()
        return figures.pareto_figure(points, front, colour, title, priced.task.quality, ax=ax)
    point = point or analysis.default_point(priced, tables.chosen)
    detail = analysis.breakdown(priced, point)
    return breakdown_figure(detail, archs, f"run {point}", colour=colour, fig=ax)


def _density(priced: Priced, tables: Slice, ax) -> Figure:
    """Non-zero weight fractions per layer (the metrics' ``nonzero_w_<layer>`` values) and of
    all weights (from tensors.csv) against weight bits."""
    runs = analysis.slice_of_runs(priced, tables.chosen)
    layers = [c for c in priced.values if c.startswith("nonzero_w_")]
    per_layer = {c.removeprefix("nonzero_w_"): analysis.by_bits(runs, c, ()) for c in layers}
    per_layer["all"] = analysis.by_bits(runs, "weight_density", ())
    task = priced.task
    return figures.density_vs_bits(
        per_layer, tables.title, task.reference_density, task.reference_label, ax=ax
    )
