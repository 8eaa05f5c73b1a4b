"""Figures of a training run (matplotlib, no screen needed).

Each drawing function takes an optional matplotlib ``ax`` (draw into your own axes) and returns
the figure; :func:`raster_figure` and :func:`loss_figure` write the run's PNG files.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ...io import atomic_path
from .distance import DISTANCE_LABEL, LOSS_LABEL


def draw_raster(output: np.ndarray, target: np.ndarray, title: str = "", *, ax=None):
    """Output spike raster beside the target (rows = time steps, columns = neurons); ``ax``: a
    pair of axes (output, target)."""
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 4.6), sharey=True, constrained_layout=True)
        fig.suptitle(title)
    for a, raster, label in ((ax[0], output, "network output"), (ax[1], target, "target")):
        t, n = np.nonzero(raster)
        a.scatter(n, t, s=1.5, c="black", marker="s", linewidths=0)
        a.set_xlim(-0.5, raster.shape[1] - 0.5)
        a.set_ylim(raster.shape[0] - 0.5, -0.5)
        a.set_xlabel("output neuron")
        a.set_title(f"{label} ({int(raster.sum())} spikes)")
        a.set_aspect("equal")
    ax[0].set_ylabel("time step")
    return ax[0].figure


def draw_loss(metrics: pd.DataFrame, distance_per_loss: float, title: str = "", *, ax=None):
    """The van Rossum distance per epoch (metrics.csv's ``van_rossum``, the value the report
    plots), with the training loss it is proportional to on the right-hand axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    ax.plot(metrics["epoch"].to_numpy(), metrics["van_rossum"].to_numpy(), lw=1, color="#004488")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(DISTANCE_LABEL)
    if distance_per_loss > 0:
        k = float(distance_per_loss)
        right = ax.secondary_yaxis("right", functions=(lambda d: d / k, lambda loss: loss * k))
        right.set_ylabel(LOSS_LABEL)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax.figure


def raster_figure(
    path: str | os.PathLike, output: np.ndarray, target: np.ndarray, title: str
) -> None:
    """Write :func:`draw_raster` to ``path``."""
    save_figure(draw_raster(output, target, title), path)


def loss_figure(
    path: str | os.PathLike, metrics: pd.DataFrame, distance_per_loss: float, title: str
) -> None:
    """Write :func:`draw_loss` to ``path`` (loss.png)."""
    save_figure(draw_loss(metrics, distance_per_loss, title), path)


def save_figure(fig, path: str | os.PathLike) -> None:
    """Write ``fig`` to ``path`` (atomically; the format from the suffix, PNG without one) and
    close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=os.path.splitext(str(path))[1].lstrip(".") or "png", dpi=120)
    plt.close(fig)
