"""The report's figures against weight bits and the Pareto figure, one colour per organization
(:mod:`.style`); the breakdown figure is in :mod:`.breakdown`.

Every drawing function takes an optional matplotlib ``ax`` (draw into your own axes, e.g. in a
notebook) and returns the figure it drew into; :func:`save` writes a figure as PNG and SVG
(atomically), as ``qsnn-mem report`` does.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from ..io import atomic_path
from ..tasks import Metric
from . import style

PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))
SPREAD = "mean ± 1 std over seeds"


def colours(names: list[str]) -> dict[str, str]:
    """The same colour for an organization in every figure (order of the --arch options)."""
    return style.organization_colours(names)


def unit(values, base: str = "J") -> tuple[float, str]:
    """(scale, label): the SI prefix that puts the median value at or above 1."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ref = float(np.median(finite)) if finite.size else 1.0
    for factor, prefix in PREFIXES:
        if ref >= factor:
            return factor, f"{prefix}{base}"
    return PREFIXES[-1][0], f"{PREFIXES[-1][1]}{base}"


def save(fig, folder: Path, stem: str, *, close: bool = True) -> list[Path]:
    """Write ``fig`` as ``stem``.png and ``stem``.svg in ``folder``; the paths."""
    paths = []
    for ext in ("png", "svg"):
        path = folder / f"{stem}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150 if ext == "png" else None)
        paths.append(path)
    if close:
        plt.close(fig)
    return paths


def _in_order(table: pd.DataFrame, colour: dict[str, str]):
    """(arch, rows) in the order of the --arch options, so legends list them that way."""
    for arch in colour:
        rows = table[table["arch"] == arch]
        if len(rows):
            yield arch, rows


def stored_bits(frames: list[pd.DataFrame]) -> dict[int, list[int]]:
    """Configured weight bits -> the stored (priced) bits of the rows that have them."""
    out: dict[int, set[int]] = {}
    for frame in frames:
        stored = frame.get("stored_weight_bits", frame["weight_bits"])
        for b, s in zip(frame["weight_bits"], stored, strict=True):
            out.setdefault(int(b), set()).add(int(s))
    return {b: sorted(s) for b, s in sorted(out.items())}


def bits_label(bits: int, stored: list[int]) -> str:
    """``4``, or ``4 (stored 10)`` where the weights were stored (and priced) at another width:
    a configured bitwidth is never shown as if it were the priced one."""
    if stored in ([], [bits]):
        return str(bits)
    return f"{bits} (stored {'/'.join(map(str, stored))})"


def _bits_axis(ax, frames: list[pd.DataFrame], extra: tuple[int, ...] = ()) -> None:
    """Ticks at the configured weight bits (and ``extra`` ones), labelled with the stored bits
    where they differ."""
    stored = stored_bits(frames)
    ticks = sorted({*stored, *extra})
    labels = [bits_label(b, stored.get(b, [])) for b in ticks]
    ax.set_xticks(ticks, labels)
    plain = all(label == str(b) for b, label in zip(ticks, labels, strict=True))
    ax.set_xlabel(
        "weight bitwidth (bits)" if plain else "weight bits (configured; stored in parentheses)"
    )
    ax.grid(True, alpha=0.3)


def energy_vs_bits(
    per_epoch: pd.DataFrame, per_infer: pd.DataFrame, colour, title: str = "", *, ax=None
):
    """Headline: energy per training epoch and per inference vs weight bits, one line per arch
    (error bars: std over trials). ``ax``: a pair of axes (per epoch, per inference)."""
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
        fig.suptitle(title)
    for a, table, what in ((ax[0], per_epoch, "training epoch"), (ax[1], per_infer,
                                                                    "inference")):  # fmt: skip
        scale, label = unit(table["mean"])
        for arch, rows in _in_order(table, colour):
            a.errorbar(
                rows["weight_bits"], rows["mean"] / scale, yerr=rows["std"] / scale,
                color=colour[arch], marker="o", capsize=3, label=arch,
            )  # fmt: skip
        a.set_ylabel(f"energy per {what} ({label})")
        a.set_title(f"per {what}")
        _bits_axis(a, [table])
        a.set_ylim(bottom=0)
    ax[0].legend(title=f"organization ({SPREAD})", title_fontsize=8)
    return ax[0].figure


def area_vs_bits(table: pd.DataFrame, colour, title: str = "", *, ax=None):
    """Memory area (mm²) vs weight bits: at each bitwidth one bar per organization, stacked: the
    arrays of the memories that hold weights (``weight_mean``, filled) under the other memories
    (hatched); the error bar is the std of the total over trials."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 4.6), constrained_layout=True)
    order = list(_in_order(table, colour))
    width = 0.8 / max(len(order), 1)
    for k, (arch, rows) in enumerate(order):
        x = rows["weight_bits"].to_numpy(float) + (k - (len(order) - 1) / 2) * width
        total = rows["mean"].to_numpy() * 1e6
        weights = rows["weight_mean"].to_numpy() * 1e6
        c = colour[arch]
        ax.bar(x, weights, width, color=c, edgecolor=c, label=arch)
        ax.bar(x, total - weights, width, bottom=weights, color=mcolors.to_rgba(c, 0.22),
               edgecolor=c, hatch="///", lw=0.8, label="_other")  # fmt: skip
        ax.errorbar(x, total, yerr=rows["std"].to_numpy() * 1e6, fmt="none", ecolor="black",
                    elinewidth=0.8, capsize=2, label="_spread")  # fmt: skip
    ax.set_ylabel("memory area (mm²)")
    _bits_axis(ax, [table])
    ax.set_ylim(bottom=0)
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Patch(facecolor="0.45", edgecolor="0.45", label="weight arrays"),
        Patch(facecolor="white", edgecolor="0.45", hatch="///", label="other memories"),
    ]
    ax.legend(handles=handles, title="organization", fontsize=8, title_fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure


def density_vs_bits(
    tables: dict[str, pd.DataFrame],
    title: str = "",
    reference: dict[int, float] | None = None,
    label: str = "",
    *,
    ax=None,
):
    """Non-zero weight fraction per layer (``tables``: layer name or "all" -> by_bits table)
    against weight bits, with a published network's values (``reference``, ``label``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.2, 4.4), constrained_layout=True)
    layer_colour = style.layer_colours([n for n in tables if n != "all"])
    markers = "os^v<>"
    for i, (name, table) in enumerate(tables.items()):
        if name == "all":
            style_ = (style.ALL_LAYERS, "D", "all layers")
        else:
            style_ = (layer_colour[name], markers[i % 6], f"layer {name}")
        ax.errorbar(table["weight_bits"], table["mean"], yerr=table["std"], color=style_[0],
                    marker=style_[1], capsize=3, label=style_[2])  # fmt: skip
    reference = reference or {}
    bits = sorted(reference)
    if bits:
        ax.plot(bits, [reference[b] for b in bits], ls="none", marker="x", ms=9,
                color=style.REFERENCE, label=label or "reference")  # fmt: skip
    ax.set_ylabel("non-zero weight fraction (last epoch)")
    _bits_axis(ax, list(tables.values()), tuple(bits))
    ax.set_ylim(0, 1.05)
    ax.legend(title=SPREAD, title_fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure


def _column(points: pd.DataFrame, name: str) -> np.ndarray:
    return points[name].to_numpy(float) if name in points else np.zeros(len(points))


def pareto_figure(
    points: pd.DataFrame, front: np.ndarray, colour, title: str, metric: Metric, *, ax=None
):
    """The task's quality metric (axis: ``metric.label``) vs energy per training epoch for every
    design point (means over its seeds; where a point has two or more, error bars of ± one
    standard deviation over them in both energy and quality); the Pareto front joined and
    labelled."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    scale, label = unit(points["energy_per_epoch_J"])
    x = points["energy_per_epoch_J"].to_numpy() / scale
    y = points[metric.column].to_numpy()
    several = _column(points, "trials") >= 2
    xerr = np.where(several, _column(points, "energy_per_epoch_J_std") / scale, 0.0)
    yerr = np.where(several, _column(points, f"{metric.column}_std"), 0.0)
    for arch in colour:
        sel = (points["arch"] == arch).to_numpy()
        if not sel.any():
            continue
        bars = several[sel].any()
        ax.errorbar(
            x[sel], y[sel], xerr=xerr[sel] if bars else None, yerr=yerr[sel] if bars else None,
            fmt="o", ms=5, color=colour[arch], elinewidth=0.9, capsize=2, alpha=0.8, label=arch,
        )  # fmt: skip
    order = np.argsort(x[front])
    fx, fy = x[front][order], y[front][order]
    ax.step(fx, fy, where="post", color=style.FRONT, lw=1.2, label="Pareto front")
    ax.scatter(fx, fy, facecolors="none", edgecolors=style.FRONT, s=90, lw=1.2)
    names = (points["config"] + " " + points["arch"]).to_numpy()[front][order]
    for xi, yi, name in zip(fx, fy, names, strict=True):
        ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=7)
    if x.min() > 0 and x.max() / x.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(f"energy per training epoch ({label})")
    ax.set_ylabel(metric.label)
    ax.grid(True, alpha=0.3)
    spread = f" (error bars: {SPREAD})" if several.any() else ""
    ax.legend(title=f"organization{spread}", title_fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure
