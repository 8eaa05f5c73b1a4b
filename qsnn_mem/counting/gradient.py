"""The weight and bias gradients accumulated during BPTT, replayed to count the non-zeros of
every gradient row at the moment it is read and written (numpy only).

The accumulator holds the values at the error's precision (its dtype) and sums in BPTT order,
last step first. Event-driven, each input spike read-modify-writes its unrolled gradient row,
spikes of one step in flattened (C-order) position order; dense, every row is read before and
written after the step's accumulation. Dense rows are disjoint, but the rows of a conv kernel
share their values (every position of an input channel touches the same taps), so the order is
part of the rule: a row's read sees the spikes counted before it in the same step.

Each function returns int64 [event read, event written, dense read, dense written]: non-zeros
of the rows at those accesses.
"""

from __future__ import annotations

import numpy as np

from .synapse import ConvGeometry


def accumulator_dtype(error: np.ndarray) -> np.dtype:
    """The gradient is accumulated at the error's floating-point precision (float64 else)."""
    dtype = np.asarray(error).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def dense(spikes_in: np.ndarray, error: np.ndarray) -> np.ndarray:
    """``spikes_in`` (T, n_in), ``error`` (T, n_out): rows are the inputs' outgoing synapses."""
    dtype = accumulator_dtype(error)
    steps, n_in = spikes_in.shape
    g = np.zeros((n_in, error.shape[1]), dtype)
    row_nnz = np.zeros(n_in, np.int64)
    total = event_read = event_written = dense_read = dense_written = 0
    for t in range(steps - 1, -1, -1):
        dense_read += total
        live = np.flatnonzero(spikes_in[t])
        if live.size:
            s = spikes_in[t, live].astype(dtype)
            g[live] += s[:, None] * error[t].astype(dtype)[None, :]
            new = np.count_nonzero(g[live], axis=1)
            old = int(row_nnz[live].sum())
            event_read += old
            event_written += int(new.sum())
            total += int(new.sum()) - old
            row_nnz[live] = new
        dense_written += total
    return np.array([event_read, event_written, dense_read, dense_written], np.int64)


def conv(
    geo: ConvGeometry, kernel_shape: tuple[int, ...], spikes_in: np.ndarray, error: np.ndarray
) -> np.ndarray:
    """``spikes_in`` (T, c, h, w), ``error`` (T, o, h', w'); the kernel gradient has
    ``kernel_shape``. The row of input position (c, y, x) holds, for every output channel of
    c's group and every tap linking it inside the image, the kernel value (o, c mod in/groups,
    ky, kx), which accumulates s * error[o, y', x']."""
    dtype = accumulator_dtype(error)
    g = np.zeros(kernel_shape, dtype)
    cover = geo.cover()  # unrolled copies of each tap: a dense sweep reads them all
    (sy, sx), (py, px), (dy, dx) = geo.stride, geo.padding, geo.dilation
    (_, h_out, w_out), (kh, kw) = geo.out_shape[:3], geo.kernel
    ky, kx = np.arange(kh), np.arange(kw)
    total = event_read = event_written = dense_read = dense_written = 0
    for t in range(spikes_in.shape[0] - 1, -1, -1):
        dense_read += total
        cs, ys, xs = np.nonzero(spikes_in[t])  # C order: by channel, then position
        if cs.size == 0:
            dense_written += total
            continue
        err_t = error[t].astype(dtype)
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        for first, last in zip(starts, np.r_[starts[1:], cs.size], strict=True):
            c = int(cs[first])
            y, x = ys[first:last], xs[first:last]
            s = spikes_in[t, c, y, x].astype(dtype)
            group, c_local = divmod(c, geo.in_per_group)
            outs = slice(group * geo.out_per_group, (group + 1) * geo.out_per_group)
            qy = y[:, None] + py - ky[None, :] * dy  # (m, kh): y' * stride if linked
            qx = x[:, None] + px - kx[None, :] * dx
            vy = (qy % sy == 0) & (qy >= 0) & (qy // sy < h_out)
            vx = (qx % sx == 0) & (qx >= 0) & (qx // sx < w_out)
            oy, ox = np.where(vy, qy // sy, 0), np.where(vx, qx // sx, 0)
            valid = vy[:, :, None] & vx[:, None, :]  # (m, kh, kw)
            scale = np.where(valid, s[:, None, None], 0).astype(dtype)
            e = err_t[outs][:, oy[:, :, None], ox[:, None, :]]  # (o, m, kh, kw)
            # The row values after each spike, added one spike after the other.
            before = g[outs, c_local][:, None]
            path = np.cumsum(np.concatenate([before, e * scale[None]], axis=1), axis=1)
            live = path != 0
            event_read += int(np.count_nonzero(live[:, :-1] & valid[None]))
            event_written += int(np.count_nonzero(live[:, 1:] & valid[None]))
            g[outs, c_local] = path[:, -1]
        total = int(((g != 0) * cover).sum())
        dense_written += total
    return np.array([event_read, event_written, dense_read, dense_written], np.int64)


def bias(error: np.ndarray) -> np.ndarray:
    """``error`` (T, o, ...): each output channel's bias gradient sums its errors. Event-driven,
    one element read-modify-write per non-zero error (positions in C order); dense, the whole
    bias gradient row read and written at every step."""
    dtype = accumulator_dtype(error)
    steps, channels = error.shape[:2]
    acc = np.zeros(channels, dtype)
    event_read = event_written = dense_read = dense_written = 0
    for t in range(steps - 1, -1, -1):
        e = error[t].reshape(channels, -1).astype(dtype)
        path = np.cumsum(np.concatenate([acc[:, None], e], axis=1), axis=1)
        live = e != 0
        event_read += int(np.count_nonzero((path[:, :-1] != 0) & live))
        event_written += int(np.count_nonzero((path[:, 1:] != 0) & live))
        dense_read += int(np.count_nonzero(acc))
        acc = path[:, -1].copy()
        dense_written += int(np.count_nonzero(acc))
    return np.array([event_read, event_written, dense_read, dense_written], np.int64)
