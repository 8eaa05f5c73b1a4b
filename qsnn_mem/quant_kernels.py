"""Compiled CPU kernels of the WAGE quantizers of :mod:`qsnn_mem.quant`, value by value.

Each gives the same float32 bits as its torch counterpart (tests/test_quant.py); the networks'
fused kernels build on them. A ``qstep``/``estep``/``gstep``/``rstep`` of 0 means the value is
not quantized (:func:`kernel_step`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import quant
from .quant import Bits

F32 = np.float32


def kernel_step(bits: Bits) -> float:
    """Grid denominator of a quantizer as the kernels take it, 0 for "not quantized"."""
    return 0.0 if bits is None else quant.step(bits)


@njit(cache=True, inline="always")
def quant_value(x, qstep):
    """quant.quantize of one value, and whether it was inside the clip range. ``qstep`` is a
    power of two, so multiplying by its reciprocal is exact (and cheaper than dividing)."""
    if qstep == 0.0:
        return x, True
    lim = F32(1.0) - F32(1.0) / qstep
    inside = (x >= -lim) & (x <= lim)
    xc = min(max(x, -lim), lim)
    return F32(np.rint(xc * qstep)) * (F32(1.0) / qstep), inside


@njit(cache=True, inline="always")
def quant_code(x, qstep):
    """The integer code of quant.quantize(x) as a float (``x`` itself when not quantized)."""
    if qstep == 0.0:
        return x
    lim = F32(1.0) - F32(1.0) / qstep
    return F32(np.rint(min(max(x, -lim), lim) * qstep))


@njit(cache=True, inline="always")
def shift(peak):
    """Nearest power of two of ``peak`` (1 for 0), as quant.shift."""
    return F32(1.0) if peak == 0.0 else F32(2.0 ** np.rint(math.log2(peak)))


@njit(cache=True, nogil=True)
def clip_(w, bound):
    """Clamp ``w`` to ``[-bound, bound]`` in place."""
    b = F32(bound)
    flat = w.ravel()
    for k in range(flat.size):
        flat[k] = min(max(flat[k], -b), b)


@njit(cache=True, nogil=True)
def quantize_weight(w, qstep, scale):
    """``quantize(w, bits) / scale``, its non-zeros in total, per row and per column."""
    out = np.empty_like(w)
    inv_s, q = F32(1.0) / F32(scale), F32(qstep)
    row_nnz = np.zeros(w.shape[0], np.int64)
    col_nnz = np.zeros(w.shape[1], np.int64)
    for i in range(w.shape[0]):
        count = 0
        for j in range(w.shape[1]):
            v = quant_value(w[i, j], q)[0] * inv_s
            out[i, j] = v
            nonzero = v != 0.0
            count += nonzero
            col_nnz[j] += nonzero
        row_nnz[i] = count
    return out, row_nnz.sum(), row_nnz, col_nnz


@njit(cache=True, nogil=True)
def quant_error_matrix(x, estep):
    """quant.quant_error over a whole matrix (one normalisation); and non-zeros per column."""
    out = np.empty_like(x)
    col_nnz = np.zeros(x.shape[1], np.int64)
    peak = 0.0
    for v in x.ravel():
        peak = max(peak, abs(v))
    sh = shift(peak)
    q = F32(estep)
    lim = F32(1.0) - F32(1.0) / q if estep != 0.0 else F32(0.0)
    for t in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[t, j]
            if estep != 0.0:
                v = F32(np.rint(min(max(v / sh, -lim), lim) * q) / q)
            out[t, j] = v
            col_nnz[j] += v != 0.0
    return out, col_nnz


@njit(cache=True, nogil=True)
def quant_grad(x, uniform, gstep, rstep, lr, scale):
    """quant.quant_grad of ``x / scale`` with the given uniform [0, 1) numbers; and non-zeros."""
    out = np.empty_like(x)
    s = F32(scale)
    flat_x, flat_u, flat_o = x.ravel(), uniform.ravel(), out.ravel()
    if gstep == 0.0:
        for k in range(flat_x.size):
            flat_o[k] = flat_x[k] / s
        return out, np.count_nonzero(out)
    peak = 0.0
    for v in flat_x:
        peak = max(peak, abs(v / s))
    sh = shift(peak)
    lr32, r, g = F32(lr), F32(rstep), F32(gstep)
    nnz = 0
    for k in range(flat_x.size):
        n = lr32 * (flat_x[k] / s) / sh
        mag = abs(n)
        whole = F32(np.floor(mag))
        frac = mag - whole
        u = flat_u[k]
        if r != 0.0:
            frac = F32(np.rint(frac * r) / r)
            u = F32(np.rint(u * r) / r)
        up = F32(1.0) if frac >= u else F32(0.0)
        flat_o[k] = F32(np.sign(n)) * (whole + up) / g
        nnz += flat_o[k] != 0.0
    return out, nnz
