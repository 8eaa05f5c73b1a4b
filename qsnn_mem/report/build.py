"""``qsnn-mem report``: price a sweep's runs, draw the figures, write summary.csv and report.md.

The runs' task says which figures apply (``task.figures``) and what the quality metric is."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..io import ensure_dir, write_csv, write_text
from . import analysis, figures
from .collect import Priced, price
from .markdown import render


@dataclass
class Report:
    folder: Path
    source: Path
    priced: Priced
    chosen: dict[str, str]
    point: str
    files: list[Path] = field(default_factory=list)
    headline: pd.DataFrame | None = None
    points: pd.DataFrame | None = None
    detail: pd.DataFrame | None = None
    n_trials: int = 1


def build_report(
    sweep_dir: str | os.PathLike,
    arch_paths: list[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    at: list[str] | None = None,
    point: str | None = None,
) -> Report:
    """Everything the report folder holds; returns what was written."""
    priced = price(sweep_dir, arch_paths)
    chosen = analysis.choose_slice(priced, analysis.parse_at(at or [], priced.task))
    point = point or analysis.default_point(priced, chosen)
    detail = analysis.breakdown(priced, point)  # checks --point before any file is written
    folder = ensure_dir(Path(out) if out is not None else Path(sweep_dir) / "report")
    rep = Report(folder, Path(sweep_dir), priced, chosen, point, detail=detail)
    sl = analysis.slice_of(priced, chosen)
    rep.n_trials = int(sl.groupby(["arch", "weight_bits"]).size().max())
    where = ", ".join(f"{k}={v}" for k, v in chosen.items())
    title = (f"{Path(sweep_dir).resolve().name}{' at ' + where if where else ''}: "
             f"mean ± std over {rep.n_trials} trial(s)")  # fmt: skip
    colour = figures.colours([a.name for a in priced.archs])
    wanted = set(priced.task.figures)

    per_epoch = analysis.by_bits(sl, "energy_per_epoch_J")
    per_infer = analysis.by_bits(sl, "energy_per_inference_J")
    area = analysis.by_bits(sl, "area_m2")
    rep.headline = _headline(per_epoch, per_infer, area)
    if "energy_vs_bits" in wanted:
        fig = figures.energy_vs_bits(per_epoch, per_infer, colour, title)
        rep.files += figures.save(fig, folder, "energy_vs_bits")
    if "area" in wanted:
        rep.files += figures.save(figures.area_vs_bits(area, colour, title), folder, "area_vs_bits")
    if "density" in wanted:
        rep.files += figures.save(_density(priced, chosen, title), folder, "density_vs_bits")
    rep.points = _design_points(priced)
    if "pareto" in wanted:
        rep.files += figures.save(_pareto(priced, rep.points, colour), folder, "pareto")
    if "breakdown" in wanted:
        fig = figures.breakdown_figure(detail, [a.name for a in priced.archs], f"run {point}")
        rep.files += figures.save(fig, folder, "breakdown")

    tables = {
        "summary.csv": priced.summary,
        "energy_vs_bits.csv": rep.headline,
        "design_points.csv": rep.points,
        "breakdown.csv": detail,
    }
    for name, frame in tables.items():
        write_csv(folder / name, frame)
        rep.files.append(folder / name)
    write_text(folder / "report.md", render(rep))
    rep.files.append(folder / "report.md")
    return rep


def _headline(per_epoch, per_infer, area) -> pd.DataFrame:
    """The energy-vs-bits figure's numbers: one row per (arch, weight bits)."""
    out = per_epoch.rename(columns={"mean": "epoch_mean_J", "std": "epoch_std_J"})
    out[["infer_mean_J", "infer_std_J"]] = per_infer[["mean", "std"]].to_numpy()
    out[["area_mean_m2", "area_std_m2"]] = area[["mean", "std"]].to_numpy()
    return out


def _design_points(priced: Priced) -> pd.DataFrame:
    """Means per design point with the Pareto flag (quality direction from the task)."""
    quality = priced.task.quality
    points = analysis.point_means(priced.summary, priced.axes, quality.column)
    points["pareto"] = analysis.pareto(points, quality.column, quality.lower_is_better)
    return points


def _pareto(priced: Priced, points: pd.DataFrame, colour):
    quality = priced.task.quality
    title = (f"{quality.label} vs energy, all {len(points)} design points "
             "(means over trials)")  # fmt: skip
    return figures.pareto_figure(points, points["pareto"].to_numpy(), colour, title, quality)


def _density(priced: Priced, chosen: dict[str, str], title: str):
    """Non-zero weight fractions per layer (the metrics' ``nonzero_w_<layer>`` values) and of
    all weights (from tensors.csv) against weight bits."""
    runs = analysis.slice_of_runs(priced, chosen)
    layers = [c for c in priced.values if c.startswith("nonzero_w_")]
    tables = {c.removeprefix("nonzero_w_"): analysis.by_bits(runs, c, ()) for c in layers}
    tables["all"] = analysis.by_bits(runs, "weight_density", ())
    task = priced.task
    return figures.density_vs_bits(tables, title, task.reference_density, task.reference_label)
