"""The ISCAS 2020 smile network: 700-400-250 LIF layers, BPTT, WAGE-quantized integers.

One epoch is one forward pass of the whole input raster, the van Rossum loss against the target,
the full BPTT backward pass and the quantized weight gradients (the optimizer step is the training
loop's). Two backends compute the same numbers: ``fused`` (compiled CPU kernels for the neuron
recurrence, see :mod:`.smile_kernels`) and ``autograd`` (the step-by-step specification in
:mod:`.smile_reference`, which runs on any device).
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import torch

from .. import quant
from ..config import SmileWorkload
from ..neuron import LIFParams, lif_layer
from ..quant import Bits
from . import smile_kernels as kernels
from .smile_reference import GradQuant, forward_loss


class KernelCounts(NamedTuple):
    """Non-zero counts the fused kernels gather on the way (see :mod:`.smile_kernels`)."""

    row_nnz: np.ndarray  # non-zero forward weights per row (pre-synaptic neuron)
    col_nnz: np.ndarray  # ... per column (post-synaptic neuron)
    state_nnz: np.ndarray  # [syn read, syn written, mem read, mem written] over the run
    spikes_per_neuron: np.ndarray  # output spikes of each neuron over the run
    error_state_nnz: np.ndarray | None  # [read, written] of the BPTT error state, spike errors
    error_col_nnz: np.ndarray | None  # non-zero output errors per neuron
    grad_acc_nnz: np.ndarray | None  # gradient rows at accumulation: [read, written] x 2 modes
    grad_nonzero: int | None  # non-zero quantized gradient entries


class LayerRecord(NamedTuple):
    """What one layer read and produced in an epoch (consumed by metrics and the tracer)."""

    spikes_in: torch.Tensor  # (steps, fan_in) binary
    spikes_out: torch.Tensor  # (steps, fan_out) binary
    weight: torch.Tensor  # forward weight W_hat (fan_in, fan_out)
    spike_error: torch.Tensor | None  # dL/d spikes_out (steps, fan_out)
    error: torch.Tensor | None  # quantized error at the layer output (steps, fan_out)
    grad: torch.Tensor | None  # quantized weight gradient (fan_in, fan_out)
    spike_count: int  # spikes emitted by the layer in the epoch
    weight_nonzero: int  # non-zero entries of the forward weight
    counts: KernelCounts | None  # fused backend only


class EpochResult(NamedTuple):
    loss: float
    layers: list[LayerRecord]


def init_weight(
    fan_in: int,
    fan_out: int,
    init_fan_in: int,
    bits: Bits,
    state_bits: Bits,
    grad_bits: Bits,
    generator: torch.Generator,
) -> tuple[torch.Tensor, float]:
    """Reference initialisation; returns the float shadow weight and the forward scale.

    ``limit = sqrt(3 / init_fan_in)``, ``W_m = 1 - 2**-bits``; ``W ~ U(+-max(W_m, limit))``, then
    clipped on the gradient grid and rounded on the state grid (the reference's quirk);
    ``scale = 2**round(log2(W_m / limit))``, at least 1.
    """
    limit = math.sqrt(3.0 / init_fan_in)
    w_max = 1.0 if bits is None else 1.0 - 2.0**-bits
    scale = max(1.0, 2.0 ** round(math.log2(w_max / limit)))
    bound = max(w_max, limit)
    w = (torch.rand((fan_in, fan_out), generator=generator) * 2.0 - 1.0) * bound
    return quant.quant(quant.clip(w, grad_bits), state_bits), scale


def lif_params(cfg: SmileWorkload) -> LIFParams:
    """The neuron parameters of a smile workload."""
    return LIFParams(
        cfg.alpha, cfg.beta, cfg.threshold, cfg.reset, cfg.surrogate_scale, cfg.syn_delay,
        cfg.state_bits, cfg.error_bits,
    )  # fmt: skip


class SmileNet:
    """Float shadow weights, their forward quantization, and one training epoch."""

    def __init__(self, cfg: SmileWorkload, device: torch.device, backend: str) -> None:
        self.cfg = cfg
        self.device = device
        self.backend = backend
        init_gen = torch.Generator().manual_seed(cfg.seed)
        sizes = [(cfg.nb_inputs, cfg.nb_hidden), (cfg.nb_hidden, cfg.nb_outputs)]
        self.weights: list[torch.Tensor] = []
        self.scales: list[float] = []
        for fan_in, fan_out in sizes:
            w, scale = init_weight(
                fan_in,
                fan_out,
                cfg.init_fan_in or fan_in,
                cfg.weight_bits,
                cfg.state_bits,
                cfg.grad_bits,
                init_gen,
            )
            self.weights.append(w.to(device).requires_grad_(True))
            self.scales.append(scale)
        self.lif = lif_params(cfg)
        # Stochastic rounding has its own stream, drawn on the CPU for every device.
        self.grad_quant = GradQuant(
            cfg.error_bits,
            cfg.grad_bits,
            cfg.rng_bits,
            cfg.grad_scale,
            torch.Generator().manual_seed(cfg.seed + 1),
        )
        self.vr_norm = 1.0 / cfg.tau_syn

    def clip_(self) -> None:
        """Clip the shadow weights to the weight range in place (before every forward pass)."""
        if self.cfg.weight_bits is None:
            return
        b = quant.bound(self.cfg.weight_bits)
        with torch.no_grad():
            for w in self.weights:
                if w.device.type == "cpu":
                    kernels.clip_(w.numpy(), b)
                else:
                    w.clamp_(-b, b)

    def stored_forms(self) -> list[float]:
        """Grid denominator of each stored weight matrix, as the kernels take it."""
        return [_step(self.cfg.weight_bits)] * len(self.weights)

    def forward_weights(self) -> list[torch.Tensor]:
        """``W_hat = quantize(W, weight_bits) / scale`` of every layer."""
        with torch.no_grad():
            return [
                quant.quantize(w, self.cfg.weight_bits) / s
                for w, s in zip(self.weights, self.scales, strict=True)
            ]

    def epoch(self, x: torch.Tensor, target: torch.Tensor) -> EpochResult:
        """Forward, loss and BPTT backward; leaves the quantized gradients in ``w.grad``."""
        if self.backend == "autograd":
            return self._epoch_autograd(x, target)
        return self._epoch_fused(x.numpy(), target.numpy())

    def _epoch_autograd(self, x: torch.Tensor, target: torch.Tensor) -> EpochResult:
        for w in self.weights:
            w.grad = None
        loss, rasters = forward_loss(
            x,
            target,
            self.weights,
            self.cfg.weight_bits,
            self.scales,
            self.lif,
            self.grad_quant,
            self.cfg.vr_decay,
            self.vr_norm,
        )
        loss.backward()
        w_hat = self.forward_weights()
        inputs = [x, rasters[0].detach()]
        layers = [
            LayerRecord(
                i,
                r.detach(),
                wh,
                None,
                None,
                w.grad,
                int(r.sum()),
                int(torch.count_nonzero(wh)),
                None,
            )
            for i, r, wh, w in zip(inputs, rasters, w_hat, self.weights, strict=True)
        ]
        return EpochResult(float(loss.detach()), layers)

    def _forward_fused(self, x: np.ndarray) -> tuple[list[np.ndarray], list[tuple]]:
        """Quantize the weights and run every layer; returns the rasters and per-layer state."""
        cfg, lif = self.cfg, self.lif
        rasters, layers = [x], []
        for w, scale in zip(self.weights, self.scales, strict=True):
            w_hat, nnz, row_nnz, col_nnz = kernels.quantize_weight(
                w.detach().numpy(), _step(cfg.weight_bits), scale
            )
            spk, v_rec, flags, state_nnz, spikes = kernels.lif_forward(
                rasters[-1],
                w_hat,
                lif.alpha,
                lif.beta,
                lif.threshold,
                lif.reset,
                _step(cfg.state_bits),
                lif.syn_delay,
            )
            rasters.append(spk)
            layers.append((w_hat, int(nnz), row_nnz, col_nnz, v_rec, flags, state_nnz, spikes))
        return rasters, layers

    def infer(self, x: torch.Tensor) -> list[LayerRecord]:
        """Forward pass only, with the current weights (no learning)."""
        if self.backend == "autograd":
            with torch.no_grad():
                rasters, spikes = [], x
                for wh in self.forward_weights():
                    spikes = lif_layer(spikes @ wh, self.lif)
                    rasters.append(spikes)
            inputs = [x, *rasters[:-1]]
            return [
                LayerRecord(
                    i, r, wh, None, None, None, int(r.sum()), int(torch.count_nonzero(wh)), None
                )
                for i, r, wh in zip(inputs, rasters, self.forward_weights(), strict=True)
            ]
        rasters, fwd = self._forward_fused(x.numpy())
        records = []
        for k, (w_hat, nnz, row_nnz, col_nnz, _, _, state_nnz, spikes) in enumerate(fwd):
            counts = KernelCounts(row_nnz, col_nnz, state_nnz, spikes, None, None, None, None)
            spk_in, spk_out, wh = map(torch.from_numpy, (rasters[k], rasters[k + 1], w_hat))
            records.append(
                LayerRecord(spk_in, spk_out, wh, None, None, None, int(spikes.sum()), nnz, counts)
            )
        return records

    def _epoch_fused(self, x: np.ndarray, target: np.ndarray) -> EpochResult:
        cfg, lif, gq = self.cfg, self.lif, self.grad_quant
        # A second thread draws the stochastic-rounding numbers (last layer first, the order the
        # backward pass uses them) during the forward pass, and computes each layer's weight
        # gradient while the backward pass goes on below it. The kernels release the GIL; every
        # number is the same as computed in sequence.
        shapes = [tuple(w.shape) for w in reversed(self.weights)]
        uniforms = self._worker.submit(
            lambda: [torch.rand(shape, generator=gq.generator).numpy() for shape in shapes]
        )
        rasters, fwd = self._forward_fused(x)
        loss, d_spk = kernels.van_rossum_grad(rasters[-1], target, cfg.vr_decay, self.vr_norm)
        backward = []
        for k in range(len(fwd) - 1, -1, -1):
            w_hat, v_rec, flags = fwd[k][0], fwd[k][4], fwd[k][5]
            d_h, error_state_nnz = kernels.lif_backward(
                d_spk, v_rec, flags, lif.alpha, lif.beta, lif.surrogate_scale,
                _step(cfg.error_bits), cfg.state_bits is not None, lif.syn_delay,
            )  # fmt: skip
            err, error_col_nnz = kernels.quant_error_matrix(d_h, _step(cfg.error_bits))
            spike_error = d_spk
            if k > 0:
                # The error sent down: half of the steps on each thread, then this layer's
                # weight gradient on the worker while the backward pass goes on below.
                d_spk = np.zeros((err.shape[0], w_hat.shape[0]), np.float32)
                args = (err, np.ascontiguousarray(w_hat.T), d_spk)
                half = err.shape[0] // 2
                other = self._worker.submit(kernels.error_to_input, *args, half, err.shape[0])
                kernels.error_to_input(*args, 0, half)
                other.result()
                grad = self._worker.submit(self._weight_grad, k, rasters[k], err, uniforms)
            else:
                grad = _done(self._weight_grad(k, rasters[k], err, uniforms))
            backward.append((k, spike_error, err, error_state_nnz, error_col_nnz, grad))
        layers: list[LayerRecord] = []
        for k, spike_error, err, error_state_nnz, error_col_nnz, grad_future in backward[::-1]:
            w_hat, w_nnz, row_nnz, col_nnz, _, _, state_nnz, spikes = fwd[k]
            grad, grad_nnz, grad_acc_nnz = grad_future.result()
            self.weights[k].grad = torch.from_numpy(grad)
            counts = KernelCounts(
                row_nnz, col_nnz, state_nnz, spikes, error_state_nnz, error_col_nnz, grad_acc_nnz,
                int(grad_nnz),
            )  # fmt: skip
            tensors = (rasters[k], rasters[k + 1], w_hat, spike_error, err, grad)
            layers.append(
                LayerRecord(*map(torch.from_numpy, tensors), int(spikes.sum()), w_nnz, counts)
            )
        return EpochResult(loss, layers)

    def _weight_grad(self, k: int, spikes_in: np.ndarray, err: np.ndarray, uniforms: Future):
        """Accumulated and quantized weight gradient of layer ``k``. The first layer's rows are
        split between this thread and the worker (the other layers run on the worker while the
        backward pass goes on)."""
        gq = self.grad_quant
        acc = np.zeros((spikes_in.shape[1], err.shape[1]), np.float32)
        rows = spikes_in.shape[1]
        if k == 0:
            half = rows // 2
            other = self._worker.submit(kernels.outer_sum, spikes_in, err, acc, half, rows)
            acc_nnz = kernels.outer_sum(spikes_in, err, acc, 0, half) + other.result()
        else:
            acc_nnz = kernels.outer_sum(spikes_in, err, acc, 0, rows)
        uniform = uniforms.result()[len(self.weights) - 1 - k]
        grad, nnz = kernels.quant_grad(
            acc, uniform, _step(gq.grad_bits), _step(gq.rng_bits), gq.grad_scale, self.scales[k]
        )
        return grad, nnz, acc_nnz

    @functools.cached_property
    def _worker(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="smile-grad")


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _step(bits: Bits) -> float:
    """Grid denominator of a quantizer, 0 for "not quantized" (the kernels' convention)."""
    return 0.0 if bits is None else quant.step(bits)
