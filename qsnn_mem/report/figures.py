"""The report's figures, each saved as PNG and SVG (atomically), one colour per organization."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..io import atomic_path
from ..tasks import Metric

KIND_ORDER = (
    "weight", "syn", "mem", "spk", "input", "err", "grad", "controller", "datapath", "leakage",
)  # fmt: skip
STAGES = ("forward", "backward", "update", "leakage")
PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def colours(names: list[str]) -> dict[str, str]:
    """The same colour for an organization in every figure (order of the --arch options)."""
    cycle = plt.get_cmap("tab10").colors
    return {n: matplotlib.colors.to_hex(cycle[i % len(cycle)]) for i, n in enumerate(names)}


def unit(values, base: str = "J") -> tuple[float, str]:
    """(scale, label): the SI prefix that puts the median value at or above 1."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ref = float(np.median(finite)) if finite.size else 1.0
    for factor, prefix in PREFIXES:
        if ref >= factor:
            return factor, f"{prefix}{base}"
    return PREFIXES[-1][0], f"{PREFIXES[-1][1]}{base}"


def save(fig, folder: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        path = folder / f"{stem}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150 if ext == "png" else None)
        paths.append(path)
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


def energy_vs_bits(per_epoch: pd.DataFrame, per_infer: pd.DataFrame, colour, title: str):
    """Headline: energy per training epoch and per inference vs weight bits, one line per arch."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    for ax, table, what in ((axes[0], per_epoch, "training epoch"), (axes[1], per_infer,
                                                                      "inference")):  # fmt: skip
        scale, label = unit(table["mean"])
        for arch, rows in _in_order(table, colour):
            ax.errorbar(
                rows["weight_bits"], rows["mean"] / scale, yerr=rows["std"] / scale,
                color=colour[arch], marker="o", capsize=3, label=arch,
            )  # fmt: skip
        ax.set_ylabel(f"energy per {what} ({label})")
        ax.set_title(f"per {what}")
        _bits_axis(ax, [table])
        ax.set_ylim(bottom=0)
    axes[0].legend(title="organization")
    fig.suptitle(title)
    return fig


def area_vs_bits(table: pd.DataFrame, colour, title: str):
    fig, ax = plt.subplots(figsize=(6.2, 4.4), constrained_layout=True)
    for arch, rows in _in_order(table, colour):
        ax.errorbar(
            rows["weight_bits"], rows["mean"] * 1e6, yerr=rows["std"] * 1e6,
            color=colour[arch], marker="s", capsize=3, label=arch,
        )  # fmt: skip
    ax.set_ylabel("memory area (mm²)")
    _bits_axis(ax, [table])
    ax.set_ylim(bottom=0)
    ax.legend(title="organization")
    ax.set_title(title)
    return fig


def density_vs_bits(
    tables: dict[str, pd.DataFrame], title: str, reference: dict[int, float], label: str
):
    """Non-zero weight fraction per layer (``tables``: layer name or "all" -> by_bits table)
    against weight bits, with a published network's values (``reference``, ``label``)."""
    fig, ax = plt.subplots(figsize=(6.2, 4.4), constrained_layout=True)
    markers = "os^v<>"
    for i, (name, table) in enumerate(tables.items()):
        style = ("black", "D", "all layers") if name == "all" else (None, markers[i % 6],
                                                                     f"layer {name}")  # fmt: skip
        ax.errorbar(table["weight_bits"], table["mean"], yerr=table["std"], color=style[0],
                    marker=style[1], capsize=3, label=style[2])  # fmt: skip
    bits = sorted(reference)
    if bits:
        ax.plot(bits, [reference[b] for b in bits], ls="none", marker="x", ms=9, color="tab:red",
                label=label)  # fmt: skip
    ax.set_ylabel("non-zero weight fraction (last epoch)")
    _bits_axis(ax, list(tables.values()), tuple(bits))
    ax.set_ylim(0, 1.05)
    ax.legend()
    ax.set_title(title)
    return fig


def pareto_figure(points: pd.DataFrame, front: np.ndarray, colour, title: str, metric: Metric):
    """The task's quality metric vs energy per epoch (error bars: std over trials, where there
    are several); the Pareto front joined and labelled."""
    fig, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    scale, label = unit(points["energy_per_epoch_J"])
    x = points["energy_per_epoch_J"].to_numpy() / scale
    y = points[metric.column].to_numpy()
    std = points.get(f"{metric.column}_std", pd.Series(0.0, index=points.index)).to_numpy()
    for arch in colour:
        sel = (points["arch"] == arch).to_numpy()
        if sel.any():
            ax.scatter(x[sel], y[sel], color=colour[arch], s=28, alpha=0.75, label=arch)
            if (std[sel] > 0).any():
                ax.errorbar(x[sel], y[sel], yerr=std[sel], color=colour[arch], ls="none",
                            alpha=0.5, capsize=2)  # fmt: skip
    order = np.argsort(x[front])
    fx, fy = x[front][order], y[front][order]
    ax.step(fx, fy, where="post", color="black", lw=1.2, label="Pareto front")
    ax.scatter(fx, fy, facecolors="none", edgecolors="black", s=90, lw=1.2)
    names = (points["config"] + " " + points["arch"]).to_numpy()[front][order]
    for xi, yi, name in zip(fx, fy, names, strict=True):
        ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=7)
    if x.min() > 0 and x.max() / x.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(f"energy per training epoch ({label})")
    ax.set_ylabel(metric.label)
    ax.grid(True, alpha=0.3)
    ax.legend(title="organization")
    ax.set_title(title)
    return fig


def breakdown_figure(table: pd.DataFrame, archs: list[str], title: str):
    """Top: energy per training epoch of each organization, stacked by stage (leakage included).
    Bottom: the dynamic energy of each stage, stacked by tensor, one panel per organization
    (leakage often dwarfs it, so it gets its own scale)."""
    n = len(archs)
    fig = plt.figure(figsize=(max(3.2 * n + 2.2, 7.5), 7.4), constrained_layout=True)
    grid = fig.add_gridspec(2, n, height_ratios=(1, 1.7))
    top = fig.add_subplot(grid[0, :])
    by_stage = table.pivot_table(index="arch", columns="stage", values="energy_per_epoch_J",
                                 aggfunc="sum").reindex(archs).fillna(0.0)  # fmt: skip
    scale, label = unit(by_stage.sum(axis=1))
    left = np.zeros(n)
    stage_colour = dict(zip(STAGES, ("tab:blue", "tab:orange", "tab:green", "0.6"), strict=True))
    for stage in STAGES:
        values = by_stage[stage].to_numpy() / scale if stage in by_stage else np.zeros(n)
        top.barh(archs, values, left=left, color=stage_colour[stage], label=stage)
        left += values
    for i, total in enumerate(left):
        top.annotate(f" {total:.3g} {label}", (total, i), va="center", fontsize=9)
    top.invert_yaxis()
    top.set_xlabel(f"energy per training epoch ({label})")
    top.set_xlim(0, left.max() * 1.18 if left.max() > 0 else 1)
    top.legend(title="stage", loc="center left", bbox_to_anchor=(1.01, 0.5))
    top.grid(True, axis="x", alpha=0.3)

    dynamic = table[table["stage"] != "leakage"]
    dstages = [s for s in STAGES if s != "leakage"]
    dscale, dlabel = unit(dynamic.groupby(["arch", "stage"])["energy_per_epoch_J"].sum())
    kinds = [k for k in KIND_ORDER if k in set(dynamic["kind"])]
    kinds += sorted(set(dynamic["kind"]) - set(kinds))
    cmap = plt.get_cmap("tab10").colors
    kind_colour = {k: cmap[i % 10] for i, k in enumerate(kinds)}
    first = None
    for j, arch in enumerate(archs):
        ax = fig.add_subplot(grid[1, j], sharey=first)
        first = first or ax
        rows = dynamic[dynamic["arch"] == arch]
        wide = rows.pivot_table(index="stage", columns="kind", values="energy_per_epoch_J",
                                aggfunc="sum").reindex(dstages).fillna(0.0)  # fmt: skip
        bottom = np.zeros(len(dstages))
        for k in kinds:
            values = wide[k].to_numpy() / dscale if k in wide else np.zeros(len(dstages))
            ax.bar(dstages, values, bottom=bottom, color=kind_colour[k], label=k)
            bottom += values
        ax.set_title(f"{arch}: dynamic {bottom.sum():.3g} {dlabel}", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        if j == 0:
            ax.set_ylabel(f"dynamic energy per epoch ({dlabel})")
        else:
            ax.tick_params(labelleft=False)
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], title="tensor", loc="outside right lower")
    fig.suptitle(title)
    return fig
