"""Figures of a training run (matplotlib, no screen needed)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ...io import atomic_path


def raster_figure(
    path: str | os.PathLike, output: np.ndarray, target: np.ndarray, title: str
) -> None:
    """Output spike raster beside the target (rows = time steps, columns = neurons)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), sharey=True, constrained_layout=True)
    for ax, raster, label in ((axes[0], output, "network output"), (axes[1], target, "target")):
        t, n = np.nonzero(raster)
        ax.scatter(n, t, s=1.5, c="black", marker="s", linewidths=0)
        ax.set_xlim(-0.5, raster.shape[1] - 0.5)
        ax.set_ylim(raster.shape[0] - 0.5, -0.5)
        ax.set_xlabel("output neuron")
        ax.set_title(f"{label} ({int(raster.sum())} spikes)")
        ax.set_aspect("equal")
    axes[0].set_ylabel("time step")
    fig.suptitle(title)
    _save(fig, path)


def loss_figure(path: str | os.PathLike, epochs: np.ndarray, loss: np.ndarray, title: str) -> None:
    """Training loss (van Rossum, reference normalisation) per epoch."""
    fig, ax = plt.subplots(figsize=(6, 3.6), constrained_layout=True)
    ax.plot(epochs, loss, lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (van Rossum distance)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _save(fig, path)


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=os.path.splitext(str(path))[1].lstrip(".") or "png", dpi=120)
    plt.close(fig)
