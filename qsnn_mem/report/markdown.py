"""report.md: the figures with one-line captions, and tables of the best points."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

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


def _winner_table(headline: pd.DataFrame, archs: list[str]) -> str:
    scale, label = unit(headline["epoch_mean_J"])
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
        rows.append([str(int(bits)), *cells, f"**{best}**{gain}"])
    return _table(["weight bits", *[f"{a} per epoch" for a in archs], "lowest"], rows)


def _best_table(points: pd.DataFrame) -> str:
    scale, label = unit(points["energy_per_epoch_J"])
    rows = []
    for arch, group in points.groupby("arch", sort=False):
        for what, idx in (
            ("lowest energy", group["energy_per_epoch_J"].idxmin()),
            ("lowest distance", group["van_rossum_min"].idxmin()),
        ):
            r = points.loc[idx]
            rows.append([
                arch, what, r["config"], _e(r["energy_per_epoch_J"], scale, label),
                f"{r['van_rossum_min']:.2f}", f"{r['area_m2'] * 1e6:.4f} mm²",
            ])  # fmt: skip
    header = ["organization", "best by", "point", "energy per epoch", "van Rossum", "area"]
    return _table(header, rows)


def _front_table(points: pd.DataFrame) -> str:
    scale, label = unit(points["energy_per_epoch_J"])
    front = points[points["pareto"]].sort_values("energy_per_epoch_J")
    rows = [
        [r["config"], r["arch"], _e(r["energy_per_epoch_J"], scale, label),
         f"{r['van_rossum_min']:.2f}", str(int(r["trials"]))]
        for _, r in front.iterrows()
    ]  # fmt: skip
    return _table(["point", "organization", "energy per epoch", "van Rossum", "trials"], rows)


def render(rep: Report, headline, points, detail, n_trials: int) -> str:
    priced = rep.priced
    runs = priced.runs
    archs = ", ".join(a.name for a in priced.archs)
    where = ", ".join(f"{k} = {v}" for k, v in rep.chosen.items()) or "all runs"
    name = runs["name"].iloc[0] if "name" in runs else "?"
    parts = [
        f"# Memory energy report: {name}",
        "",
        f"{len(runs)} traced runs ({points['config'].nunique()} design points, up to "
        f"{n_trials} trial(s) each at the figures' slice) in `{rep.source}`, priced on "
        f"{len(priced.archs)} memory organization(s): {archs}. "
        f"Bitwidth figures hold {where}. Energies are means over trials; error bars and ± are "
        "standard deviations over trials.",
        "",
        "## Energy versus weight bitwidth",
        "",
        _figure("energy_vs_bits", "energy vs weight bits", "Energy per training epoch (left) "
                "and per inference (right) versus weight bitwidth, one line per organization."),
        _winner_table(headline, [a.name for a in priced.archs]),
        "",
        "## Best points",
        "",
        _best_table(points),
        "",
        "## Accuracy versus energy",
        "",
        _figure("pareto", "van Rossum distance vs energy", "Minimum van Rossum distance over "
                "training versus energy per training epoch; the black line is the Pareto front."),
        _front_table(points),
        "",
        "## Where the energy goes",
        "",
        _figure("breakdown", "energy breakdown", f"Energy per training epoch of run "
                f"{rep.point} by stage and tensor, per organization."),
        "## Weight density",
        "",
        _figure("density_vs_bits", "non-zero weight fraction", "Fraction of non-zero weights "
                "after training versus weight bitwidth; crosses: the ISCAS 2020 network."),
        "## Area",
        "",
        _figure("area_vs_bits", "area vs weight bits", "Memory area versus weight bitwidth, "
                "one line per organization (sparse encodings shrink with density)."),
        "## Files",
        "",
        "`summary.csv` (one row per run and organization), `energy_vs_bits.csv` (the headline "
        "figure's numbers), `design_points.csv` (means per design point, Pareto flag), "
        "`breakdown.csv` (the breakdown figure's numbers).",
        "",
    ]  # fmt: skip
    return "\n".join(parts)
