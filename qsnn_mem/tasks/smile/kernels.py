"""Fused CPU kernels of the smile network: event-driven LIF layers and their BPTT. The weight
gradient accumulation and the error sent down are those of every dense layer
(:mod:`qsnn_mem.dense_kernels`).

They compute what :mod:`.reference` computes under torch autograd (the LIF step of
:mod:`.neuron`), in float32 and in the same order of operations, so quantized runs agree bit for
bit (float runs to rounding: the event-driven sums add rows in another order than a BLAS
product). One compiled loop replaces thousands of small tensor operations per epoch. The
quantizers are those of :mod:`qsnn_mem.quant_kernels`; a ``qstep``/``estep`` of 0 means the value
is not quantized.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...dense_kernels import quant_error_masked
from ...quant_kernels import quant_value

INSIDE_V, INSIDE_SYN, INSIDE_MEM = 1, 2, 4  # flag bits: value was not clipped by its quantizer
F32 = np.float32


@njit(cache=True, nogil=True)
def lif_forward(spk_in, w_hat, alpha, beta, threshold, reset, qstep, syn_delay):
    """Event-driven layer: each input spike adds its weight row, then the LIF step.

    Returns the spike raster, the quantized ``v`` per step, the clip flags for backward, the
    non-zero state values read and written over the run: [syn read, syn written, mem read,
    mem written] (step t reads the state of step t-1, initially zero), and spikes per neuron.
    """
    steps, n_in = spk_in.shape
    n = w_hat.shape[1]
    a, b = F32(alpha), F32(beta)
    thr, rst, q = F32(threshold), F32(reset), F32(qstep)
    spk = np.zeros((steps, n), F32)
    v_rec = np.empty((steps, n), F32)
    flags = np.zeros((steps, n), np.uint8)
    syn = np.zeros(n, F32)
    mem = np.zeros(n, F32)
    h = np.empty(n, F32)
    spikes = np.zeros(n, np.int64)
    # Scalar accumulators (not array elements) keep the neuron loop vectorisable.
    syn_read = syn_written = mem_read = mem_written = 0
    for t in range(steps):
        h[:] = 0.0
        for i in range(n_in):
            s_in = spk_in[t, i]
            if s_in != 0.0:
                for j in range(n):
                    h[j] += s_in * w_hat[i, j]
        for j in range(n):
            v, in_v = quant_value(mem[j] - thr, q)
            s = F32(1.0) if v > 0 else F32(0.0)
            new_syn, in_syn = quant_value(a * syn[j] + h[j], q)
            drive = syn[j] if syn_delay else new_syn
            new_mem, in_mem = quant_value(b * mem[j] + drive - rst * s, q)
            syn_read += syn[j] != 0.0
            syn_written += new_syn != 0.0
            mem_read += mem[j] != 0.0
            mem_written += new_mem != 0.0
            spk[t, j] = s
            spikes[j] += v > 0
            v_rec[t, j] = v
            flags[t, j] = INSIDE_V * in_v + INSIDE_SYN * in_syn + INSIDE_MEM * in_mem
            syn[j] = new_syn
            mem[j] = new_mem
    nnz = np.array([syn_read, syn_written, mem_read, mem_written], np.int64)
    return spk, v_rec, flags, nnz, spikes


@njit(cache=True, nogil=True)
def lif_backward(d_spk, v_rec, flags, alpha, beta, surrogate_scale, estep, quantized, syn_delay):
    """BPTT through :func:`lif_forward`: gradient of the loss w.r.t. the input current ``h``.

    Also returns the non-zero entries of the per-neuron error state (dL/dsyn, dL/dmem) read and
    written over the run, and of ``d_spk``: [read, written, spike errors]. Unquantized state
    (``quantized`` false) passes errors through unmasked.
    """
    steps, n = d_spk.shape
    a, b, sc = F32(alpha), F32(beta), F32(surrogate_scale)
    e = F32(estep)
    all_in = np.full(n, INSIDE_V | INSIDE_SYN | INSIDE_MEM, np.uint8)
    d_h = np.empty((steps, n), F32)
    g_syn = np.zeros(n, F32)  # dL/d syn_{t+1} (syn_delay) or its part via pre_syn_{t+1}
    g_mem = np.zeros(n, F32)  # dL/d mem_{t+1}
    g_v = np.empty(n, F32)
    g_premem = np.empty(n, F32)
    g_presyn = np.empty(n, F32)
    g_v_q = np.empty(n, F32)
    e_q = e if quantized else F32(0.0)  # without state quantizers there is no error quantizer
    state_read = state_written = spike_errors = 0
    for t in range(steps - 1, -1, -1):
        for i in range(n):
            state_read += (g_syn[i] != 0.0) + (g_mem[i] != 0.0)
            spike_errors += d_spk[t, i] != 0.0
        fl = flags[t] if quantized else all_in
        quant_error_masked(g_mem, fl, INSIDE_MEM, e_q, g_premem)
        if syn_delay:
            quant_error_masked(g_syn, fl, INSIDE_SYN, e_q, g_presyn)
            for i in range(n):
                g_syn[i] = a * g_presyn[i] + g_premem[i]
        else:
            for i in range(n):
                g_syn[i] = g_syn[i] + g_premem[i]
            quant_error_masked(g_syn, fl, INSIDE_SYN, e_q, g_presyn)
            for i in range(n):
                g_syn[i] = a * g_presyn[i]
        d_h[t] = g_presyn
        for i in range(n):
            d = sc * abs(v_rec[t, i]) + F32(1.0)
            g_v[i] = d_spk[t, i] / (d * d)
        quant_error_masked(g_v, fl, INSIDE_V, e_q, g_v_q)
        for i in range(n):
            g_mem[i] = b * g_premem[i] + g_v_q[i]
            state_written += (g_syn[i] != 0.0) + (g_mem[i] != 0.0)
    return d_h, np.array([state_read, state_written, spike_errors], np.int64)
