"""Van Rossum distance between spike rasters (rows = time steps, columns = neurons): in torch
(:func:`van_rossum`, differentiable) and as a compiled CPU kernel with its gradient
(:func:`van_rossum_grad`, for the fused backend)."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from numba import njit


@functools.lru_cache(maxsize=8)
def _kernel(steps: int, decay: float, device: str) -> torch.Tensor:
    lag = torch.arange(steps)[:, None] - torch.arange(steps)[None, :]
    powers = torch.tensor(decay, dtype=torch.float64) ** lag.clamp(min=0)
    return torch.where(lag >= 0, powers, 0.0).to(device)


def exp_filter(x: torch.Tensor, decay: float) -> torch.Tensor:
    """Filter each column with ``u_t = decay * u_{t-1} + x_t`` (``u_{-1} = 0``).

    Computed as one product with the lower-triangular matrix ``K[t, k] = decay**(t-k)``.
    """
    return _kernel(x.shape[0], decay, str(x.device)) @ x.double()


def van_rossum(out: torch.Tensor, target: torch.Tensor, decay: float, norm: float) -> torch.Tensor:
    """``sqrt(norm * sum((f(out) - f(target))**2))`` with ``f`` = :func:`exp_filter`.

    The reference trains on ``decay = alpha`` and ``norm = 1 / tau_syn``. Computed in float64
    so that every device and backend gives the same gradient to well below float32 rounding.
    """
    diff = exp_filter(out, decay) - exp_filter(target, decay)
    return torch.sqrt(norm * (diff * diff).sum())


@njit(cache=True, nogil=True)
def van_rossum_grad(out, target, decay, norm):
    """Van Rossum loss ``sqrt(norm * SSE)`` of exp-filtered rasters and its gradient, in float64."""
    steps, n = out.shape
    diff = np.empty((steps, n))
    uo = np.zeros(n)
    ut = np.zeros(n)
    sse = 0.0
    for t in range(steps):
        for j in range(n):
            uo[j] = decay * uo[j] + out[t, j]
            ut[j] = decay * ut[j] + target[t, j]
            diff[t, j] = uo[j] - ut[j]
            sse += diff[t, j] * diff[t, j]
    loss = math.sqrt(norm * sse)
    grad = np.zeros((steps, n), np.float32)
    if loss == 0.0:
        return loss, grad
    acc = np.zeros(n)
    for t in range(steps - 1, -1, -1):
        for j in range(n):
            acc[j] = decay * acc[j] + norm * diff[t, j] / loss
            grad[t, j] = acc[j]
    return loss, grad
