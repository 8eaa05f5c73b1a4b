"""The neuron populations of a NIR network, discretised (docs/nir.md) and quantized, written once
as a torch step: the specification the fused kernels (:mod:`.kernels`) are tested against.

Every kind is one update with per-neuron coefficients (:class:`Coeffs`, from the graph's
parameters and ``dt``), with ``Q`` the state quantizer of the layer (``state_bits`` on a grid
scaled by the power of two ``S``; identity when not quantized):

    I_t  = Q(a_syn * I_{t-1} + b_in * x_t)                 CubaLIF only; its drive is I_{t-1}
    pre  = a_mem * v_{t-1} + c_leak + g * drive            drive = x_t for LIF, IF and LI
    spike first (the smile order):  s_t = H(Q(v_{t-1} - v_th)), then v_t = Q(reset(pre))
    NIR order:                      pre = Q(pre), s_t = H(Q(pre - v_th)), v_t = Q(reset(pre))
    reset: subtract ``amount * s_t``, or ``v_reset`` where ``s_t``; LI: ``v_t = Q(pre)``, output v

with ``a_syn = 1 - dt/tau_syn``, ``b_in = dt/tau_syn * w_in``, ``a_mem = 1 - dt/tau_mem``,
``c_leak = dt/tau_mem * v_leak``, ``g = dt/tau_mem * r`` (IF: ``a_mem = 1``, ``c_leak = 0``,
``g = dt * r``). The spike's surrogate gradient is the smile task's (``SpikeFn``); the reset is
not differentiated; the backward pass of ``Q`` quantizes the error (WAGE ``quant_error``) and
zeroes it where the forward value was clipped, as in the smile task.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ... import quant
from ...quant import Bits
from ..smile.neuron import SpikeFn
from .graph import Neuron

F32 = np.float32


class Coeffs(NamedTuple):
    """One population's discretised update: float32 arrays of the layer's output shape."""

    kind: str
    a_syn: np.ndarray
    b_in: np.ndarray
    a_mem: np.ndarray
    c_leak: np.ndarray
    g: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    subtract: bool  # reset by subtraction (else to v_reset)
    amount: float
    spike_first: bool

    @property
    def has_syn(self) -> bool:
        return self.kind == "CubaLIF"

    @property
    def spiking(self) -> bool:
        return self.kind != "LI"


def coefficients(neuron: Neuron, shape: tuple[int, ...], dt: float) -> Coeffs:
    """The update coefficients of ``neuron`` at time step ``dt`` (computed in float64)."""

    def full(value) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, np.float64), shape).astype(F32)

    zero = np.zeros(shape)
    if neuron.kind == "CubaLIF":
        k_syn = dt / np.asarray(neuron.tau_syn, np.float64)
        w_in = 1.0 if neuron.w_in is None else neuron.w_in
        a_syn, b_in = 1.0 - k_syn, k_syn * np.asarray(w_in, np.float64)
    else:
        a_syn, b_in = zero, zero + 1.0
    if neuron.kind == "IF":
        a_mem, c_leak, g = zero + 1.0, zero, dt * np.asarray(neuron.r, np.float64)
    else:
        k = dt / np.asarray(neuron.tau_mem, np.float64)
        a_mem, c_leak = 1.0 - k, k * np.asarray(neuron.v_leak, np.float64)
        g = k * np.asarray(neuron.r, np.float64)
    return Coeffs(
        neuron.kind, full(a_syn), full(b_in), full(a_mem), full(c_leak), full(g),
        full(neuron.v_threshold), full(neuron.v_reset), neuron.reset == "subtract",
        float(neuron.reset_amount), bool(neuron.spike_first),
    )  # fmt: skip


def state_scale(neuron: Neuron, bits: Bits, fixed: float | None) -> float:
    """Power of two ``S`` of a layer's state grid: ``fixed`` if given, else the smallest whose
    ``bits`` grid (magnitudes up to ``S * bound(bits)``) holds the layer's threshold, reset
    and leak potentials; 1 when states are not quantized."""
    if bits is None:
        return 1.0
    if fixed is not None:
        return float(fixed)
    levels = [] if neuron.kind == "IF" else [neuron.v_leak]
    if neuron.kind != "LI":
        levels.append(neuron.v_threshold)
        if neuron.reset == "to_value":
            levels.append(neuron.v_reset)
    peak = max((float(np.abs(np.asarray(x)).max(initial=0.0)) for x in levels), default=0.0)
    if not math.isfinite(peak) or peak == 0.0:
        return 1.0
    return 2.0 ** max(0, math.ceil(math.log2(peak / quant.bound(bits))))


class QuantState(torch.autograd.Function):
    """Forward ``S * quantize(x / S, bits)``; backward ``quant_error(g) * [x not clipped]``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, bits: int, error_bits: Bits, scale: float):
        lim = quant.bound(bits) * scale
        ctx.save_for_backward((x >= -lim) & (x <= lim))
        ctx.error_bits = error_bits
        if scale == 1.0:
            return quant.quantize(x, bits)
        return quant.quantize(x / scale, bits) * scale

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (inside,) = ctx.saved_tensors
        return quant.quant_error(grad, ctx.error_bits) * inside, None, None, None


class StateQuant(NamedTuple):
    """The state quantizer of one layer: bits (None: identity), error bits, grid scale."""

    bits: Bits
    error_bits: Bits
    scale: float

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.bits is None:
            return x
        return QuantState.apply(x, self.bits, self.error_bits, self.scale)


class TorchCoeffs(NamedTuple):
    """:class:`Coeffs` as tensors on a device, with the layer's quantizer and surrogate."""

    c: Coeffs
    a_syn: torch.Tensor
    b_in: torch.Tensor
    a_mem: torch.Tensor
    c_leak: torch.Tensor
    g: torch.Tensor
    v_th: torch.Tensor
    v_reset: torch.Tensor
    q: StateQuant
    surrogate: float


def torch_coeffs(c: Coeffs, q: StateQuant, surrogate: float, device, dtype) -> TorchCoeffs:
    arrays = (c.a_syn, c.b_in, c.a_mem, c.c_leak, c.g, c.v_th, c.v_reset)
    tensors = [torch.as_tensor(a).to(device=device, dtype=dtype) for a in arrays]
    return TorchCoeffs(c, *tensors, q, surrogate)


class State(NamedTuple):
    syn: torch.Tensor  # I (CubaLIF); unused zeros otherwise
    mem: torch.Tensor  # v


def step(x: torch.Tensor, state: State, p: TorchCoeffs) -> tuple[torch.Tensor, State]:
    """One time step of a population: synaptic input ``x`` -> (output, new state). The output
    is the spikes, or the membrane of an LI population."""
    c, q = p.c, p.q
    syn, drive = state.syn, x
    if c.has_syn:
        syn = q(p.a_syn * state.syn + p.b_in * x)
        drive = state.syn
    pre = p.a_mem * state.mem + p.c_leak + p.g * drive
    if not c.spiking:
        mem = q(pre)
        return mem, State(syn, mem)
    if c.spike_first:
        spk = SpikeFn.apply(q(state.mem - p.v_th), p.surrogate)
    else:
        pre = q(pre)
        spk = SpikeFn.apply(q(pre - p.v_th), p.surrogate)
    fired = spk.detach()
    reset = pre - c.amount * fired if c.subtract else torch.where(fired > 0, p.v_reset, pre)
    return spk, State(syn, q(reset))


def run_population(
    x: torch.Tensor, p: TorchCoeffs
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`step` over the time steps of ``x`` (T, *shape); returns the output raster and the
    ``I`` and ``v`` histories (each state after its step)."""
    zeros = torch.zeros_like(x[0])
    state = State(zeros, zeros)
    outs, syns, mems = [], [], []
    for t in range(x.shape[0]):
        out, state = step(x[t], state, p)
        outs.append(out)
        syns.append(state.syn)
        mems.append(state.mem)
    return torch.stack(outs), torch.stack(syns), torch.stack(mems)
