"""Compiled CPU kernels that every BPTT-trained network of dense layers shares (the smile task's
and the NIR task's fused backends): the masked error quantizer of a layer's neuron vector, the
error sent down through a dense weight matrix, and the weight gradient accumulated event by
event.

They compute in float32, in the same order of operations as the tasks' autograd
specifications, so quantized runs agree bit for bit. The quantizers are those of
:mod:`qsnn_mem.quant_kernels`; an ``estep`` of 0 means the error is not quantized.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .quant_kernels import shift

F32 = np.float32


@njit(cache=True, inline="always")
def quant_error_masked(g, mask_flags, bit, estep, out):
    """WAGE error quantizer of the vector ``g`` (as quant.quant_error), then the clip mask:
    entries whose flag lacks ``bit`` (their value was clipped in the forward pass) are zero.
    Written into ``out`` (branch-free, so the loops vectorise)."""
    zero = F32(0.0)
    if estep == 0.0:
        for i in range(g.size):
            out[i] = g[i] if mask_flags[i] & bit else zero
        return out
    peak = F32(0.0)
    for i in range(g.size):
        peak = max(peak, abs(g[i]))
    sh = shift(peak)
    lim = F32(1.0) - F32(1.0) / estep
    inv = F32(1.0) / estep
    for i in range(g.size):
        x = min(max(g[i] / sh, -lim), lim)
        q = F32(np.rint(x * estep)) * inv
        out[i] = q if mask_flags[i] & bit else zero
    return out


@njit(cache=True, nogil=True)
def outer_sum(spk_in, err, g, first, last):
    """Rows ``first:last`` of ``g = spk_in.T @ err``, accumulated event by event in BPTT order
    (last step first): each input spike read-modify-writes its gradient row.

    Rows are independent, so disjoint row ranges may run on different threads. Returns the
    non-zeros of the rows at those accesses: [read, written] for spike-driven accumulation, and
    [read, written] if every row were read and written every step.
    """
    steps = spk_in.shape[0]
    n = err.shape[1]
    row_nnz = np.zeros(g.shape[0], np.int64)
    total = 0  # non-zeros of all rows in the range
    event_read = event_written = dense_read = dense_written = 0
    for t in range(steps - 1, -1, -1):
        dense_read += total
        for i in range(first, last):
            s = spk_in[t, i]
            if s != 0.0:
                row, e_t = g[i], err[t]
                count = 0
                for j in range(n):
                    v = row[j] + s * e_t[j]
                    row[j] = v
                    count += v != 0.0
                event_read += row_nnz[i]
                event_written += count
                total += count - row_nnz[i]
                row_nnz[i] = count
        dense_written += total
    return np.array([event_read, event_written, dense_read, dense_written], np.int64)


@njit(cache=True, nogil=True)
def error_to_input(err, w_rows, out, first, last):
    """Rows ``first:last`` (steps) of ``out += err @ w_rows``, skipping zero errors: row ``j``
    of ``w_rows`` holds output ``j``'s weight to every input (a weight matrix stored (out, in),
    or the transpose of one stored (in, out)). Steps are independent: disjoint ranges may run
    on different threads."""
    n = err.shape[1]
    for t in range(first, last):
        row = out[t]
        for j in range(n):
            e = err[t, j]
            if e != 0.0:
                w_row = w_rows[j]
                for i in range(row.size):
                    row[i] += e * w_row[i]
    return out
