"""``qsnn-mem report``: price a sweep's runs, draw the figures, write summary.csv, report.md and
report.html (the same report with its figures embedded: one file to share).

The runs' task says which figures apply (``task.figures``) and what the quality metric is."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..io import staged_folder, write_csv, write_json, write_text
from ..result_folder import check_replaceable
from . import analysis, figures
from .collect import Priced, price
from .draw import FIGURES, available, design_points, draw, slice_tables
from .html import to_html
from .markdown import render

# Everything a report folder may hold (what an earlier report of any task wrote).
FILES = {f"{stem}.{ext}" for stem in FIGURES for ext in ("png", "svg")}
FILES |= {"summary.csv", "energy_vs_bits.csv", "design_points.csv", "breakdown.csv"}
FILES |= {"report.md", "report.html", "report.json"}


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
    overwrite: bool = False,
) -> Report:
    """Everything the report folder holds; returns what was written (and the figures).

    The folder is written whole and put in place at once (a rerun with more finished runs
    replaces it; no stale figure of an earlier report stays). One holding a report of other
    organizations, slice or point is refused unless ``overwrite``; one holding files a report
    does not write always."""
    priced = price(sweep_dir, arch_paths)
    chosen = analysis.choose_slice(priced, analysis.parse_at(at or [], priced.task))
    point = point or analysis.default_point(priced, chosen)
    detail = analysis.breakdown(priced, point)  # checks --point before any file is written
    target = Path(out) if out is not None else Path(sweep_dir) / "report"
    inputs = {
        "archs": [a.model_dump(mode="json") for a in priced.archs],
        "at": chosen,
        "point": point,
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    differs = "other organizations, slice or point"
    check_replaceable(target, "report", FILES, key=key[:8], record="report.json",
                      differs=differs, overwrite=overwrite)  # fmt: skip
    with staged_folder(target) as stage:
        rep = Report(stage, Path(sweep_dir), priced, chosen, point, detail=detail)
        _write(rep)
        record = {"report_key": key[:8], "sweep": str(sweep_dir), "runs": len(priced.runs)}
        write_json(stage / "report.json", record | inputs)
    rep.files = [target / f.name for f in [*rep.files, stage / "report.json"]]
    rep.folder = target
    return rep


def _write(rep: Report) -> None:
    priced, folder = rep.priced, rep.folder
    views = slice_tables(priced, rep.chosen)
    rep.n_trials = views.trials
    rep.headline = _headline(views.per_epoch, views.per_infer, views.area)
    rep.points = design_points(priced)
    for stem in available(priced):
        rep.add(stem, draw(priced, stem, point=rep.point, tables=views))
    tables = {
        "summary.csv": priced.summary,
        "energy_vs_bits.csv": rep.headline,
        "design_points.csv": rep.points,
        "breakdown.csv": rep.detail,
    }
    for name, frame in tables.items():
        write_csv(folder / name, frame)
        rep.files.append(folder / name)
    text = render(rep)
    write_text(folder / "report.md", text)
    rep.files.append(folder / "report.md")
    write_text(folder / "report.html", to_html(text, folder))
    rep.files.append(folder / "report.html")


def _headline(per_epoch, per_infer, area) -> pd.DataFrame:
    """The energy-vs-bits figure's numbers: one row per (arch, weight bits)."""
    out = per_epoch.rename(columns={"mean": "epoch_mean_J", "std": "epoch_std_J"})
    out[["infer_mean_J", "infer_std_J"]] = per_infer[["mean", "std"]].to_numpy()
    out[["area_mean_m2", "area_std_m2"]] = area[["mean", "std"]].to_numpy()
    weights = area[["weight_mean", "weight_std"]].to_numpy()
    out[["weight_area_mean_m2", "weight_area_std_m2"]] = weights
    return out
