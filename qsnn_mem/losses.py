"""Van Rossum distance between spike rasters (rows = time steps, columns = neurons)."""

from __future__ import annotations

import functools

import torch


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
