"""Figure of ``qsnn-mem paper``: pass energy against weight density per encoding."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..memory.paper import AUTHORS, STRUCTURES
from .figures import save
from .style import organization_colours

# The encodings in the order the README's report gives them, so that each keeps its colour.
COLOURS = organization_colours(["crossbar", "pb-bmp", "pb-csr"])
STYLES = {2: ":", 5: "--", 8: "-"}


def draw_energy_vs_density(ours: pd.DataFrame, *, ax=None):
    """Forward and backward energy of the 784x128 pass against density, per encoding and
    weight bits; the authors' density-1 points as markers. ``ax``: a pair of axes (forward,
    backward); returns the figure."""
    dense = ours[ours["set"] == "784x128"]
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 4), sharex=True, constrained_layout=True)
    for a, column, title in zip(
        ax, ("forward_J", "backward_J"), ("forward", "backward (propagation + update)"),
        strict=True,
    ):  # fmt: skip
        for (structure, bits), part in dense.groupby(["structure", "bits"]):
            part = part.sort_values("density")
            a.plot(
                part["density"], part[column] * 1e6, STYLES.get(bits, "-"),
                color=COLOURS.get(structure, "k"), label=f"{structure} {bits}-bit",
            )  # fmt: skip
        theirs = AUTHORS[AUTHORS["layer"] == "784x128"]
        for _, row in theirs.iterrows():
            a.plot(
                row["density"], row[column] * 1e6, "o" if row["bits"] == 8 else "s",
                color=COLOURS[STRUCTURES[row["structure"]]], markerfacecolor="none",
            )  # fmt: skip
        a.set_title(f"784x128 layer, {title}")
        a.set_xlabel("weight density (fraction non-zero)")
        a.set_ylabel("energy per pass (µJ)")
        a.grid(alpha=0.3)
    title = "lines: qsnn-mem; authors at d=1: ○ 8-bit, □ 2-bit"
    ax[0].legend(fontsize=7, title=title, title_fontsize=8)
    return ax[0].figure


def energy_vs_density(ours: pd.DataFrame, folder: Path) -> list[Path]:
    """Write :func:`draw_energy_vs_density` as PNG and SVG in ``folder``."""
    return save(draw_energy_vs_density(ours), folder, "energy_vs_density")
