"""Figures of a NIR run (matplotlib, no screen needed): the last sample's output raster beside
its target, and the loss (and accuracy, for classes) per epoch."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..smile.plots import save_figure


def raster_figure(path: str | os.PathLike, output: np.ndarray, target: np.ndarray, title: str):
    """Output raster (spikes, or an LI membrane's non-zeros) beside the target (rows = steps)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), sharey=True, constrained_layout=True)
    for ax, raster, label in ((axes[0], output, "network output"), (axes[1], target, "target")):
        t, n = np.nonzero(raster)
        ax.scatter(n, t, s=2, c="black", marker="s", linewidths=0)
        ax.set_xlim(-0.5, raster.shape[1] - 0.5)
        ax.set_ylim(raster.shape[0] - 0.5, -0.5)
        ax.set_xlabel("output neuron")
        ax.set_title(f"{label} ({int(np.count_nonzero(raster))} non-zeros)")
    axes[0].set_ylabel("time step")
    fig.suptitle(title)
    save_figure(fig, path)


def loss_figure(path: str | os.PathLike, metrics: pd.DataFrame, loss_label: str, title: str):
    """Loss per epoch, with the accuracy on a second axis when the metrics have one."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    ax.plot(metrics["epoch"], metrics["loss"], lw=1, color="#004488")
    ax.set_xlabel("epoch")
    ax.set_ylabel(loss_label)
    if "accuracy" in metrics.columns:
        right = ax.twinx()
        right.plot(metrics["epoch"], metrics["accuracy"], lw=1, color="#BB5566")
        right.set_ylabel("accuracy", color="#BB5566")
        right.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    save_figure(fig, path)
