"""Fused CPU kernels of a dense NIR layer: the event-driven synaptic input and the population
update of :mod:`.neuron` over all steps, and its BPTT. The error sent down and the weight
gradient accumulation are those of every dense layer (:mod:`qsnn_mem.dense_kernels`).

They compute what the torch step (:func:`.neuron.step`) computes under autograd, in float32 and
in the same order of operations, so quantized runs agree bit for bit (float runs to rounding:
the event-driven sums add rows in another order than a BLAS product). A ``qstep``/``estep`` of 0
means "not quantized"; ``qscale`` is the power of two of the layer's state grid.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...dense_kernels import quant_error_masked

F32 = np.float32
# Flag bits per neuron and step: the value was inside its quantizer's clip range.
IN_SYN, IN_PRE, IN_V, IN_MEM = 1, 2, 4, 8
ALL_IN = IN_SYN | IN_PRE | IN_V | IN_MEM


@njit(cache=True, inline="always")
def _q(x, qstep, qscale):
    """``S * quantize(x / S)`` of one value and whether it was inside the clip range."""
    if qstep == 0.0:
        return x, True
    xs = x / qscale
    lim = F32(1.0) - F32(1.0) / qstep
    inside = (xs >= -lim) & (xs <= lim)
    xc = min(max(xs, -lim), lim)
    return F32(np.rint(xc * qstep)) * (F32(1.0) / qstep) * qscale, inside


@njit(cache=True, nogil=True)
def dense_input(u, w_t, bias):
    """``x_t = u_t @ W_hat.T + b`` of every step, a weight row per non-zero input."""
    steps, n_in = u.shape
    n = w_t.shape[1]
    x = np.zeros((steps, n), F32)
    for t in range(steps):
        row = x[t]
        for i in range(n_in):
            s_in = u[t, i]
            if s_in != 0.0:
                w_row = w_t[i]
                for j in range(n):
                    row[j] += s_in * w_row[j]
        for j in range(n):
            row[j] += bias[j]
    return x


@njit(cache=True, nogil=True)
def population_forward(x, co, mode, amount, qstep, qscale):
    """The population update over all steps of the synaptic input ``x`` (T, n). ``co`` = rows
    a_syn, b_in, a_mem, c_leak, g, v_th, v_reset; ``mode`` = [has_syn, spiking, spike_first,
    subtract].

    Returns the output raster, the I and v histories, the quantized ``v - v_th`` of every step
    (the surrogate's argument) and the clip flags for the backward pass.
    """
    steps, n = x.shape
    has_syn, spiking, spike_first, subtract = mode[0], mode[1], mode[2], mode[3]
    a_syn, b_in, a_mem, c_leak, g, v_th, v_reset = co[0], co[1], co[2], co[3], co[4], co[5], co[6]
    amt, q, sc = F32(amount), F32(qstep), F32(qscale)
    out = np.zeros((steps, n), F32)
    syn_hist = np.zeros((steps, n), F32)
    mem_hist = np.empty((steps, n), F32)
    vs_rec = np.zeros((steps, n), F32)
    flags = np.zeros((steps, n), np.uint8)
    syn = np.zeros(n, F32)
    mem = np.zeros(n, F32)
    for t in range(steps):
        for j in range(n):
            in_syn = in_pre = in_v = True
            drive = x[t, j]
            new_syn = syn[j]
            if has_syn:
                new_syn, in_syn = _q(a_syn[j] * syn[j] + b_in[j] * x[t, j], q, sc)
                drive = syn[j]
            pre = a_mem[j] * mem[j] + c_leak[j] + g[j] * drive
            s = F32(0.0)
            if spiking:
                if spike_first:
                    vs, in_v = _q(mem[j] - v_th[j], q, sc)
                else:
                    pre, in_pre = _q(pre, q, sc)
                    vs, in_v = _q(pre - v_th[j], q, sc)
                s = F32(1.0) if vs > 0 else F32(0.0)
                vs_rec[t, j] = vs
                if subtract:
                    pre = pre - amt * s
                elif s > 0:
                    pre = v_reset[j]
            new_mem, in_mem = _q(pre, q, sc)
            out[t, j] = s if spiking else new_mem
            flags[t, j] = IN_SYN * in_syn + IN_PRE * in_pre + IN_V * in_v + IN_MEM * in_mem
            syn[j] = new_syn
            mem[j] = new_mem
            syn_hist[t, j] = new_syn
            mem_hist[t, j] = new_mem
    return out, syn_hist, mem_hist, vs_rec, flags


@njit(cache=True, nogil=True)
def population_backward(d_out, out, vs_rec, flags, co, mode, surrogate, estep, quantized):
    """BPTT through :func:`population_forward`: ``dL/dx_t`` from ``dL/d out_t``. Errors are
    quantized and masked per state operation and step (``quantized``: states are quantized;
    without, errors pass through unquantized and unmasked). Also returns the error state
    written at each step: the adjoints dL/dI and dL/dv carried to the step before."""
    steps, n = d_out.shape
    has_syn, spiking, spike_first, subtract = mode[0], mode[1], mode[2], mode[3]
    a_syn, b_in, a_mem, g = co[0], co[1], co[2], co[4]
    sc = F32(surrogate)
    e = F32(estep) if quantized else F32(0.0)
    all_in = np.full(n, ALL_IN, np.uint8)
    d_x = np.empty((steps, n), F32)
    es_syn = np.zeros((steps, n), F32)
    es_mem = np.empty((steps, n), F32)
    g_syn = np.zeros(n, F32)  # dL/dI_t
    g_mem = np.zeros(n, F32)  # dL/dv_t
    g_m = np.empty(n, F32)
    g_s = np.empty(n, F32)
    g_v = np.empty(n, F32)
    g_vq = np.empty(n, F32)
    g_pre = np.empty(n, F32)
    for t in range(steps - 1, -1, -1):
        fl = flags[t] if quantized else all_in
        if not spiking:
            for i in range(n):
                g_mem[i] = g_mem[i] + d_out[t, i]
        quant_error_masked(g_mem, fl, IN_MEM, e, g_m)
        if spiking:
            if not subtract:
                for i in range(n):
                    if out[t, i] > 0:
                        g_m[i] = F32(0.0)
            for i in range(n):
                d = sc * abs(vs_rec[t, i]) + F32(1.0)
                g_v[i] = d_out[t, i] / (d * d)
            quant_error_masked(g_v, fl, IN_V, e, g_vq)
            if not spike_first:
                for i in range(n):
                    g_pre[i] = g_m[i] + g_vq[i]
                quant_error_masked(g_pre, fl, IN_PRE, e, g_m)
        if has_syn:
            quant_error_masked(g_syn, fl, IN_SYN, e, g_s)
            for i in range(n):
                d_x[t, i] = b_in[i] * g_s[i]
                g_syn[i] = a_syn[i] * g_s[i] + g[i] * g_m[i]
        else:
            for i in range(n):
                d_x[t, i] = g[i] * g_m[i]
        if spiking and spike_first:
            for i in range(n):
                g_mem[i] = a_mem[i] * g_m[i] + g_vq[i]
        else:
            for i in range(n):
                g_mem[i] = a_mem[i] * g_m[i]
        if has_syn:
            es_syn[t] = g_syn
        es_mem[t] = g_mem
    return d_x, es_syn, es_mem


@njit(cache=True, nogil=True)
def quantize_transposed(w, qstep, scale):
    """``quantize(W, bits) / scale`` of W (out, in): as (in, out) for the forward, and as
    (out, in)."""
    n_out, n_in = w.shape
    out = np.empty((n_in, n_out), F32)
    same = np.empty((n_out, n_in), F32)
    inv_s = F32(1.0) / F32(scale)
    q = F32(qstep)
    lim = F32(1.0) - F32(1.0) / q if qstep != 0.0 else F32(0.0)
    for j in range(n_out):
        for i in range(n_in):
            v = w[j, i]
            if qstep != 0.0:
                v = F32(np.rint(min(max(v, -lim), lim) * q)) * (F32(1.0) / q)
            v = v * inv_s
            out[i, j] = v
            same[j, i] = v
    return out, same
