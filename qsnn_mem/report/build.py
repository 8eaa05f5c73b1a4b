"""``qsnn-mem report``: price a sweep's runs, draw the figures, write summary.csv, report.md and
report.html (the same report with its figures embedded: one file to share).

The runs' task says which figures apply (``task.figures``) and what the quality metric is."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..io import ensure_dir, write_csv, write_text
from . import analysis, figures
from .collect import Priced, price
from .draw import available, design_points, draw, slice_tables
from .html import to_html
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
    # The figures drawn, by file stem (closed: saved, not shown; still inspectable).
    figures: dict[str, Figure] = field(default_factory=dict)

    def add(self, stem: str, fig: Figure) -> None:
        self.figures[stem] = fig
        self.files += figures.save(fig, self.folder, stem)


def build_report(
    sweep_dir: str | os.PathLike,
    arch_paths: list[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    at: list[str] | None = None,
    point: str | None = None,
) -> Report:
    """Everything the report folder holds; returns what was written (and the figures)."""
    priced = price(sweep_dir, arch_paths)
    chosen = analysis.choose_slice(priced, analysis.parse_at(at or [], priced.task))
    point = point or analysis.default_point(priced, chosen)
    detail = analysis.breakdown(priced, point)  # checks --point before any file is written
    folder = ensure_dir(Path(out) if out is not None else Path(sweep_dir) / "report")
    rep = Report(folder, Path(sweep_dir), priced, chosen, point, detail=detail)
    views = slice_tables(priced, chosen)
    rep.n_trials = views.trials
    rep.headline = _headline(views.per_epoch, views.per_infer, views.area)
    rep.points = design_points(priced)
    for stem in available(priced):
        rep.add(stem, draw(priced, stem, point=point, tables=views))

    tables = {
        "summary.csv": priced.summary,
        "energy_vs_bits.csv": rep.headline,
        "design_points.csv": rep.points,
        "breakdown.csv": detail,
    }
    for name, frame in tables.items():
        write_csv(folder / name, frame)
        rep.files.append(folder / name)
    text = render(rep)
    write_text(folder / "report.md", text)
    rep.files.append(folder / "report.md")
    write_text(folder / "report.html", to_html(text, folder))
    rep.files.append(folder / "report.html")
    return rep


def _headline(per_epoch, per_infer, area) -> pd.DataFrame:
    """The energy-vs-bits figure's numbers: one row per (arch, weight bits)."""
    out = per_epoch.rename(columns={"mean": "epoch_mean_J", "std": "epoch_std_J"})
    out[["infer_mean_J", "infer_std_J"]] = per_infer[["mean", "std"]].to_numpy()
    out[["area_mean_m2", "area_std_m2"]] = area[["mean", "std"]].to_numpy()
    weights = area[["weight_mean", "weight_std"]].to_numpy()
    out[["weight_area_mean_m2", "weight_area_std_m2"]] = weights
    return out
