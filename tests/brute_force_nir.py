"""An independent brute-force access counter for NIR networks (qsnn_mem.counting's rules).

It unrolls every synapse of a layer from the forward definition of its weight (a dense matrix,
or conv2d: output position (o, y', x') sums w[o, c, ky, kx] * u[g*C/G + c, y'*s - p + ky*d,
x'*s - p + kx*d]), then walks every time step, neuron and synapse with explicit loops, counting
what docs/accounting.md says is read and written. It takes the same activities as
:func:`qsnn_mem.counting.count_layers` (with the extra fields that function reads) and must
agree with it exactly.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

STATE = {"CubaLIF": ("syn", "mem"), "LIF": ("mem",), "IF": ("mem",), "LI": ("mem",)}


class Counter:
    def __init__(self):
        self.rows = defaultdict(lambda: [0, 0, 0])

    def add(self, key, accesses, elements, nonzero, traversal="any"):
        """``key``: (phase, stage, layer, tensor, op, pattern, bits)."""
        row = self.rows[(*key[:6], traversal, key[6])]
        row[0] += int(accesses)
        row[1] += int(elements)
        row[2] += int(nonzero)


def synapses(layer):
    """Every synapse of the unrolled matrix: (input position, output position, weight index)."""
    w = layer.weight
    out = []
    if layer.synapse == "dense":
        n_out, n_in = w.shape
        for q in range(n_out):
            for p in range(n_in):
                out.append((p, q, (q, p)))
        return out
    _, h, wd = layer.in_shape
    c_out, h_out, w_out = layer.out_shape
    _, c_group, kh, kw = w.shape
    per_out = c_out // layer.groups
    for o in range(c_out):
        g = o // per_out
        for yo in range(h_out):
            for xo in range(w_out):
                q = (o * h_out + yo) * w_out + xo
                for cl in range(c_group):
                    for ky in range(kh):
                        for kx in range(kw):
                            y = yo * layer.stride[0] - layer.padding[0] + ky * layer.dilation[0]
                            x = xo * layer.stride[1] - layer.padding[1] + kx * layer.dilation[1]
                            if 0 <= y < h and 0 <= x < wd:
                                c = g * c_group + cl
                                p = (c * h + y) * wd + x
                                out.append((p, q, (o, cl, ky, kx)))
    return out


def flat(x):
    x = np.asarray(x)
    return x.reshape(x.shape[0], -1)


def count(values):
    n = 0
    for v in np.asarray(values).ravel():
        if v != 0:
            n += 1
    return n


def bits_of(precision, tensor):
    return precision.bits(tensor)


class Layer:
    """What the brute force knows of one layer and its activity."""

    def __init__(self, layer, act, k, network):
        self.layer, self.act, self.name = layer, act, layer.name
        self.kind = layer.neuron.kind
        self.syn = synapses(layer)
        self.n_in, self.n_out = layer.n_in, layer.n_out
        self.rows = defaultdict(list)
        self.cols = defaultdict(list)
        for p, q, w in self.syn:
            self.rows[p].append((q, w))
            self.cols[q].append((p, w))
        if k == 0:
            self.owner = (network.layers[0].name, "input")
        else:
            below = network.layers[k - 1]
            self.owner = (below.name, "mem" if below.neuron.kind == "LI" else "spk")
        state = dict(getattr(act, "state", None) or {})
        if self.kind == "LI" and "mem" not in state:
            state["mem"] = act.out
        self.state = {var: flat(state[var]) for var in STATE[self.kind]}
        self.bias = None
        if layer.bias is not None:
            stored = getattr(act, "bias", None)
            self.bias = np.asarray(layer.bias if stored is None else stored)


def forward(c, phase, mode, ly, precision):
    act, name = ly.act, ly.name
    raw, s_in, out = flat(act.raw_in), flat(act.spikes_in), flat(act.out)
    steps = out.shape[0]
    input_reads(c, phase, "forward", mode, ly, raw, precision)
    bw = bits_of(precision, "weight")
    for t in range(steps):
        for p in range(ly.n_in):
            if mode == "event" and s_in[t, p] == 0:
                continue
            nnz = sum(1 for _, w in ly.rows[p] if act.weight[w] != 0)
            c.add((phase, "forward", name, "weight", "read", "row", bw), 1, len(ly.rows[p]), nnz)
        if ly.bias is not None:
            key = (phase, "forward", f"{name}_bias", "weight", "read", "row", bw)
            c.add(key, 1, ly.bias.size, count(ly.bias))
        for var in STATE[ly.kind]:
            h = ly.state[var]
            before = count(h[t - 1]) if t > 0 else 0
            b = bits_of(precision, var)
            c.add((phase, "forward", name, var, "read", "row", b), 1, ly.n_out, before)
            c.add((phase, "forward", name, var, "write", "row", b), 1, ly.n_out, count(h[t]))
        if ly.kind == "LI":
            continue
        bs = bits_of(precision, "spk")
        if mode == "event":
            for j in range(ly.n_out):
                if out[t, j] != 0:
                    c.add((phase, "forward", name, "spk", "write", "elem", bs), 1, 1, 1)
        else:
            c.add((phase, "forward", name, "spk", "write", "row", bs), 1, ly.n_out, count(out[t]))


def input_reads(c, phase, stage, mode, ly, raw, precision):
    owner, tensor = ly.owner
    b = bits_of(precision, tensor)
    for t in range(raw.shape[0]):
        if mode == "event":
            for i in range(raw.shape[1]):
                if raw[t, i] != 0:
                    c.add((phase, stage, owner, tensor, "read", "elem", b), 1, 1, 1)
        else:
            c.add((phase, stage, owner, tensor, "read", "row", b), 1, raw.shape[1], count(raw[t]))


def backward(c, mode, ly, below, is_output, precision):
    act, name = ly.act, ly.name
    out, d_out, err = flat(act.out), flat(act.spike_error), flat(act.error)
    steps, n = out.shape
    ph = ("train", "backward")
    be, bg, bw = (bits_of(precision, t) for t in ("err", "grad", "weight"))
    variables = STATE[ly.kind]
    e_state = {var: flat(act.error_state[var]) for var in variables}
    for t in range(steps - 1, -1, -1):
        if is_output:
            tensor = "mem" if ly.kind == "LI" else "spk"
            key = (*ph, name, tensor, "read", "row", bits_of(precision, tensor))
            c.add(key, 1, n, count(out[t]))
            c.add((*ph, name, "err", "write", "row", be), 1, n, count(d_out[t]))
        c.add((*ph, name, "err", "read", "row", be), 1, n, count(d_out[t]))
        for var in variables:
            before = count(ly.state[var][t - 1]) if t > 0 else 0
            c.add((*ph, name, var, "read", "row", bits_of(precision, var)), 1, n, before)
        read = sum(count(e_state[v][t + 1]) if t + 1 < steps else 0 for v in variables)
        written = sum(count(e_state[v][t]) for v in variables)
        c.add((*ph, name, "err", "read", "row", be), 1, len(variables) * n, read)
        c.add((*ph, name, "err", "write", "row", be), 1, len(variables) * n, written)
    input_reads(c, "train", "backward", mode, ly, flat(act.raw_in), precision)
    gradient(c, mode, ly, flat(act.spikes_in), err, bg)
    if ly.bias is not None and getattr(act, "bias_grad", None) is not None:
        bias_gradient(c, mode, ly, err, bg)
    if below is None:
        return
    for t in range(steps):
        for q in range(n):
            if mode == "dense" or err[t, q] != 0:
                nnz = sum(1 for _, w in ly.cols[q] if act.weight[w] != 0)
                key = (*ph, name, "weight", "read", "col", bw)
                c.add(key, 1, len(ly.cols[q]), nnz, "col")
    for t in range(steps):
        active = False
        for q in range(n):
            if err[t, q] != 0:
                active = True
        if mode == "dense" or active:
            for p in range(ly.n_in):
                nnz = sum(1 for _, w in ly.rows[p] if act.weight[w] != 0)
                key = (*ph, name, "weight", "read", "row", bw)
                c.add(key, 1, len(ly.rows[p]), nnz, "row")
    d_below = flat(below.act.spike_error)
    for t in range(steps):
        key = (*ph, below.name, "err", "write", "row", be)
        c.add(key, 1, d_below.shape[1], count(d_below[t]))


def dtype_of(err):
    return err.dtype if np.issubdtype(err.dtype, np.floating) else np.dtype(np.float64)


def gradient(c, mode, ly, s_in, err, bits):
    """The gradient accumulator, element by element, last step first, spikes in position
    order; each spike read-modify-writes its row (event) or every row is read before and
    written after the step (dense)."""
    dt = dtype_of(err)
    g = np.zeros(ly.act.weight.shape, dt)
    key = ("train", "backward", ly.name, "grad")

    def row_nnz(p):
        return sum(1 for _, w in ly.rows[p] if g[w] != 0)

    for t in range(s_in.shape[0] - 1, -1, -1):
        if mode == "dense":
            for p in range(ly.n_in):
                c.add((*key, "read", "row", bits), 1, len(ly.rows[p]), row_nnz(p))
        for p in range(ly.n_in):
            if s_in[t, p] == 0:
                continue
            if mode == "event":
                c.add((*key, "read", "row", bits), 1, len(ly.rows[p]), row_nnz(p))
            for q, w in ly.rows[p]:
                g[w] = g[w] + dt.type(s_in[t, p]) * dt.type(err[t, q])
            if mode == "event":
                c.add((*key, "write", "row", bits), 1, len(ly.rows[p]), row_nnz(p))
        if mode == "dense":
            for p in range(ly.n_in):
                c.add((*key, "write", "row", bits), 1, len(ly.rows[p]), row_nnz(p))


def bias_gradient(c, mode, ly, err, bits):
    dt = dtype_of(err)
    channels = ly.bias.size
    per_channel = err.shape[1] // channels
    acc = np.zeros(channels, dt)
    key = ("train", "backward", f"{ly.name}_bias", "grad")
    for t in range(err.shape[0] - 1, -1, -1):
        if mode == "dense":
            c.add((*key, "read", "row", bits), 1, channels, count(acc))
        for q in range(err.shape[1]):
            o = q // per_channel
            if mode == "event" and err[t, q] != 0:
                c.add((*key, "read", "elem", bits), 1, 1, int(acc[o] != 0))
            acc[o] = acc[o] + dt.type(err[t, q])
            if mode == "event" and err[t, q] != 0:
                c.add((*key, "write", "elem", bits), 1, 1, int(acc[o] != 0))
        if mode == "dense":
            c.add((*key, "write", "row", bits), 1, channels, count(acc))


def update(c, mode, name, kind, weight, after, grad, precision):
    """Read the gradient and read-modify-write the stored weight: by element (event), or by
    rows of the stored array (dense: a dense layer's pre-synaptic neurons, a kernel's
    (in channel, ky, kx) rows over the output channels, a bias as one row)."""
    bw, bg = bits_of(precision, "weight"), bits_of(precision, "grad")
    ph = ("train", "update", name)
    if mode == "event":
        for idx in np.ndindex(weight.shape):
            if grad[idx] != 0:
                c.add((*ph, "grad", "read", "elem", bg), 1, 1, 1)
            if weight[idx] != after[idx]:
                c.add((*ph, "weight", "read", "elem", bw), 1, 1, int(weight[idx] != 0))
                c.add((*ph, "weight", "write", "elem", bw), 1, 1, int(after[idx] != 0))
        return
    if kind == "bias":
        rows = [list(np.ndindex(weight.shape))]
    elif kind == "dense":
        rows = [[(q, p) for q in range(weight.shape[0])] for p in range(weight.shape[1])]
    else:
        o, i, kh, kw = weight.shape
        rows = [[(oo, ii, y, x) for oo in range(o)] for ii in range(i) for y in range(kh)
                for x in range(kw)]  # fmt: skip
    for row in rows:
        c.add((*ph, "grad", "read", "row", bg), 1, len(row), sum(grad[i] != 0 for i in row))
        c.add((*ph, "weight", "read", "row", bw), 1, len(row), sum(weight[i] != 0 for i in row))
        c.add((*ph, "weight", "write", "row", bw), 1, len(row), sum(after[i] != 0 for i in row))


def brute_force(phase, mode, network, activities, precision, train):
    """The access rows of one sample: {(phase, stage, layer, tensor, op, pattern, traversal,
    bits): [accesses, elements, nonzero]}."""
    c = Counter()
    layers = [Layer(ly, act, k, network) for k, (ly, act) in
              enumerate(zip(network.layers, activities, strict=True))]  # fmt: skip
    for ly in layers:
        forward(c, phase, mode, ly, precision)
    if not train:
        return c.rows
    for k in range(len(layers) - 1, -1, -1):
        below = layers[k - 1] if k > 0 else None
        backward(c, mode, layers[k], below, k == len(layers) - 1, precision)
    for ly in layers:
        act = ly.act
        after = getattr(act, "weight_after", None)
        if after is not None:
            update(c, mode, ly.name, ly.layer.synapse, act.weight, after, act.grad, precision)
        bias_grad, bias_after = getattr(act, "bias_grad", None), getattr(act, "bias_after", None)
        if ly.bias is not None and bias_grad is not None and bias_after is not None:
            update(c, mode, f"{ly.name}_bias", "bias", ly.bias, bias_after, bias_grad, precision)
    return c.rows
