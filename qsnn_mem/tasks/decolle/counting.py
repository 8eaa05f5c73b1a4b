"""What a digital accelerator reads and writes to run and train quantized DECOLLE.

The accounting model is documented in docs/decolle.md ("Accounting"). Each function adds the
counts of one layer and one time step (all samples of the batch) to an :class:`AccessTable`,
from the actual traces, spikes, errors and gradients of the step. Layer ``convK`` owns the conv
kernel, traces, refractory state, membrane, pooled spikes, its errors and the kernel gradient;
``convK_bias`` owns the bias; ``roK`` is the layer's fixed readout (weights ``readout``,
feedback ``feedback``, its input activations ``input``, its outputs ``mem``, its error ``err``).

Counting works on any device: counts are torch ops on the step's tensors where they live, and
whatever meets the :class:`Geometry` (kept on the CPU) goes through ``.cpu()`` first
(tests/test_device.py counts the same steps on two devices). The bits of every count are the
stored widths of the run's :class:`~qsnn_mem.tasks.base.Precision` (``precision.py``).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ...contract import AccessTable
from ..base import Precision
from .model import Forward, Learn


def _n(x: torch.Tensor) -> int:
    return int(torch.count_nonzero(x))


class Geometry(NamedTuple):
    """Unrolled connectivity of a conv layer, per input position and per output position."""

    row_elems: torch.Tensor  # [C_in, H, W] outgoing synapses of an input position
    col_elems: torch.Tensor  # [H', W'] incoming synapses of an output position (any channel)
    c_out: int
    kernel: int
    padding: int


def geometry(in_shape, conv_shape, kernel: int, padding: int) -> Geometry:
    c_in, h, w = in_shape
    c_out, h_out, w_out = conv_shape
    ones_k = torch.ones((1, c_in, kernel, kernel), dtype=torch.float64)
    row = (
        F.conv_transpose2d(
            torch.ones((1, 1, h_out, w_out), dtype=torch.float64), ones_k, padding=padding
        )[0]
        * c_out
    )
    col = F.conv2d(torch.ones((1, c_in, h, w), dtype=torch.float64), ones_k, padding=padding)
    return Geometry(row, col[0, 0], c_out, kernel, padding)


def row_nonzero(weight: torch.Tensor, geo: Geometry, out_hw: tuple[int, int]) -> torch.Tensor:
    """[C_in, H, W]: non-zero unrolled outgoing synapses of every input position."""
    per_tap = (weight != 0).sum(0).to(torch.float64).cpu()  # [C_in, K, K], over out channels
    ones = torch.ones((1, 1, *out_hw), dtype=torch.float64)
    return F.conv_transpose2d(ones, per_tap.unsqueeze(0), padding=geo.padding)[0]


def names(k: int) -> tuple[str, str, str]:
    return f"conv{k + 1}", f"conv{k + 1}_bias", f"ro{k + 1}"


def input_owner(k: int) -> tuple[str, str]:
    return ("conv1", "input") if k == 0 else (f"conv{k}", "spk")


def count_forward(
    table: AccessTable, phase: str, mode: str, k: int, fwd: Forward, prev_q: torch.Tensor,
    prev_p: torch.Tensor, prev_r: torch.Tensor, weight: torch.Tensor, bias_w: torch.Tensor,
    w_r: torch.Tensor | None, geo: Geometry, precision: Precision,
) -> None:  # fmt: skip
    """One step of layer ``k`` for every sample: traces, conv, neuron state, spikes, and the
    readout ``w_r`` (only after the burn-in: None before)."""
    bits = precision.stored
    add = partial(table.add, phase, "forward")
    conv, bias, _ro = names(k)
    batch = fwd.s_in.shape[0]
    n_in, n_c, n_o = fwd.s_in[0].numel(), fwd.u[0].numel(), fwd.out[0].numel()
    owner, tensor = input_owner(k)
    s = _n(fwd.s_in)
    if mode == "event":
        add(owner, tensor, "read", "elem", bits[tensor], s, s, s)
    else:
        add(owner, tensor, "read", "row", bits[tensor], batch, batch * n_in, s)
    st = fwd.state
    for name, b, old, new, n in (
        ("trace_q", bits["trace_q"], prev_q, st.q, n_in),
        ("trace_p", bits["trace_p"], prev_p, st.p, n_in),
        ("refrac", bits["refrac"], prev_r, st.r, n_c),
    ):  # fmt: skip
        add(conv, name, "read", "row", b, batch, batch * n, _n(old))
        add(conv, name, "write", "row", b, batch, batch * n, _n(new))
    row_nnz = row_nonzero(weight, geo, fwd.u.shape[-2:])
    if mode == "event":  # one kernel row per non-zero membrane trace (the conv input)
        live = (st.p != 0).sum(0).to(torch.float64).cpu()
        hits = _n(st.p)
        elems, nnz = int((live * geo.row_elems).sum()), int((live * row_nnz).sum())
        add(conv, "weight", "read", "row", bits["weight"], hits, elems, nnz)
    else:
        elems, nnz = int(geo.row_elems.sum()), int(row_nnz.sum())
        add(conv, "weight", "read", "row", bits["weight"], batch * n_in, batch * elems, batch * nnz)
    c_out = weight.shape[0]
    add(bias, "weight", "read", "row", bits["weight"], batch, batch * c_out, batch * _n(bias_w))
    u = _n(fwd.u)
    add(conv, "mem", "write", "row", bits["mem"], batch, batch * n_c, u)
    add(conv, "mem", "read", "row", bits["mem"], batch, batch * n_c, u)
    o = _n(fwd.out)
    if mode == "event":
        add(conv, "spk", "write", "elem", bits["spk"], o, o, o)
    else:
        add(conv, "spk", "write", "row", bits["spk"], batch, batch * n_o, o)
    if w_r is not None:
        count_readout(table, phase, mode, k, fwd, w_r, precision)


def count_readout(
    table: AccessTable,
    phase: str,
    mode: str,
    k: int,
    fwd: Forward,
    w_r: torch.Tensor,
    precision: Precision,
) -> None:
    """The readout: activations written by the neuron unit, read by the readout MAC (a row of
    Wr per non-zero activation, event; every row, dense), outputs written and read for the vote
    and the error."""
    bits = precision.stored
    add = partial(table.add, phase, "forward")
    _, _, ro = names(k)
    batch, classes = fwd.r_out.shape
    f = fwd.a_q[0].numel()
    a = _n(fwd.a_q)
    per_row = (w_r != 0).sum(0).to(torch.float64).cpu()  # non-zeros of each Wr^T row
    add(ro, "input", "write", "row", bits["ro_input"], batch, batch * f, a)
    if mode == "event":
        add(ro, "input", "read", "elem", bits["ro_input"], a, a, a)
        live = (fwd.a_q.flatten(1) != 0).sum(0).to(torch.float64).cpu()
        add(ro, "readout", "read", "row", bits["readout"], a, a * classes, int(live @ per_row))
    else:
        add(ro, "input", "read", "row", bits["ro_input"], batch, batch * f, a)
        nnz, rows = int(per_row.sum()), batch * f
        add(ro, "readout", "read", "row", bits["readout"], rows, rows * classes, batch * nnz)
    r = _n(fwd.r_out)
    for op in ("write", "read"):
        add(ro, "mem", op, "row", bits["ro_mem"], batch, batch * classes, r)


def count_backward(
    table: AccessTable, mode: str, k: int, fwd: Forward, learn: Learn, feedback: torch.Tensor,
    geo: Geometry, precision: Precision,
) -> None:  # fmt: skip
    """Local learning of one step: readout error, feedback, membrane error, kernel gradient."""
    bits = precision.stored
    add = partial(table.add, "train", "backward")
    conv, bias, ro = names(k)
    batch, classes = learn.e.shape
    f, n_c = learn.delta_a.shape[1], fwd.u[0].numel()
    e = _n(learn.e)
    add(ro, "err", "write", "row", bits["ro_err"], batch, batch * classes, e)
    add(ro, "err", "read", "row", bits["ro_err"], batch, batch * classes, e)
    fb_row_nnz = (feedback != 0).sum(1).to(torch.float64).cpu()  # per class
    if mode == "event":  # one feedback row per non-zero output error
        hits = (learn.e != 0).sum(0).to(torch.float64).cpu()
        add(ro, "feedback", "read", "row", bits["feedback"], e, e * f, int(hits @ fb_row_nnz))
    else:
        nnz = int(fb_row_nnz.sum())
        rows = batch * classes
        add(ro, "feedback", "read", "row", bits["feedback"], rows, rows * f, batch * nnz)
    d = _n(learn.delta_a)
    eu = _n(learn.e_u)
    add(conv, "err", "write", "row", bits["err"], batch, batch * f, d)
    add(conv, "err", "read", "row", bits["err"], batch, batch * f, d)
    add(conv, "mem", "read", "row", bits["mem"], batch, batch * n_c, _n(fwd.u))
    add(conv, "err", "write", "row", bits["err"], batch, batch * n_c, eu)
    # Kernel gradient: per non-zero e_U, its receptive field of P and the gradient column.
    c_in = fwd.state.p.shape[1]
    ones_k = torch.ones((1, c_in, geo.kernel, geo.kernel))
    live_p = F.conv2d((fwd.state.p != 0).float().cpu(), ones_k, padding=geo.padding)[:, 0]
    live_p = live_p.to(torch.float64)  # [B, H', W'] non-zero P in each receptive field
    if mode == "event":
        err = (learn.e_u != 0).sum(1).to(torch.float64).cpu()  # [B, H', W'] over channels
        n_cols = eu
        elems = int((err * geo.col_elems).sum())
        nnz = int((err * live_p).sum())
        add(conv, "err", "read", "elem", bits["err"], eu, eu, eu)
    else:
        c_out = learn.e_u.shape[1]
        n_cols = batch * n_c
        elems = int(geo.col_elems.sum()) * c_out * batch
        nnz = int(live_p.sum()) * c_out
        add(conv, "err", "read", "row", bits["err"], batch, batch * n_c, eu)
    add(conv, "trace_p", "read", "col", bits["trace_p"], n_cols, elems, nnz)
    bias_nnz = n_cols if mode == "event" else eu
    for op in ("read", "write"):
        add(conv, "grad", op, "col", bits["grad"], n_cols, elems, nnz)
        add(bias, "grad", op, "elem", bits["grad"], n_cols, n_cols, bias_nnz)


def count_update(
    table: AccessTable,
    mode: str,
    k: int,
    learn: Learn,
    before: tuple,
    after: tuple,
    precision: Precision,
) -> None:
    """Once per step for the batch: read the quantized gradient, read-modify-write the stored
    weight codes that change (event) or every row (dense). ``before``/``after``: (w, b) codes."""
    bits = precision.stored
    add = partial(table.add, "train", "update")
    conv, bias, _ = names(k)
    for name, g, old, new in (
        (conv, learn.grad_w, before[0], after[0]), (bias, learn.grad_b, before[1], after[1])
    ):  # fmt: skip
        size = old.numel()
        gn = _n(g)
        if mode == "event":
            changed = old != new
            n = _n(changed)
            add(name, "grad", "read", "elem", bits["grad"], gn, gn, gn)
            add(name, "weight", "read", "elem", bits["weight"], n, n, _n(old[changed]))
            add(name, "weight", "write", "elem", bits["weight"], n, n, _n(new[changed]))
        else:
            rows = size // old.shape[0] if name == conv else 1
            add(name, "grad", "read", "row", bits["grad"], rows, size, gn)
            add(name, "weight", "read", "row", bits["weight"], rows, size, _n(old))
            add(name, "weight", "write", "row", bits["weight"], rows, size, _n(new))
