"""The synapses and reshapes of a NIR layer in torch: dense and conv products with the WAGE error
and gradient quantizers of the smile task in their backward pass, and flatten / pooling.

The forward weight is ``W_hat = quantize(W, weight_bits) / scale`` (``W`` the float shadow
weight, ``scale`` the layer's power of two). Backward: ``e = quant_error(dL/dx)`` over the whole
(steps, *out_shape) error of the layer, ``dL/du = e`` through ``W_hat``, and the weight gradient
``quant_grad(G / scale)`` with ``G`` the product of ``e`` and the layer's input (the exact
gradient of the forward when gradients are not quantized; quantized, the power of two cancels).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ... import quant
from ...quant import Bits
from .graph import Layer, Reshape


class GradQuant(NamedTuple):
    error_bits: Bits
    grad_bits: Bits
    rng_bits: Bits
    grad_scale: float
    generator: torch.Generator  # stochastic rounding, drawn on the CPU


def _conv_args(layer: Layer) -> dict:
    return dict(
        stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups
    )


def product(layer: Layer, u: torch.Tensor, w_hat: torch.Tensor) -> torch.Tensor:
    """The synaptic input of every step without bias: ``u`` (T, *in_shape) -> (T, *out_shape)."""
    if layer.synapse == "dense":
        return u @ w_hat.T
    return F.conv2d(u, w_hat, None, **_conv_args(layer))


def input_grad(layer: Layer, e: torch.Tensor, w_hat: torch.Tensor, shape) -> torch.Tensor:
    if layer.synapse == "dense":
        return e @ w_hat
    return torch.nn.grad.conv2d_input(shape, w_hat, e, **_conv_args(layer))


def weight_grad(layer: Layer, u: torch.Tensor, e: torch.Tensor, shape) -> torch.Tensor:
    """``G``: the error against the input, summed over the steps (the weight's layout)."""
    if layer.synapse == "dense":
        return e.T @ u
    return torch.nn.grad.conv2d_weight(u, shape, e, **_conv_args(layer))


class QuantSynapse(torch.autograd.Function):
    """``product(u, W_hat) + b_hat``; backward as the module says. ``record`` receives the
    quantized error ``e`` and weight gradient of the pass (for the tracer)."""

    @staticmethod
    def forward(ctx, u, w, w_hat, b_hat, layer: Layer, scale: float, gq: GradQuant, record):
        ctx.save_for_backward(u, w_hat)
        ctx.layer, ctx.scale, ctx.gq, ctx.record = layer, scale, gq, record
        x = product(layer, u, w_hat)
        if b_hat is not None:
            x = x + (b_hat if layer.synapse == "dense" else b_hat.view(-1, 1, 1))
        return x

    @staticmethod
    def backward(ctx, grad):
        u, w_hat = ctx.saved_tensors
        gq: GradQuant = ctx.gq
        e = quant.quant_error(grad, gq.error_bits)
        du = input_grad(ctx.layer, e, w_hat, u.shape) if ctx.needs_input_grad[0] else None
        g = weight_grad(ctx.layer, u, e, w_hat.shape) / ctx.scale
        dw = quant.quant_grad(g, gq.grad_bits, gq.rng_bits, gq.generator, lr=gq.grad_scale)
        ctx.record["error"], ctx.record["grad"] = e.detach(), dw.detach()
        return du, dw, None, None, None, None, None, None


def reshape(r: Reshape, u: torch.Tensor) -> torch.Tensor:
    """One reshape of a (T, *shape) raster: flatten, or a sum or average pooling window."""
    if r.kind == "flatten":
        return u.reshape(u.shape[0], -1)
    divisor = 1 if r.kind == "sumpool" else None
    return F.avg_pool2d(u, r.kernel, r.stride, r.padding, divisor_override=divisor)


def reshapes(layer: Layer, raw: torch.Tensor) -> torch.Tensor:
    """The layer's reshapes, in order, then its input shape."""
    u = raw
    for r in layer.reshapes:
        u = reshape(r, u)
    return u.reshape(u.shape[0], *layer.in_shape)
