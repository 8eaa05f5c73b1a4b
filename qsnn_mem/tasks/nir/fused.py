"""The fused backend of :class:`~.model.NirNet` for networks of dense layers: one sample (or one
inference) through the compiled CPU kernels of :mod:`.kernels` and
:mod:`qsnn_mem.dense_kernels`. The numbers are those of the autograd specification (the torch
step of :mod:`.neuron` and :mod:`.synapse`).

As the smile task's fused backend, a second thread (:attr:`NirNet.worker`) draws the
stochastic-rounding numbers (last layer first, the order the backward pass uses them) during the
forward pass, takes half of the steps of each error sent down, computes each layer's weight
gradient while the backward pass goes on below it, and half of the first layer's gradient rows.
The kernels release the GIL; every number is the same as computed in sequence.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...dense_kernels import error_to_input, outer_sum
from ...quant_kernels import kernel_step, quant_error_matrix, quant_grad
from . import kernels
from .records import LayerPass, SamplePass

if TYPE_CHECKING:
    from .model import NirNet

F32 = np.float32


def population(net: NirNet, k: int) -> tuple:
    """The kernels' constants of layer ``k``'s population: coefficient rows, mode flags,
    reset amount, state grid step and scale."""
    c, q = net.coeffs[k], net.quants[k]
    co = np.stack([c.a_syn, c.b_in, c.a_mem, c.c_leak, c.g, c.v_th, c.v_reset]).reshape(7, -1)
    mode = np.array([c.has_syn, c.spiking, c.spike_first, c.subtract], np.bool_)
    return np.ascontiguousarray(co, F32), mode, c.amount, kernel_step(q.bits), q.scale


def backward_population(net: NirNet, k: int, fwd: tuple, d_out: np.ndarray) -> tuple:
    """BPTT of layer ``k``'s population from the flat spike errors ``d_out`` (T, n):
    ``dL/dx`` and the error state {"syn", "mem"} (flat)."""
    co, mode = net.constants[k][:2]
    out, vs_rec, flags = fwd
    quantized = net.quants[k].bits is not None
    d_x, es_syn, es_mem = kernels.population_backward(
        d_out, out, vs_rec, flags, co, mode, net.cfg.surrogate_scale,
        kernel_step(net.grad_quant.error_bits), quantized,
    )  # fmt: skip
    state = {"mem": es_mem} if not net.coeffs[k].has_syn else {"syn": es_syn, "mem": es_mem}
    return d_x, state


def error_state(net: NirNet, k: int, x: np.ndarray, spike_error: np.ndarray) -> dict:
    """The error state of layer ``k`` for the synaptic input ``x`` and spike errors (any
    backend: the autograd backend replays its population here for the tracer)."""
    steps = x.shape[0]
    flat = np.ascontiguousarray(x.reshape(steps, -1), F32)
    out, _, _, vs_rec, flags = kernels.population_forward(flat, *net.constants[k])
    d_out = np.ascontiguousarray(spike_error.reshape(steps, -1), F32)
    _, state = backward_population(net, k, (out, vs_rec, flags), d_out)
    return {var: v.reshape(spike_error.shape) for var, v in state.items()}


def forward(net: NirNet, x: np.ndarray) -> tuple[list[LayerPass], list[tuple]]:
    """Quantize the weights and run every layer; returns the passes and, per layer, the
    flat input, the forward weight (out, in) and what the population's backward needs."""
    raw = np.ascontiguousarray(x, F32)
    passes, saved = [], []
    wstep = kernel_step(net.weight_bits)
    for k, layer in enumerate(net.layers):
        steps, shape = raw.shape[0], (raw.shape[0], *layer.out_shape)
        u = raw.reshape(steps, -1)
        w = net.weights[k].detach().numpy()
        w_t, w_hat = kernels.quantize_transposed(w, wstep, net.scales[k])
        b = net.biases[k]
        bias = np.zeros(layer.n_out, F32) if b is None else b.numpy().astype(F32)
        h = kernels.dense_input(u, w_t, bias)
        out, syn, mem, vs_rec, flags = kernels.population_forward(h, *net.constants[k])
        has_syn = net.coeffs[k].has_syn
        record = LayerPass(
            raw, u.reshape(steps, *layer.in_shape), out.reshape(shape),
            syn.reshape(shape) if has_syn else None, mem.reshape(shape), w_hat,
            None if b is None else bias,
        )  # fmt: skip
        passes.append(record)
        saved.append((u, w_hat, (out, vs_rec, flags)))
        raw = out.reshape(shape)
    return passes, saved


def infer(net: NirNet, x: np.ndarray) -> SamplePass:
    passes, _ = forward(net, x)
    return SamplePass(None, None, passes)


def sample(net: NirNet, x: np.ndarray, target) -> SamplePass:
    """Forward, loss and BPTT backward; leaves the quantized gradients in ``w.grad``."""
    gq = net.grad_quant
    shapes = [tuple(w.shape) for w in reversed(net.weights)]
    uniforms = None
    if gq.grad_bits is not None:
        uniforms = net.worker.submit(
            lambda: [torch.rand(shape, generator=gq.generator).numpy() for shape in shapes]
        )
    passes, saved = forward(net, x)
    loss, d_out, correct = net.loss(passes[-1].out, target)
    d_out = np.ascontiguousarray(d_out.reshape(d_out.shape[0], -1), F32)
    estep = kernel_step(gq.error_bits)
    layers, grads = list(passes), {}
    for k in range(len(passes) - 1, -1, -1):
        u, w_hat, fwd = saved[k]
        spike_error = d_out
        d_x, state = backward_population(net, k, fwd, d_out)
        err, _ = quant_error_matrix(d_x, estep)
        if k > 0:
            d_out = np.zeros(u.shape, F32)
            half = err.shape[0] // 2
            other = net.worker.submit(error_to_input, err, w_hat, d_out, half, len(err))
            error_to_input(err, w_hat, d_out, 0, half)
            other.result()
            grads[k] = net.worker.submit(weight_grad, net, k, u, err, uniforms, False)
        else:
            grads[k] = _done(weight_grad(net, k, u, err, uniforms, True))
        shape = passes[k].out.shape
        layers[k] = passes[k]._replace(
            error=err.reshape(shape), spike_error=spike_error.reshape(shape),
            error_state={var: v.reshape(shape) for var, v in state.items()},
        )  # fmt: skip
    for k, future in grads.items():
        grad = future.result()
        net.weights[k].grad = torch.from_numpy(grad)
        layers[k] = layers[k]._replace(grad=grad)
    return SamplePass(loss, correct, layers)


def weight_grad(net: NirNet, k: int, u: np.ndarray, err: np.ndarray, uniforms, split: bool):
    """The quantized weight gradient of layer ``k`` (out, in); with ``split`` half of the rows
    are accumulated on the worker thread."""
    gq = net.grad_quant
    rows = u.shape[1]
    acc = np.zeros((rows, err.shape[1]), F32)
    if split:
        half = rows // 2
        other = net.worker.submit(outer_sum, u, err, acc, half, rows)
        outer_sum(u, err, acc, 0, half)
        other.result()
    else:
        outer_sum(u, err, acc, 0, rows)
    g = np.ascontiguousarray(acc.T)
    if uniforms is None:
        return g / F32(net.scales[k])
    uniform = uniforms.result()[len(net.weights) - 1 - k]
    grad, _ = quant_grad(
        g, uniform, kernel_step(gq.grad_bits), kernel_step(gq.rng_bits), gq.grad_scale,
        net.scales[k],
    )  # fmt: skip
    return grad


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future
