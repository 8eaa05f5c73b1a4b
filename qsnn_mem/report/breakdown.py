"""The breakdown figure: where one run's energy per training epoch goes, by stage and by tensor,
per organization. Stages and tensors take their colours from palettes of their own
(:mod:`.style`), never an organization's; organization names wear their organization colour."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import style
from .figures import unit

KIND_ORDER = (
    "weight", "syn", "mem", "spk", "refrac", "trace_p", "trace_q", "input", "err", "grad",
    "readout", "feedback", "controller", "datapath", "leakage",
)  # fmt: skip
STAGES = ("forward", "backward", "update", "leakage")


def kinds_in_order(kinds) -> list[str]:
    """The tensor kinds present, in the vocabulary's order, then any others sorted."""
    present = set(kinds)
    return [k for k in KIND_ORDER if k in present] + sorted(present - set(KIND_ORDER))


def breakdown_figure(
    table: pd.DataFrame,
    archs: list[str],
    title: str = "",
    *,
    colour: dict[str, str] | None = None,
    fig=None,
):
    """Top: energy per training epoch of each organization, stacked by stage (leakage included).
    Bottom: the dynamic energy of each stage, stacked by tensor, one panel per organization
    (leakage often dwarfs it, so it gets its own scale). ``fig``: a matplotlib Figure or
    SubFigure to draw into; ``colour``: organization colours (names drawn in them)."""
    n = len(archs)
    if fig is None:
        fig = plt.figure(figsize=(max(3.2 * n + 2.2, 7.5), 7.4), constrained_layout=True)
    colour = colour or style.organization_colours(archs)
    grid = fig.add_gridspec(2, n, height_ratios=(1, 1.7))
    top = fig.add_subplot(grid[0, :])
    by_stage = table.pivot_table(index="arch", columns="stage", values="energy_per_epoch_J",
                                 aggfunc="sum").reindex(archs).fillna(0.0)  # fmt: skip
    scale, label = unit(by_stage.sum(axis=1))
    left = np.zeros(n)
    stages = [s for s in STAGES if s in by_stage] + sorted(set(by_stage) - set(STAGES))
    stage_colour = style.stage_colours(stages)
    for stage in stages:
        values = by_stage[stage].to_numpy() / scale
        top.barh(archs, values, left=left, color=stage_colour[stage], label=stage)
        left += values
    for i, total in enumerate(left):
        top.annotate(f" {total:.3g} {label}", (total, i), va="center", fontsize=9)
    for tick, arch in zip(top.get_yticklabels(), archs, strict=True):
        tick.set_color(colour.get(arch, "black"))
    top.invert_yaxis()
    top.set_xlabel(f"energy per training epoch ({label})")
    top.set_xlim(0, left.max() * 1.18 if left.max() > 0 else 1)
    top.legend(title="stage", loc="center left", bbox_to_anchor=(1.01, 0.5))
    top.grid(True, axis="x", alpha=0.3)

    dynamic = table[table["stage"] != "leakage"]
    dstages = [s for s in STAGES if s != "leakage"]
    dscale, dlabel = unit(dynamic.groupby(["arch", "stage"])["energy_per_epoch_J"].sum())
    kinds = kinds_in_order(dynamic["kind"])
    kind_colour = style.tensor_colours(kinds)
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
        ax.set_title(f"{arch}: dynamic {bottom.sum():.3g} {dlabel}", fontsize=10,
                     color=colour.get(arch, "black"))  # fmt: skip
        ax.grid(True, axis="y", alpha=0.3)
        if j == 0:
            ax.set_ylabel(f"dynamic energy per epoch ({dlabel})")
        else:
            ax.tick_params(labelleft=False)
    if first is not None:
        handles, labels = first.get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], title="tensor", loc="outside right lower")
    if title:
        fig.suptitle(title)
    return fig
