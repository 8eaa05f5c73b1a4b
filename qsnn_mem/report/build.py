"""``qsnn-mem report``: price a sweep's runs, draw the figures, write summary.csv and report.md."""

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
    chosen = analysis.choose_slice(priced, analysis.parse_at(at or [], analysis.task_of(priced)))
    point = point or analysis.default_point(priced, chosen)
    detail = analysis.breakdown(priced, point)  # checks --point before any file is written
    folder = ensure_dir(Path(out) if out is not None else Path(sweep_dir) / "report")
    rep = Report(folder, Path(sweep_dir), priced, chosen, point)
    colour = figures.colours([a.name for a in priced.archs])
    where = ", ".join(f"{k}={v}" for k, v in chosen.items())
    where = f" at {where}" if where else ""
    sl = analysis.slice_of(priced, chosen)
    n_trials = int(sl.groupby(["arch", "weight_bits"]).size().max())

    per_epoch = analysis.by_bits(sl, "energy_per_epoch_J")
    per_infer = analysis.by_bits(sl, "energy_per_inference_J")
    headline = per_epoch.rename(columns={"mean": "epoch_mean_J", "std": "epoch_std_J"})
    headline[["infer_mean_J", "infer_std_J"]] = per_infer[["mean", "std"]].to_numpy()
    area = analysis.by_bits(sl, "area_m2")
    headline[["area_mean_m2", "area_std_m2"]] = area[["mean", "std"]].to_numpy()
    rep.headline = headline
    title = f"{Path(sweep_dir).resolve().name}{where}: mean ± std over {n_trials} trial(s)"
    rep.files += figures.save(
        figures.energy_vs_bits(per_epoch, per_infer, colour, title), folder, "energy_vs_bits"
    )
    rep.files += figures.save(figures.area_vs_bits(area, colour, title), folder, "area_vs_bits")

    runs = analysis.slice_of_runs(priced, chosen)
    dens = {
        "fc1": analysis.by_bits(runs, "nonzero_w_fc1", ()),
        "fc2": analysis.by_bits(runs, "nonzero_w_fc2", ()),
        "both": analysis.by_bits(runs, "weight_density", ()),
    }
    fig = figures.density_vs_bits(dens, title)
    rep.files += figures.save(fig, folder, "density_vs_bits")

    points = analysis.point_means(priced.summary, priced.axes)
    front = analysis.pareto(points)
    points["pareto"] = front
    fig = figures.pareto_figure(points, front, colour, f"accuracy vs energy, all {len(points)} "
                                "design points (means over trials)")  # fmt: skip
    rep.files += figures.save(fig, folder, "pareto")

    fig = figures.breakdown_figure(detail, [a.name for a in priced.archs], f"run {point}")
    rep.files += figures.save(fig, folder, "breakdown")

    tables = {
        "summary.csv": priced.summary,
        "energy_vs_bits.csv": headline,
        "design_points.csv": points,
        "breakdown.csv": detail,
    }
    for name, frame in tables.items():
        write_csv(folder / name, frame)
        rep.files.append(folder / name)
    text = render(rep, headline, points, detail, n_trials)
    write_text(folder / "report.md", text)
    rep.files.append(folder / "report.md")
    return rep
