"""The ISCAS smile network written with torch autograd, step by step like the reference.

It is the specification for the fused kernels and runs on any device (CUDA included). The
forward weight is ``W_hat = quantize(W, weight_bits) / scale``; the weight gradient is
``quant_grad(x^T e / divisor)`` with ``e = quant_error(dL/dh)``, the WAGE scheme of the
reference. The reference never divides the gradient (divisor 1); ``float_mode: scaled`` divides
it by the forward scale, which changes nothing when gradients are quantized (``quant_grad``
normalises by a power of two, so a power-of-two divisor cancels exactly). The loss is computed
on the CPU, in float32 as the reference, so every device gives the same numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ... import quant
from ...quant import Bits
from .losses import van_rossum
from .neuron import LIFParams, lif_layer


class GradQuant(NamedTuple):
    error_bits: Bits
    grad_bits: Bits
    rng_bits: Bits
    grad_scale: float
    generator: torch.Generator


class QuantLinear(torch.autograd.Function):
    """``x @ W_hat`` with WAGE-quantized error and gradient in the backward pass."""

    @staticmethod
    def forward(ctx, x, w, weight_bits: Bits, scale: float, divisor: float, gq: GradQuant):
        w_hat = quant.quantize(w, weight_bits) / scale
        ctx.save_for_backward(x, w_hat)
        ctx.divisor, ctx.gq = divisor, gq
        return x @ w_hat

    @staticmethod
    def backward(ctx, grad):
        x, w_hat = ctx.saved_tensors
        gq: GradQuant = ctx.gq
        e = quant.quant_error(grad, gq.error_bits)
        dx = e @ w_hat.T if ctx.needs_input_grad[0] else None
        dw = quant.quant_grad(
            x.T @ e / ctx.divisor, gq.grad_bits, gq.rng_bits, gq.generator, lr=gq.grad_scale
        )
        return dx, dw, None, None, None, None


def forward_loss(
    x: torch.Tensor,
    target: torch.Tensor,
    weights: list[torch.Tensor],
    weight_bits: Bits,
    scales: list[float],
    grad_divisors: list[float],
    lif: LIFParams,
    gq: GradQuant,
    vr_decay: float,
    vr_norm: float,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Forward the network and return (loss, spike raster of every layer)."""
    rasters = []
    spikes = x
    for w, scale, divisor in zip(weights, scales, grad_divisors, strict=True):
        h = QuantLinear.apply(spikes, w, weight_bits, scale, divisor, gq)
        spikes = lif_layer(h, lif)
        rasters.append(spikes)
    return van_rossum(spikes.cpu(), target.cpu(), vr_decay, vr_norm), rasters
