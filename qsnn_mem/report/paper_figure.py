"""Figure of ``qsnn-mem paper``: pass energy against weight density per encoding."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..memory.paper import AUTHORS, STRUCTURES
from .figures import save

COLOURS = {"crossbar": "#1b9e77", "pb-bmp": "#d95f02", "pb-csr": "#7570b3"}
STYLES = {2: ":", 5: "--", 8: "-"}


def energy_vs_density(ours: pd.DataFrame, folder: Path) -> list[Path]:
    """Forward and backward energy of the 784x128 pass against density, per encoding and
    weight bits; the authors' density-1 points as markers. Writes PNG and SVG."""
    dense = ours[ours["set"] == "784x128"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, constrained_layout=True)
    for ax, column, title in zip(
        axes, ("forward_J", "backward_J"), ("forward", "backward (propagation + update)"),
        strict=True,
    ):  # fmt: skip
        for (structure, bits), part in dense.groupby(["structure", "bits"]):
            part = part.sort_values("density")
            ax.plot(
                part["density"], part[column] * 1e6, STYLES.get(bits, "-"),
                color=COLOURS.get(structure, "k"), label=f"{structure} {bits}-bit",
            )  # fmt: skip
        theirs = AUTHORS[AUTHORS["layer"] == "784x128"]
        for _, row in theirs.iterrows():
            ax.plot(
                row["density"], row[column] * 1e6, "o" if row["bits"] == 8 else "s",
                color=COLOURS[STRUCTURES[row["structure"]]], markerfacecolor="none",
            )  # fmt: skip
        ax.set_title(f"784x128 layer, {title}")
        ax.set_xlabel("weight density (fraction non-zero)")
        ax.set_ylabel("energy per pass (µJ)")
        ax.grid(alpha=0.3)
    title = "lines: qsnn-mem; authors at d=1: ○ 8-bit, □ 2-bit"
    axes[0].legend(fontsize=7, title=title, title_fontsize=8)
    return save(fig, folder, "energy_vs_density")
