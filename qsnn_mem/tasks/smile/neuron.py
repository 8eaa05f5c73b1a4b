"""LIF neuron of the ISCAS smile network, written once as a pure step function.

This is the specification the fast kernels (:mod:`.kernels`) are tested
against. Per layer, with quantizer ``Q`` on the state (``bits=None``: identity):

    v_t     = Q(mem_t - threshold)
    s_t     = H(v_t)                  surrogate dH/dv = 1 / (scale * |v_t| + 1)**2
    syn_t+1 = Q(alpha * syn_t + h_t)
    mem_t+1 = Q(beta * mem_t + syn_t - reset * s_t)     (syn_delay: the reference's old syn_t)
    mem_t+1 = Q(beta * mem_t + syn_t+1 - reset * s_t)   (syn_delay=False)

The reset term is not differentiated. The backward pass of ``Q`` quantizes the incoming error
(WAGE ``quant_error``) and zeroes it where the forward value was clipped.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ... import quant
from ...quant import Bits


class LIFParams(NamedTuple):
    alpha: float = 0.75  # synaptic decay per step
    beta: float = 0.875  # membrane decay per step
    threshold: float = 0.9
    reset: float = 1.0  # subtracted on a spike (reference: 1, not the threshold)
    surrogate_scale: float = 100.0
    syn_delay: bool = True  # reference: the membrane integrates the previous step's syn
    state_bits: Bits = 8
    error_bits: Bits = 8


class LIFState(NamedTuple):
    syn: torch.Tensor
    mem: torch.Tensor


class QuantState(torch.autograd.Function):
    """Forward ``quantize(x, bits)``; backward ``quant_error(g, error_bits) * [x not clipped]``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, bits: int, error_bits: Bits) -> torch.Tensor:
        lim = quant.bound(bits)
        ctx.save_for_backward((x >= -lim) & (x <= lim))
        ctx.error_bits = error_bits
        return quant.quantize(x, bits)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (inside,) = ctx.saved_tensors
        return quant.quant_error(grad, ctx.error_bits) * inside, None, None


class SpikeFn(torch.autograd.Function):
    """Heaviside spike ``v > 0`` with the fast-sigmoid (SuperSpike) surrogate gradient."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.save_for_backward(v)
        ctx.scale = scale
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v,) = ctx.saved_tensors
        return grad / (ctx.scale * v.abs() + 1.0) ** 2, None


def quantize_state(x: torch.Tensor, p: LIFParams) -> torch.Tensor:
    if p.state_bits is None:
        return x
    return QuantState.apply(x, p.state_bits, p.error_bits)


def lif_step(h: torch.Tensor, state: LIFState, p: LIFParams) -> tuple[torch.Tensor, LIFState]:
    """One time step: input current ``h`` and state -> (spikes, new state)."""
    v = quantize_state(state.mem - p.threshold, p)
    spk = SpikeFn.apply(v, p.surrogate_scale)
    rst = spk.detach()
    syn = quantize_state(p.alpha * state.syn + h, p)
    drive = state.syn if p.syn_delay else syn
    mem = quantize_state(p.beta * state.mem + drive - p.reset * rst, p)
    return spk, LIFState(syn, mem)


def lif_layer(h: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """Run :func:`lif_step` over the rows (time steps) of ``h``; returns the spike raster."""
    zeros = torch.zeros_like(h[0])
    state = LIFState(zeros, zeros)
    spikes = []
    for t in range(h.shape[0]):
        spk, state = lif_step(h[t], state, p)
        spikes.append(spk)
    return torch.stack(spikes)
