"""Quantized DECOLLE (ICONS 2020): LIF conv layers, each learning from its own fixed readout.

The equations are those of docs/decolle.md (reference: ``qsnn_decolle.py`` + ``localQ.py``),
one step of 1 ms at a time. The dynamics are one pure function, :func:`lif_conv_step`; the
local learning rule is written out by hand (:func:`local_gradients`) instead of going through
autograd: DECOLLE has no BPTT and no gradient between layers, so a step's weight gradient only
needs that step's tensors. A test checks it against torch autograd with every bit width null.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_weight

from ... import quant
from ...errors import QsnnError
from ...quant import Bits
from ...quant_kernels import quant_grad as quant_grad_kernel
from ..base import Precision
from .config import DecolleWorkload


class QuantBits(NamedTuple):  # the bitwidth of each quantizer of a layer (None = float)
    weight: Bits
    q: Bits
    p: Bits
    refrac: Bits
    readout: Bits
    grad: Bits
    error: Bits
    mem: Bits
    act: Bits
    sig: Bits
    rng: Bits


def quant_bits(precision: Precision) -> QuantBits:
    """The quantizer bitwidths of a layer, from the run's precision record (read once, at
    construction)."""
    c = precision.configured
    return QuantBits(
        c["weight_bits"], c["q_bits"], c["p_bits"], c["refrac_bits"], c["readout_bits"],
        c["grad_bits"], c["error_bits"], c["mem_bits"], c["act_bits"], c["sig_bits"],
        c["rng_bits"],
    )  # fmt: skip


class Dynamics(NamedTuple):
    """Fixed per-layer constants: decays per input element, trace scales, conv geometry."""

    alpha: torch.Tensor  # membrane-trace decay per input element, 1 - dt/tau_mem
    beta: torch.Tensor  # synaptic-trace decay per input element, 1 - dt/tau_syn
    tau_mem: torch.Tensor  # 1/(1 - alpha), in steps
    tau_syn: torch.Tensor  # 1/(1 - beta), in steps
    gamma: float  # refractory decay
    p_scale: float  # P_s * pq_cap
    q_scale: float  # Q_s * pq_cap
    r_scale: float  # R_s = 1/(1 - gamma)
    pq_capped: bool  # pq_cap != 1: clamp P and Q before quantizing (reference step 4)
    padding: int
    pool: int
    scale: float  # conv output divisor (1 at the defaults)
    threshold: float
    mem_clamp: float


class LayerState(NamedTuple):
    p: torch.Tensor  # membrane trace, shape of the layer input [B, C_in, H, W]
    q: torch.Tensor  # synaptic trace, shape of the layer input
    r: torch.Tensor  # refractory state, shape of the conv output [B, C_out, H', W']


def quant_trace(x: torch.Tensor, top: float, bits: Bits) -> torch.Tensor:
    """``quant01(clamp(x/top, 0, 1), bits) * top``: unsigned trace on a 2**bits grid."""
    return quant.quant01((x / top).clamp(0.0, 1.0), bits) * top


def quant_mem(u: torch.Tensor, bits: Bits, clamp: float) -> torch.Tensor:
    """``8 * quant11(clamp(U/8, -clamp, clamp), bits)`` (reference: clamp 8, so U in +-64)."""
    if bits is None:
        return u
    return 8.0 * quant.quant11((u / 8.0).clamp(-clamp, clamp), bits)


def lif_conv_step(
    s_in: torch.Tensor, state: LayerState, w_hat: torch.Tensor, b_hat: torch.Tensor,
    dyn: Dynamics, bits: QuantBits,
) -> tuple[torch.Tensor, torch.Tensor, LayerState]:  # fmt: skip
    """One step of a LIF conv layer: returns (spikes S, membrane U, new state)."""
    r = quant.quant01(state.r / dyn.r_scale, bits.refrac) * dyn.r_scale
    p = dyn.alpha * state.p + dyn.tau_mem * state.q
    q = dyn.beta * state.q + dyn.tau_syn * s_in
    r = dyn.gamma * r
    if dyn.pq_capped:
        p, q = p.clamp(0.0, dyn.p_scale), q.clamp(0.0, dyn.q_scale)
    p = quant_trace(p, dyn.p_scale, bits.p)
    q = quant_trace(q, dyn.q_scale, bits.q)
    u = F.conv2d(p, w_hat, b_hat, padding=dyn.padding) / dyn.scale - r
    u = quant_mem(u, bits.mem, dyn.mem_clamp)
    s = (u >= dyn.threshold).to(u.dtype)  # -0.0 >= 0: the effective threshold is -LSB/2
    return s, u, LayerState(p, q, r + s)


class Forward(NamedTuple):
    """What one layer computed in one step (kept for the learning rule and the tracer)."""

    s_in: torch.Tensor
    state: LayerState  # after the step (p, q used by the conv, r including this step's spikes)
    u: torch.Tensor
    s: torch.Tensor
    out: torch.Tensor  # max-pooled spikes: the next layer's input
    sig: torch.Tensor  # sigmoid(U)
    a: torch.Tensor  # max-pooled sigmoid(U)
    pool_idx: torch.Tensor | None
    a_q: torch.Tensor  # quant_sig(a): the readout input
    act: torch.Tensor  # quant_act(a_q @ Wr^T / scale_r)
    drop: torch.Tensor  # dropout factor per readout output (mask/(1-p)*p, or p)
    r_out: torch.Tensor  # readout output ((act + 1)/2) * drop


class Learn(NamedTuple):
    loss: float
    e: torch.Tensor  # quantized readout output error [B, classes]
    delta_a: torch.Tensor  # quantized readout input error [B, F]
    e_u: torch.Tensor  # quantized membrane error [B, C_out, H', W']
    grad_w: torch.Tensor  # applied weight gradient, in units of weight_mult
    grad_b: torch.Tensor


def pool2d(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    if k == 1:
        return x, None
    return F.max_pool2d(x, k, k, return_indices=True)


def unpool2d(d: torch.Tensor, idx: torch.Tensor | None, k: int, like: torch.Tensor):
    """Route ``d`` back to the positions that won the max-pool (gradient of max_pool2d)."""
    if idx is None:
        return d
    return F.max_unpool2d(d, idx, k, k, output_size=like.shape[-2:])


def local_gradients(
    fwd: Forward,
    target: torch.Tensor,
    feedback: torch.Tensor,
    w: torch.Tensor,
    dyn: Dynamics,
    bits: QuantBits,
    l1: float,
    l2: float,
) -> tuple[float, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Local loss and its unquantized weight/bias gradient (with the quantized errors).

    The readout backward is the reference's: ``e = quant_err(dL/dr * dropout)`` (ignoring the
    (.+1)/2 factor, 1/scale_r and the clip mask), ``delta_a = quant_err(e @ B)`` through the fixed
    feedback ``B``; then max-pool routing, sigmoid', ``e_U = quant_err(dL/dU)`` (U is straight-
    through), and ``dW = conv_weight_grad(P, e_U) / scale``.
    """
    diff = fwd.r_out - target
    if bits.error is None:
        loss_out = diff.pow(2).mean()
        d_r = 2.0 * diff / diff.numel()
    else:
        loss_out = 0.5 * diff.pow(2).sum()
        d_r = diff
    a, u = fwd.a, fwd.u
    reg1 = l1 * 20.0 * F.relu(a + 0.01).mean()
    reg2 = l2 * 0.1 * F.relu(0.1 - u.mean())
    e = quant.quant_error(d_r * fwd.drop, bits.error)
    delta_a = quant.quant_error(e @ feedback, bits.error).view_as(a)
    d_a = delta_a + l1 * 20.0 * (a + 0.01 > 0).to(a.dtype) / a.numel()
    d_u = unpool2d(d_a, fwd.pool_idx, dyn.pool, u) * fwd.sig * (1.0 - fwd.sig)
    if float(reg2) > 0:
        d_u = d_u - l2 * 0.1 / u.numel()
    e_u = quant.quant_error(d_u, bits.error)
    grad_w = conv2d_weight(fwd.state.p, w.shape, e_u, padding=dyn.padding) / dyn.scale
    grad_b = e_u.sum(dim=(0, 2, 3)) / dyn.scale
    loss = float(loss_out + reg1 + reg2)
    return loss, e, delta_a.flatten(1), e_u, grad_w, grad_b


def quant_grad(
    x: torch.Tensor, bits: int, rng_bits: Bits, generator: torch.Generator, lr: float
) -> torch.Tensor:
    """quant.quant_grad; on the CPU as one compiled pass (the same random numbers, same bits)."""
    if x.device.type != "cpu":
        return quant.quant_grad(x, bits, rng_bits, generator, lr=lr)
    uniform = torch.rand(x.shape, generator=generator).numpy()
    rstep = 0.0 if rng_bits is None else quant.step(rng_bits)
    out, _ = quant_grad_kernel(x.contiguous().numpy(), uniform, quant.step(bits), rstep, lr, 1.0)
    return torch.from_numpy(out)


def _uniform(shape, low, high, gen, device) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * (high - low) + low).to(device)


def readout_weights(
    classes: int, fan_in: int, sb: Bits, cfg: DecolleWorkload, gen: torch.Generator, device
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Fixed readout ``Wr`` and sign-concordant feedback ``B`` (both [classes, fan_in], ``sb``
    bits) and the readout scale ``max(1, shift((1 - L_min)/L))``, ``L = lc_ampl/sqrt(fan_in)``."""
    w_r = quant.quantize(_uniform((classes, fan_in), -1.0, 1.0, gen, device), sb)
    back = quant.quantize(_uniform((classes, fan_in), -1.0, 1.0, gen, device), sb)
    back = torch.where(w_r != 0, back.abs() * torch.sign(w_r), back)
    l_min = 0.0 if sb is None else cfg.init_beta / quant.step(sb)
    limit = cfg.lc_ampl / math.sqrt(fan_in)
    return w_r, back, max(1.0, quant.shift((1.0 - l_min) / limit))


class DecolleLayer:
    """Parameters of one layer (conv weights, bias, fixed readout) and its step functions; the
    bitwidths of its quantizers (from the run's ``precision``) are read once, into ``bits``."""

    def __init__(
        self, cfg: DecolleWorkload, precision: Precision, k: int, in_shape: tuple[int, int, int],
        classes: int, device: torch.device, gen: torch.Generator,
    ) -> None:  # fmt: skip
        c_in, h, w = in_shape
        c_out, ks, pad, pool = cfg.channels[k], cfg.kernel_size, cfg.padding, cfg.pooling[k]
        h_out, w_out = h + 2 * pad - ks + 1, w + 2 * pad - ks + 1
        if h_out < pool or w_out < pool:
            need = f"at least {pool + ks - 1 - 2 * pad} pixels a side; change ds or the layers"
            raise QsnnError(
                f"layer {k + 1}: input {h}x{w} is too small for the conv and pool ({need})"
            )
        self.name = f"conv{k + 1}"
        self.cfg, self.bits, self.device = cfg, quant_bits(precision), device
        self.in_shape, self.conv_shape = in_shape, (c_out, h_out, w_out)
        self.out_shape = (c_out, h_out // pool, w_out // pool)
        self.dyn = self._dynamics(cfg, in_shape, pool, gen, device)
        self.w, self.b = self._init_weights(cfg, c_in, c_out, ks, gen, device)
        fan_in = math.prod(self.out_shape)
        self.w_r, self.feedback, self.readout_scale = readout_weights(
            classes, fan_in, self.bits.readout, cfg, gen, device
        )

    def _dynamics(self, cfg, in_shape, pool, gen, device) -> Dynamics:
        dt_ms = cfg.delta_t * 1e3
        tau_syn = _uniform(in_shape, cfg.tau_syn_lower, cfg.tau_syn_upper, gen, device)
        tau_mem = _uniform(in_shape, cfg.tau_mem_lower, cfg.tau_mem_upper, gen, device)
        beta, alpha = 1.0 - dt_ms / tau_syn, 1.0 - dt_ms / tau_mem
        t_syn, t_mem = 1.0 / (1.0 - beta), 1.0 / (1.0 - alpha)
        q_s = float((t_syn / (1.0 - beta)).max())
        p_s = float((t_mem * q_s / (1.0 - alpha)).max())
        gamma = 1.0 - dt_ms / cfg.tau_ref
        fan_in = in_shape[0] * cfg.kernel_size**2
        wb = self.bits.weight
        l_min = 0.0 if wb is None else cfg.init_beta / quant.step(wb)
        scale = max(1.0, quant.shift(l_min * math.sqrt(fan_in)))
        return Dynamics(
            alpha, beta, t_mem, t_syn, gamma, p_s * cfg.pq_cap, q_s * cfg.pq_cap,
            1.0 / (1.0 - gamma), cfg.pq_cap != 1.0, cfg.padding, pool, scale, cfg.threshold,
            cfg.mem_clamp,
        )  # fmt: skip

    def _init_weights(self, cfg, c_in, c_out, ks, gen, device):
        stdv = 1.0 / math.sqrt(c_in * ks * ks)
        wb, wm = self.bits.weight, cfg.weight_mult
        l_min = 0.0 if wb is None else cfg.init_beta / quant.step(wb)
        w = _uniform((c_out, c_in, ks, ks), -1, 1, gen, device) * max(stdv, l_min) * wm
        b = _uniform((c_out,), -1, 1, gen, device) * max(100 * stdv, l_min) * wm
        # Shadow weights are held in units of weight_mult, so quantized updates stay exact.
        if cfg.init == "reference":  # quant_w without /weight_mult: everything rounds to 0
            w, b = quant.quantize(w, wb) / self.dyn.scale, quant.quantize(b, wb) / self.dyn.scale
            return (w / wm).contiguous(), (b / wm).contiguous()
        return quant.quantize(w / wm, wb).contiguous(), quant.quantize(b / wm, wb).contiguous()

    def init_state(self, batch: int) -> LayerState:
        z = torch.zeros((batch, *self.in_shape), device=self.device)
        return LayerState(z, z.clone(), torch.zeros((batch, *self.conv_shape), device=self.device))

    def forward_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Clip the shadow weights to the gb range (in weight_mult units); return ``W_hat``."""
        wm, gb, wb = self.cfg.weight_mult, self.bits.grad, self.bits.weight
        self.w, self.b = quant.clip(self.w, gb), quant.clip(self.b, gb)
        return quant.quantize(self.w, wb) * wm, quant.quantize(self.b, wb) * wm

    def forward(self, s_in: torch.Tensor, state: LayerState, drop: torch.Tensor) -> Forward:
        w_hat, b_hat = self.forward_weights()
        s, u, state = lif_conv_step(s_in, state, w_hat, b_hat, self.dyn, self.bits)
        out, _ = pool2d(s, self.dyn.pool)
        sig = torch.sigmoid(u)
        a, idx = pool2d(sig, self.dyn.pool)
        a_q = quant.quant01(a, self.bits.sig)
        x = a_q.flatten(1) @ self.w_r.t() / self.readout_scale
        act = quant.quantize(x, self.bits.act)
        r_out = (act + 1.0) / 2.0 * drop
        return Forward(s_in, state, u, s, out, sig, a, idx, a_q, act, drop, r_out)

    def learn(self, fwd: Forward, target: torch.Tensor, generator: torch.Generator, lr: float):
        """Local loss, quantized gradients, and the SGD step (lr 1 on quant_grad gradients, or
        ``lr_sgd`` on float gradients when grad_bits is null)."""
        loss, e, delta_a, e_u, g_w, g_b = local_gradients(
            fwd, target, self.feedback, self.w, self.dyn, self.bits, self.cfg.l1, self.cfg.l2
        )
        b, wm = self.bits, self.cfg.weight_mult
        if b.grad is None:  # float SGD; the shadow weights are in units of weight_mult
            g_w, g_b = g_w * (lr / wm), g_b * (lr / wm)
        else:
            g_w = quant_grad(g_w, b.grad, b.rng, generator, lr)
            g_b = quant_grad(g_b, b.grad, b.rng, generator, lr)
        self.w = self.w - g_w
        self.b = self.b - g_b
        return Learn(loss, e, delta_a, e_u, g_w, g_b)
