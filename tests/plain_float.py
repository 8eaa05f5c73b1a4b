"""A textbook float LIF layer with torch autograd: the independent reference of the model tests."""

from __future__ import annotations

import torch


class Surrogate(torch.autograd.Function):
    """Heaviside spike with the fast-sigmoid surrogate gradient (scale 100)."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return (v > 0).float()

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        return g / (100 * v.abs() + 1) ** 2


def lif_layer(cfg, h: torch.Tensor) -> torch.Tensor:
    """Spikes of a current-based LIF layer driven by ``h`` (steps x neurons)."""
    syn = mem = torch.zeros(h.shape[1])
    out = []
    for t in range(h.shape[0]):
        s = Surrogate.apply(mem - cfg.threshold)
        syn, mem = cfg.alpha * syn + h[t], cfg.beta * mem + syn - cfg.reset * s.detach()
        out.append(s)
    return torch.stack(out)
