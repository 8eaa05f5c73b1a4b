"""The fused backend of :class:`~.model.SmileNet`: one epoch (or one inference) through the
compiled CPU kernels of :mod:`.kernels` and :mod:`qsnn_mem.dense_kernels`, with every non-zero
count the tracer needs gathered on the way. The numbers are those of the autograd specification
(:mod:`.reference`)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...dense_kernels import error_to_input, outer_sum
from ...quant_kernels import kernel_step, quant_error_matrix, quant_grad, quantize_weight
from . import kernels
from .losses import van_rossum_grad
from .records import EpochResult, KernelCounts, LayerRecord

if TYPE_CHECKING:
    from .model import SmileNet


def forward(net: SmileNet, x: np.ndarray) -> tuple[list[np.ndarray], list[tuple]]:
    """Quantize the weights and run every layer; returns the rasters and per-layer state."""
    lif = net.lif
    rasters, layers = [x], []
    for w, scale in zip(net.weights, net.scales, strict=True):
        w_hat, nnz, row_nnz, col_nnz = quantize_weight(
            w.detach().numpy(), kernel_step(net.weight_bits), scale
        )
        spk, v_rec, flags, state_nnz, spikes = kernels.lif_forward(
            rasters[-1], w_hat, lif.alpha, lif.beta, lif.threshold, lif.reset,
            kernel_step(lif.state_bits), lif.syn_delay,
        )  # fmt: skip
        rasters.append(spk)
        layers.append((w_hat, int(nnz), row_nnz, col_nnz, v_rec, flags, state_nnz, spikes))
    return rasters, layers


def infer(net: SmileNet, x: np.ndarray) -> list[LayerRecord]:
    """Forward pass only, with the current weights, and its counts."""
    rasters, fwd = forward(net, x)
    records = []
    for k, (w_hat, nnz, row_nnz, col_nnz, _, _, state_nnz, spikes) in enumerate(fwd):
        counts = KernelCounts(row_nnz, col_nnz, state_nnz, spikes, None, None, None, None)
        spk_in, spk_out, wh = map(torch.from_numpy, (rasters[k], rasters[k + 1], w_hat))
        records.append(
            LayerRecord(spk_in, spk_out, wh, None, None, None, int(spikes.sum()), nnz, counts)
        )
    return records


def epoch(net: SmileNet, x: np.ndarray, target: np.ndarray) -> EpochResult:
    """Forward, loss and BPTT backward; leaves the quantized gradients in ``w.grad``."""
    cfg, lif, gq = net.cfg, net.lif, net.grad_quant
    # A second thread draws the stochastic-rounding numbers (last layer first, the order the
    # backward pass uses them) during the forward pass, and computes each layer's weight
    # gradient while the backward pass goes on below it. The kernels release the GIL; every
    # number is the same as computed in sequence.
    shapes = [tuple(w.shape) for w in reversed(net.weights)]
    uniforms = net.worker.submit(
        lambda: [torch.rand(shape, generator=gq.generator).numpy() for shape in shapes]
    )
    rasters, fwd = forward(net, x)
    loss, d_spk = van_rossum_grad(rasters[-1], target, cfg.vr_decay, net.vr_norm)
    estep = kernel_step(lif.error_bits)
    backward = []
    for k in range(len(fwd) - 1, -1, -1):
        w_hat, v_rec, flags = fwd[k][0], fwd[k][4], fwd[k][5]
        d_h, error_state_nnz = kernels.lif_backward(
            d_spk, v_rec, flags, lif.alpha, lif.beta, lif.surrogate_scale, estep,
            lif.state_bits is not None, lif.syn_delay,
        )  # fmt: skip
        err, error_col_nnz = quant_error_matrix(d_h, estep)
        spike_error = d_spk
        if k > 0:
            # The error sent down: half of the steps on each thread, then this layer's
            # weight gradient on the worker while the backward pass goes on below.
            d_spk = np.zeros((err.shape[0], w_hat.shape[0]), np.float32)
            args = (err, np.ascontiguousarray(w_hat.T), d_spk)
            half = err.shape[0] // 2
            other = net.worker.submit(error_to_input, *args, half, err.shape[0])
            error_to_input(*args, 0, half)
            other.result()
            grad = net.worker.submit(weight_grad, net, k, rasters[k], err, uniforms)
        else:
            grad = _done(weight_grad(net, k, rasters[k], err, uniforms))
        backward.append((k, spike_error, err, error_state_nnz, error_col_nnz, grad))
    layers: list[LayerRecord] = []
    for k, spike_error, err, error_state_nnz, error_col_nnz, grad_future in backward[::-1]:
        w_hat, w_nnz, row_nnz, col_nnz, _, _, state_nnz, spikes = fwd[k]
        grad, grad_nnz, grad_acc_nnz = grad_future.result()
        net.weights[k].grad = torch.from_numpy(grad)
        counts = KernelCounts(
            row_nnz, col_nnz, state_nnz, spikes, error_state_nnz, error_col_nnz, grad_acc_nnz,
            int(grad_nnz),
        )  # fmt: skip
        tensors = (rasters[k], rasters[k + 1], w_hat, spike_error, err, grad)
        layers.append(
            LayerRecord(*map(torch.from_numpy, tensors), int(spikes.sum()), w_nnz, counts)
        )
    return EpochResult(loss, layers)


def weight_grad(net: SmileNet, k: int, spikes_in: np.ndarray, err: np.ndarray, uniforms: Future):
    """Accumulated and quantized weight gradient of layer ``k``. The first layer's rows are
    split between this thread and the worker (the other layers run on the worker while the
    backward pass goes on)."""
    gq = net.grad_quant
    acc = np.zeros((spikes_in.shape[1], err.shape[1]), np.float32)
    rows = spikes_in.shape[1]
    if k == 0:
        half = rows // 2
        other = net.worker.submit(outer_sum, spikes_in, err, acc, half, rows)
        acc_nnz = outer_sum(spikes_in, err, acc, 0, half) + other.result()
    else:
        acc_nnz = outer_sum(spikes_in, err, acc, 0, rows)
    uniform = uniforms.result()[len(net.weights) - 1 - k]
    grad, nnz = quant_grad(
        acc, uniform, kernel_step(gq.grad_bits), kernel_step(gq.rng_bits), gq.grad_scale,
        net.grad_divisors[k],
    )  # fmt: skip
    return grad, nnz, acc_nnz


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future
