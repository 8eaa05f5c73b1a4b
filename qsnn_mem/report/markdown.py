"""report.md: the figures with one-line captions, and tables of the best points. Where a run
stored (and was priced at) other weight bits than configured, the tables add a column
"stored weight bits"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..tasks import Metric
from . import analysis
from .figures import unit

if TYPE_CHECKING:
    from .build import Report


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _e(value: float, scale: float, label: str, std: float | None = None) -> str:
    if value != value:
        return "-"
    text = f"{value / scale:.4g}"
    if std is not None and std > 0:
        text += f" ± {std / scale:.2g}"
    return f"{text} {label}"


def _figure(stem: str, alt: str, caption: str) -> str:
    return f"![{alt}]({stem}.png)\n\n*{caption}* ([SVG]({stem}.svg))\n"


def _differs(frame: pd.DataFrame) -> bool:
    """Whether some run stored its weights at other bits than configured (float weights,
    configured as null, do not count)."""
    if "stored_weight_bits" not in frame:
        return False
    configured = frame["weight_bits"]
    return bool((configured.notna() & (frame["stored_weight_bits"] != configured)).any())


def _stored(bits) -> str:
    """Stored weight bits (one value or several rows'), e.g. ``10`` (``10/12`` where they
    differ)."""
    return "/".join(str(int(b)) for b in sorted(set(np.atleast_1d(bits))))


def _winner_table(headline: pd.DataFrame, archs: list[str]) -> str:
    scale, label = unit(headline["epoch_mean_J"])
    stored = _differs(headline)
    rows = []
    for bits, group in headline.groupby("weight_bits", sort=True):
        by = group.set_index("arch")
        cells = [
            _e(by.at[a, "epoch_mean_J"], scale, label, by.at[a, "epoch_std_J"])
            if a in by.index else "-"
            for a in archs
        ]  # fmt: skip
        best = by["epoch_mean_J"].idxmin()
        runner = by["epoch_mean_J"].drop(best).min() if len(by) > 1 else float("nan")
        gain = f" ({runner / by.at[best, 'epoch_mean_J']:.2f}× less)" if runner == runner else ""
        extra = [_stored(group["stored_weight_bits"])] if stored else []
        rows.append([str(int(bits)), *extra, *cells, f"**{best}**{gain}"])
    header = ["weight bits", *(["stored weight bits"] if stored else [])]
    return _table([*header, *[f"{a} per epoch" for a in archs], "lowest"], rows)


def _q(value: float) -> str:
    return "-" if value != value else f"{value:.4g}"


def _best_table(points: pd.DataFrame, metric: Metric) -> str:
    """Per organization: the point of lowest energy and the point of best quality."""
    scale, label = unit(points["energy_per_epoch_J"])
    best = "idxmin" if metric.lower_is_better else "idxmax"
    stored = _differs(points)
    rows = []
    for arch, group in points.groupby("arch", sort=False):
        for what, idx in (
            ("lowest energy", group["energy_per_epoch_J"].idxmin()),
            (metric.label, getattr(group[metric.column], best)()),
        ):
            if idx != idx:  # the metric is missing for every point of this organization
                continue
            r = points.loc[idx]
            rows.append([
                arch, what, r["config"], *([_stored(r["stored_weight_bits"])] if stored else []),
                _e(r["energy_per_epoch_J"], scale, label), _q(r[metric.column]),
                f"{r['area_m2'] * 1e6:.4f} mm²",
            ])  # fmt: skip
    header = ["organization", "best by", "point", *(["stored weight bits"] if stored else []),
              "energy per epoch", metric.label, "area"]  # fmt: skip
    return _table(header, rows)


def _front_table(points: pd.DataFrame, metric: Metric) -> str:
    scale, label = unit(points["energy_per_epoch_J"])
    front = points[points["pareto"]].sort_values("energy_per_epoch_J")
    stored = _differs(points)
    rows = [
        [r["config"], r["arch"], *([_stored(r["stored_weight_bits"])] if stored else []),
         _e(r["energy_per_epoch_J"], scale, label), _q(r[metric.column]), str(int(r["trials"]))]
        for _, r in front.iterrows()
    ]  # fmt: skip
    header = ["point", "organization", *(["stored weight bits"] if stored else []),
              "energy per epoch", metric.label, "trials"]  # fmt: skip
    return _table(header, rows)


def _results_table(runs: pd.DataFrame, columns: list[str]) -> str:
    """The task's summary values (quality metric, per-layer values) per weight bits, means
    over the runs of the slice."""
    groups = runs.groupby("weight_bits", sort=True)
    means = groups[columns].mean()
    if not _differs(runs):
        rows = [[str(int(b)), *(_q(v) for v in row)] for b, row in means.iterrows()]
        return _table(["weight bits", *columns], rows)
    stored = groups["stored_weight_bits"].agg(_stored)
    rows = [[str(int(b)), stored[b], *(_q(v) for v in row)] for b, row in means.iterrows()]
    return _table(["weight bits", "stored weight bits", *columns], rows)


def _reference(rep: Report) -> str:
    label = rep.priced.task.reference_label
    return f"; crosses: the {label}" if label else ""


def _sections(rep: Report) -> dict[str, list[str]]:
    """report.md's section of each figure (task.figures names them), in report order."""
    metric = rep.priced.task.quality
    archs = [a.name for a in rep.priced.archs]
    return {
        "energy_vs_bits": [
            "## Energy versus weight bitwidth", "",
            _figure("energy_vs_bits", "energy vs weight bits", "Energy per training epoch (left) "
                    "and per inference (right) versus weight bitwidth, one line per organization "
                    "(error bars: standard deviation over trials)."),
            _winner_table(rep.headline, archs), "",
        ],
        "pareto": [
            "## Best points", "", _best_table(rep.points, metric), "",
            f"## {metric.label[0].upper()}{metric.label[1:]} versus energy", "",
            _figure("pareto", f"{metric.label} vs energy", f"{metric.label[0].upper()}"
                    f"{metric.label[1:]} versus energy per training epoch, means over the "
                    "seeds of each design point (error bars, where a point has two or more "
                    "seeds: ± one standard deviation over them, in energy and in quality); the "
                    "black line is the Pareto front."),
            _front_table(rep.points, metric), "",
        ],
        "breakdown": [
            "## Where the energy goes", "",
            _figure("breakdown", "energy breakdown", f"Energy per training epoch of run "
                    f"{rep.point} by stage and tensor, per organization."),
        ],
        "density": [
            "## Weight density", "",
            _figure("density_vs_bits", "non-zero weight fraction", "Fraction of non-zero weights "
                    f"after training versus weight bitwidth{_reference(rep)}."),
        ],
        "area": [
            "## Area", "",
            _figure("area_vs_bits", "area vs weight bits", "Memory area versus weight bitwidth, "
                    "one bar per organization, stacked: the arrays of the memories that hold "
                    "weights (filled) under the other memories (hatched); error bars: standard "
                    "deviation of the total over trials (sparse encodings shrink with "
                    "density)."),
        ],
    }  # fmt: skip


def render(rep: Report) -> str:
    priced = rep.priced
    runs = priced.runs
    archs = ", ".join(a.name for a in priced.archs)
    where = ", ".join(f"{k} = {v}" for k, v in rep.chosen.items()) or "all runs"
    name = runs["name"].iloc[0] if "name" in runs else "?"
    sections = _sections(rep)
    parts = [
        f"# Memory energy report: {name}",
        "",
        f"{len(runs)} traced {priced.task.name} runs ({rep.points['config'].nunique()} design "
        f"points, up to {rep.n_trials} trial(s) each at the figures' slice) in `{rep.source}`, "
        f"priced on {len(priced.archs)} memory organization(s): {archs}. "
        f"Bitwidth figures hold {where}. Energies are means over trials; error bars and ± are "
        "standard deviations over trials.",
        "",
        *(line for fig in sections if fig in priced.task.figures for line in sections[fig]),
        "## Training results",
        "",
        f"Summary values of the runs per weight bitwidth at the figures' slice (means over "
        f"trials); the quality metric is `{priced.task.quality.column}` "
        f"({priced.task.quality.label}).",
        "",
        _results_table(analysis.slice_of_runs(priced, rep.chosen), priced.values),
        "",
        "## Files",
        "",
        "`summary.csv` (one row per run and organization), `energy_vs_bits.csv` (the headline "
        "figure's numbers), `design_points.csv` (means per design point, Pareto flag), "
        "`breakdown.csv` (the breakdown figure's numbers); `report.html` is this report in "
        "one file, figures embedded.",
        "",
    ]  # fmt: skip
    return "\n".join(parts)
