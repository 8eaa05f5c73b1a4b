"""Van Rossum distance between spike rasters (rows = time steps, columns = neurons): in torch
(:func:`van_rossum`, differentiable, the specification) and as compiled CPU kernels with its
gradient (:func:`van_rossum_grad`, for the fused backend).

Both compute in float32 with the reference's order of operations, so that a replay of a
reference run stays identical over thousands of epochs (a float64 loss flips a rounding tie now
and then, and one flipped gradient value sends the runs apart):

* filter, step by step: ``u_t = fl(fl(decay * u_{t-1}) + x_t)``;
* ``d = u_out - u_target``, ``SSE = sum(d * d)`` (:func:`reference_sum`),
  ``loss = sqrt(fl(norm * SSE))``;
* gradient as torch autograd takes it through those operations:
  ``g = fl(fl(1 / (2 * loss)) * norm)``, ``dd_t = fl(g * 2 d_t)``, and back through the filter
  ``grad_t = fl(dd_t + fl(decay * grad_{t+1}))``.

A zero distance has a zero gradient (the reference's ``sqrt`` would give NaN there).
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

F32 = np.float32
# torch's CPU reductions split a sum of at least this many values between threads
# (at::internal::GRAIN_SIZE).
TORCH_GRAIN = 32768


def reference_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of a float32 tensor in the order torch's CPU ``sum`` takes it in the reference.

    torch sums ``N >= 32768`` values in parallel: ``min(threads, ceil(N / 32768))`` equal
    chunks, each summed serially by its vectorised kernel, then the chunk sums. Here the chunk
    count is ``ceil(N / 32768)`` whatever this process's thread count (each chunk is then below
    the grain and summed serially by that same kernel), so the result never depends on the
    threads: it is the reference's ``torch.sum`` on any machine with at least that many cores
    (2 for the default 250 x 250 raster), and the same on every backend and device.
    """
    flat = x.reshape(-1)
    n = flat.numel()
    chunks = 1 if n < TORCH_GRAIN else -(-n // TORCH_GRAIN)
    if chunks == 1:
        return flat.sum()
    size = -(-n // chunks)
    return torch.stack([flat[i : i + size].sum() for i in range(0, n, size)]).sum()


def exp_filter(x: torch.Tensor, decay: float) -> torch.Tensor:
    """Filter each column with ``u_t = decay * u_{t-1} + x_t`` (``u_{-1} = 0``), step by step
    in the dtype of ``x``, as the reference."""
    u = torch.zeros_like(x[0])
    rows = []
    for t in range(x.shape[0]):
        u = decay * u + x[t]
        rows.append(u)
    return torch.stack(rows)


def van_rossum(out: torch.Tensor, target: torch.Tensor, decay: float, norm: float) -> torch.Tensor:
    """``sqrt(norm * sum((f(out) - f(target))**2))`` with ``f`` = :func:`exp_filter`.

    The reference trains on ``decay = alpha`` and ``norm = 1 / tau_syn``. Computed in float32
    as the reference; give CPU tensors for results that are the same on every device.
    """
    with torch.no_grad():
        f_target = exp_filter(target.to(out.dtype), decay)
    diff = exp_filter(out, decay) - f_target
    sse = reference_sum(diff**2)
    if float(sse.detach()) == 0.0:
        return norm * sse  # zero, with a zero gradient (sqrt's would be NaN)
    return torch.sqrt(norm * sse)


@njit(cache=True, nogil=True)
def _filtered_difference(out, target, decay):
    """``d = f(out) - f(target)`` and ``d * d``, in float32 as :func:`exp_filter`."""
    steps, n = out.shape
    a = F32(decay)
    diff = np.empty((steps, n), F32)
    square = np.empty((steps, n), F32)
    uo = np.zeros(n, F32)
    ut = np.zeros(n, F32)
    for t in range(steps):
        for j in range(n):
            uo[j] = a * uo[j] + F32(out[t, j])
            ut[j] = a * ut[j] + F32(target[t, j])
            d = uo[j] - ut[j]
            diff[t, j] = d
            square[t, j] = d * d
    return diff, square


@njit(cache=True, nogil=True)
def _distance_gradient(diff, decay, norm, loss):
    """Gradient of ``loss`` w.r.t. the output raster, in autograd's float32 operations."""
    steps, n = diff.shape
    a, nrm, two = F32(decay), F32(norm), F32(2.0)
    g = F32(F32(1.0) / (two * F32(loss))) * nrm
    grad = np.empty((steps, n), F32)
    acc = np.zeros(n, F32)
    for t in range(steps - 1, -1, -1):
        for j in range(n):
            acc[j] = g * (two * diff[t, j]) + a * acc[j]
            grad[t, j] = acc[j]
    return grad


def van_rossum_grad(
    out: np.ndarray, target: np.ndarray, decay: float, norm: float
) -> tuple[float, np.ndarray]:
    """Van Rossum loss ``sqrt(norm * SSE)`` of exp-filtered rasters and its float32 gradient
    w.r.t. ``out``: the numbers of :func:`van_rossum` and torch autograd, bit for bit."""
    diff, square = _filtered_difference(out, target, decay)
    sse = reference_sum(torch.from_numpy(square))
    if float(sse) == 0.0:
        return 0.0, np.zeros(out.shape, F32)
    loss = float(torch.sqrt(norm * sse))
    return loss, _distance_gradient(diff, decay, norm, loss)
