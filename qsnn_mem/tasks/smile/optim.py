"""Adamax as torch.optim.Adamax computes it, fused into one compiled pass on the CPU
(:func:`adamax_step`), counting the stored weight codes each update changes."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from numba import njit

from ...quant_kernels import quant_code

F32 = np.float32
F64 = np.float64


class Adamax:
    """``torch.optim.Adamax(params, lr, betas, eps)`` with the same float32 results.

    On the CPU one compiled loop per tensor replaces the optimizer's half-dozen full-size tensor
    operations; on other devices it delegates to torch.optim.Adamax.
    """

    def __init__(
        self,
        params: list[torch.Tensor],
        lr: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        stored: list[float] | None = None,
    ) -> None:
        self.params = params
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        # Grid denominator of the stored form of each parameter, to count which codes change.
        self.stored = stored or [0.0] * len(params)
        self.last_counts: list[np.ndarray] | None = None
        self.fused = all(p.device.type == "cpu" for p in params)
        if self.fused:
            self.m = [torch.zeros_like(p) for p in params]
            self.u = [torch.zeros_like(p) for p in params]
        else:
            self.torch_opt = torch.optim.Adamax(params, lr=lr, betas=betas, eps=eps)

    @functools.cached_property
    def _worker(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="adamax")

    def step(self) -> None:
        """One update. On the CPU, ``last_counts`` then holds per parameter [stored codes that
        changed, non-zeros among them before, after]."""
        if not self.fused:
            self.torch_opt.step()
            return
        self.step_count += 1
        beta1, beta2 = self.betas
        clr = self.lr / (1 - beta1**self.step_count)
        # Each tensor is updated in two halves on two threads (the kernel releases the GIL;
        # elements are independent, so the result is the same as in one pass).
        jobs = []
        for p, m, u, qstep in zip(self.params, self.m, self.u, self.stored, strict=True):
            if p.grad is None:
                jobs.append([])
                continue
            flat = [t.detach().view(-1).numpy() for t in (p, p.grad, m, u)]
            half = flat[0].size // 2
            jobs.append([
                self._worker.submit(adamax_step, *(f[:half] for f in flat), clr, beta1, beta2,
                                    self.eps, qstep),
                adamax_step(*(f[half:] for f in flat), clr, beta1, beta2, self.eps, qstep),
            ])  # fmt: skip
        counts = [
            sum((j if isinstance(j, np.ndarray) else j.result() for j in job), np.zeros(3, int))
            for job in jobs
        ]
        self.last_counts = counts


@njit(cache=True, nogil=True)
def adamax_step(w, g, m, u, clr, beta1, beta2, eps, qstep):
    """In-place Adamax update with step size ``clr = lr / (1 - beta1**step)``, in the float32
    order of operations of torch.optim.Adamax (so both give the same bits).

    Also compares the stored (quantized) weight before and after: returns [codes changed,
    non-zeros among them before, non-zeros among them after].
    """
    wt, b2, e = F32(1.0 - beta1), F32(beta2), F32(eps)
    neg_clr = F32(-clr)
    q = F32(qstep)
    fw, fg, fm, fu = w.ravel(), g.ravel(), m.ravel(), u.ravel()
    changed = nonzero_before = nonzero_after = 0
    for k in range(fw.size):
        before = quant_code(fw[k], q)
        # torch's vectorised lerp is a fused multiply-add (one rounding), emulated in float64
        # where a float32 product is exact; addcdiv computes w + (value * m) / u.
        fm[k] = F32(F64(wt) * F64(fg[k] - fm[k]) + F64(fm[k]))
        fu[k] = max(fu[k] * b2, abs(fg[k]) + e)
        fw[k] = fw[k] + (neg_clr * fm[k]) / fu[k]
        after = quant_code(fw[k], q)
        differs = after != before
        changed += differs
        nonzero_before += differs & (before != 0.0)
        nonzero_after += differs & (after != 0.0)
    return np.array([changed, nonzero_before, nonzero_after], np.int64)
