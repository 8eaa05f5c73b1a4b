"""DECOLLE access counts against an independent brute-force count with explicit loops."""

import itertools
import json
from functools import partial
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from qsnn_mem import quant, tasks
from qsnn_mem.contract import ACCESS_COLUMNS, AccessTable, load_trace
from qsnn_mem.tasks.decolle import counting as rules
from qsnn_mem.tasks.decolle.config import DecolleWorkload
from qsnn_mem.tasks.decolle.precision import precision
from qsnn_mem.tasks.decolle.tracer import DecolleTracer
from qsnn_mem.tasks.decolle.train import DecolleNet, run_window
from qsnn_mem.trace.output import write_trace


def synapses(c_in, h, w, c_out, k, pad):
    """Unrolled synapses (input index, output index, kernel index) built by explicit loops."""
    h_out, w_out = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    out = []
    for c, y, x, o, oy, ox in itertools.product(
        range(c_in), range(h), range(w), range(c_out), range(h_out), range(w_out)
    ):
        ky, kx = y + pad - oy, x + pad - ox
        if 0 <= ky < k and 0 <= kx < k:
            out.append(((c, y, x), (o, oy, ox), (o, c, ky, kx)))
    return out


def nz(x):
    return int((np.asarray(x) != 0).sum())


def brute_force(cfg, records, weights, mode):
    """Count every access of the recorded steps with loops over samples, neurons, synapses."""
    t = AccessTable()
    bits = SimpleNamespace(**precision(cfg).stored)
    for phase, step, k, f, prev, lrn, w_before, w_after, fb, w_r in records:
        conv, bias, ro = f"conv{k + 1}", f"conv{k + 1}_bias", f"ro{k + 1}"
        owner = ("conv1", "input") if k == 0 else (f"conv{k}", "spk")
        batch = f["s_in"].shape[0]
        c_in, h, w = f["s_in"].shape[1:]
        c_out = f["u"].shape[1]
        syn = synapses(c_in, h, w, c_out, cfg.kernel_size, cfg.padding)
        wt, bt = w_before
        add = partial(t.add, phase)
        for b in range(batch):
            spikes = nz(f["s_in"][b])
            if mode == "event":
                for _ in range(spikes):
                    add("forward", *owner, "read", "elem", 1, 1, 1, 1)
            else:
                add("forward", *owner, "read", "row", 1, 1, f["s_in"][b].size, spikes)
            for name, old, new, nb in (("trace_q", prev[1], f["q"], bits.trace_q),
                                       ("trace_p", prev[0], f["p"], bits.trace_p),
                                       ("refrac", prev[2], f["r"], bits.refrac)):  # fmt: skip
                add("forward", conv, name, "read", "row", nb, 1, old[b].size, nz(old[b]))
                add("forward", conv, name, "write", "row", nb, 1, new[b].size, nz(new[b]))
            for pos in itertools.product(range(c_in), range(h), range(w)):
                if mode == "event" and f["p"][b][pos] == 0:
                    continue
                row = [s for s in syn if s[0] == pos]
                add("forward", conv, "weight", "read", "row", bits.weight, 1, len(row),
                    sum(wt[s[2]] != 0 for s in row))  # fmt: skip
            add("forward", bias, "weight", "read", "row", bits.weight, 1, c_out, nz(bt))
            for op in ("write", "read"):
                add("forward", conv, "mem", op, "row", bits.mem, 1, f["u"][b].size, nz(f["u"][b]))
            out = f["out"][b]
            if mode == "event":
                for _ in range(nz(out)):
                    add("forward", conv, "spk", "write", "elem", 1, 1, 1, 1)
            else:
                add("forward", conv, "spk", "write", "row", 1, 1, out.size, nz(out))
            if step > cfg.burn_in:
                a = f["a_q"][b].reshape(-1)
                classes = w_r.shape[0]
                add("forward", ro, "input", "write", "row", bits.ro_input, 1, a.size, nz(a))
                if mode == "event":
                    for i in np.flatnonzero(a):
                        add("forward", ro, "input", "read", "elem", bits.ro_input, 1, 1, 1)
                        add("forward", ro, "readout", "read", "row", bits.readout, 1, classes,
                            nz(w_r[:, i]))  # fmt: skip
                else:
                    add("forward", ro, "input", "read", "row", bits.ro_input, 1, a.size, nz(a))
                    for i in range(a.size):
                        add("forward", ro, "readout", "read", "row", bits.readout, 1, classes,
                            nz(w_r[:, i]))  # fmt: skip
                for op in ("write", "read"):
                    add("forward", ro, "mem", op, "row", bits.ro_mem, 1, classes,
                        nz(f["r_out"][b]))  # fmt: skip
            if lrn is None:
                continue
            e = lrn["e"][b]
            for op in ("write", "read"):
                add("backward", ro, "err", op, "row", bits.ro_err, 1, e.size, nz(e))
            for c in range(e.size):
                if mode == "dense" or e[c] != 0:
                    add("backward", ro, "feedback", "read", "row", bits.feedback, 1, fb.shape[1],
                        nz(fb[c]))  # fmt: skip
            d = lrn["delta_a"][b]
            for op in ("write", "read"):
                add("backward", conv, "err", op, "row", bits.err, 1, d.size, nz(d))
            add("backward", conv, "mem", "read", "row", bits.mem, 1, f["u"][b].size, nz(f["u"][b]))
            eu = lrn["e_u"][b]
            add("backward", conv, "err", "write", "row", bits.err, 1, eu.size, nz(eu))
            if mode == "dense":
                add("backward", conv, "err", "read", "row", bits.err, 1, eu.size, nz(eu))
            for opos in itertools.product(*map(range, eu.shape)):
                if mode == "event" and eu[opos] == 0:
                    continue
                if mode == "event":
                    add("backward", conv, "err", "read", "elem", bits.err, 1, 1, 1)
                col = [s for s in syn if s[1] == opos]
                live = sum(f["p"][b][s[0]] != 0 for s in col)
                add("backward", conv, "trace_p", "read", "col", bits.trace_p, 1, len(col), live)
                for op in ("read", "write"):
                    add("backward", conv, "grad", op, "col", bits.grad, 1, len(col), live)
                    add("backward", bias, "grad", op, "elem", bits.grad, 1, 1, int(eu[opos] != 0))
        if lrn is None:
            continue
        for name, g, old, new in ((conv, lrn["grad_w"], w_before[0], w_after[0]),
                                  (bias, lrn["grad_b"], w_before[1], w_after[1])):  # fmt: skip
            if mode == "event":
                for _ in np.flatnonzero(g.reshape(-1)):
                    add("update", name, "grad", "read", "elem", bits.grad, 1, 1, 1)
                for o, n in zip(old.reshape(-1), new.reshape(-1), strict=True):
                    if o != n:
                        add(
                            "update", name, "weight", "read", "elem", bits.weight, 1, 1, int(o != 0)
                        )
                        add(
                            "update",
                            name,
                            "weight",
                            "write",
                            "elem",
                            bits.weight,
                            1,
                            1,
                            int(n != 0),
                        )
            else:
                rows = old.size // old.shape[0] if name == conv else 1
                add("update", name, "grad", "read", "row", bits.grad, rows, g.size, nz(g))
                add("update", name, "weight", "read", "row", bits.weight, rows, old.size, nz(old))
                add("update", name, "weight", "write", "row", bits.weight, rows, new.size, nz(new))
    return t.to_frame()


def tiny_cfg():
    return DecolleWorkload(
        data_set="generated", channels=[2, 2], pooling=[2, 1], kernel_size=3, padding=1,
        train_steps=6, burn_in=2, batch_size=2, weight_mult=2e-2, seed=3,
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["event", "dense"])
def test_counts_match_brute_force(mode, tmp_path):
    cfg = tiny_cfg()
    net = DecolleNet(cfg, precision(cfg), (2, 6, 6), 3, torch.device("cpu"))
    tracer = DecolleTracer(cfg, precision(cfg), mode)
    tracer.bind(net)
    records, prev = [], {}
    g = cfg.grad_bits

    def codes(x):
        return quant.to_int(quant.clip(x, g), g).numpy()

    def hook(phase, t, k, fwd, learn):
        tracer.on_step(phase, t, k, fwd, learn)
        la = net.layers[k]
        if t == 0:
            prev[k] = [np.zeros((2, *la.in_shape)), np.zeros((2, *la.in_shape)),
                       np.zeros((2, *la.conv_shape))]  # fmt: skip
        f = {key: getattr(fwd, key).numpy().copy() for key in ("s_in", "u", "out", "a_q", "r_out")}
        f.update(p=fwd.state.p.numpy().copy(), q=fwd.state.q.numpy().copy(),
                 r=fwd.state.r.numpy().copy())  # fmt: skip
        lrn, w, b = None, la.w, la.b
        if learn is not None:
            lrn = {key: getattr(learn, key).numpy().copy() for key in learn._fields[1:]}
            w, b = w + learn.grad_w, b + learn.grad_b
        after = (codes(la.w), codes(la.b))
        weights = (la.feedback.numpy(), la.w_r.numpy())
        records.append((phase, t, k, f, prev[k], lrn, (codes(w), codes(b)), after, *weights))
        prev[k] = [f["p"], f["q"], f["r"]]

    x = (torch.rand(6, 2, 2, 6, 6, generator=torch.Generator().manual_seed(0)) < 0.4).byte()
    y = torch.tensor([0, 2])
    run_window(net, x, y, train=True, lr=1.0, hook=hook)
    run_window(net, x, y, train=False, lr=0.0, hook=hook, phase="infer")
    got = tracer.accesses()
    want = brute_force(cfg, records, None, mode)
    pd.testing.assert_frame_equal(got, want)
    for stage in ("forward", "backward", "update"):
        assert got[got.stage == stage].nonzero.sum() > 0, stage
    assert tracer.normalisers()["train_samples"] == 2 and tracer.infer_samples == 2
    # Local learning sends no error down through the kernels: no traversal variants to offer.
    assert set(got.traversal) == {"any"}
    assert got.query("stage == 'backward' and tensor == 'weight'").empty
    write_trace(tmp_path, tracer)
    assert list(pd.read_csv(tmp_path / "accesses.csv").columns) == list(ACCESS_COLUMNS)
    assert json.loads((tmp_path / "trace.json").read_text())["format_version"] == 2
    ten = pd.read_csv(tmp_path / "tensors.csv")
    bits = dict(zip(ten.layer + "." + ten.tensor, ten.bits, strict=True))
    assert (bits["conv1.weight"], bits["conv1.mem"], bits["ro1.mem"], bits["ro1.input"]) == (
        10, 9, 6, 7,
    )  # fmt: skip
    load_trace(tmp_path)  # the estimator accepts it


def test_conv_geometry_by_hand():
    """1 input channel 3x3, 1 output channel, kernel 3, padding 1: a corner input feeds 4
    outputs, the centre 9; a corner output reads 4 inputs."""
    geo = rules.geometry((1, 3, 3), (1, 3, 3), 3, 1)
    assert geo.row_elems[0].tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    assert geo.col_elems.tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    w = torch.zeros(1, 1, 3, 3)
    w[0, 0, 0, 0] = 1  # top-left tap: output (oy, ox) reads input (oy-1, ox-1)
    nnz = rules.row_nonzero(w, geo, (3, 3))
    assert nnz[0].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]


def test_precision_stored_bits():
    p = precision(DecolleWorkload())
    assert p.tag == "w8u6p12q10r2s6a6sig6e6g10" == DecolleWorkload().precision_tag
    # The tag's fields, in tag order, then the gradient RNG's (which the model reads too).
    assert list(p.configured) == [*tasks.get("decolle").precision_fields, "rng_bits"]
    assert p.configured["rng_bits"] == DecolleWorkload().rng_bits
    assert p.stored == {
        "weight": 10, "trace_q": 11, "trace_p": 13, "refrac": 3, "mem": 9, "spk": 1,
        "input": 1, "err": 6, "grad": 10, "readout": 6, "feedback": 6, "ro_input": 7,
        "ro_mem": 6, "ro_err": 6,
    }  # fmt: skip
    assert precision(DecolleWorkload(mem_clamp=1)).bits("mem") == 6
    assert precision(DecolleWorkload(weight_bits=12)).bits("weight") == 12  # max(wb, gb)
    floats = precision(DecolleWorkload(grad_bits=None, mem_bits=None, q_bits=None))
    assert floats.tag.startswith("w8uf") and floats.tag.endswith("gf")
    assert floats.configured["grad_bits"] is None
    assert (floats.bits("weight"), floats.bits("mem"), floats.bits("trace_q")) == (32, 32, 32)
