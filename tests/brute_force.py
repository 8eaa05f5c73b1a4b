"""An independent brute-force access counter for small smile networks.

It re-simulates one epoch step by step (torch vectors per time step, the specification's
quantizers), keeps every history, and counts accesses with explicit loops over steps, neurons and
synapses, following docs/accounting.md. The tracer must agree with it exactly.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from qsnn_mem import quant
from qsnn_mem.tasks.smile.losses import van_rossum
from qsnn_mem.tasks.smile.model import lif_params
from qsnn_mem.tasks.smile.neuron import LIFParams, LIFState, lif_step
from qsnn_mem.tasks.smile.precision import precision


def nz(x) -> int:
    return int(torch.count_nonzero(torch.as_tensor(x)))


def simulate_layer(spk_in, w_hat, p: LIFParams):
    """Forward one layer step by step, adding each spiking input's weight row explicitly."""
    steps, n_in = spk_in.shape
    n = w_hat.shape[1]
    syn, mem, spikes, h_rec = [torch.zeros(n)], [torch.zeros(n)], [], []
    state = LIFState(syn[0], mem[0])
    for t in range(steps):
        h = torch.zeros(n)
        for i in range(n_in):
            if spk_in[t, i] != 0:
                h = h + spk_in[t, i] * w_hat[i]
        spk, state = lif_step(h, state, p)
        spikes.append(spk)
        h_rec.append(h)
        syn.append(state.syn)
        mem.append(state.mem)
    return {"syn": syn, "mem": mem, "spk": torch.stack(spikes), "h": h_rec}


def inside(x, bits):
    if bits is None:
        return torch.ones_like(x, dtype=torch.bool)
    lim = quant.bound(bits)
    return (x >= -lim) & (x <= lim)


def backward_layer(sim, d_spk, p: LIFParams, history: dict | None = None):
    """BPTT adjoints, last step first; returns dh and the error-state non-zeros read/written.
    ``history`` (a dict) receives the adjoints (dL/dsyn, dL/dmem) written at each step."""
    steps, n = d_spk.shape
    if history is not None:
        history.update(syn=torch.zeros(steps, n), mem=torch.zeros(steps, n))
    g_syn, g_mem = torch.zeros(n), torch.zeros(n)
    d_h = torch.zeros(steps, n)
    read = written = 0
    q = p.state_bits is not None
    for t in range(steps - 1, -1, -1):
        read += nz(g_syn) + nz(g_mem)
        syn_t, mem_t, s_t = sim["syn"][t], sim["mem"][t], sim["spk"][t]
        m_mem = inside(p.beta * mem_t + syn_t - p.reset * s_t, p.state_bits)
        m_syn = inside(p.alpha * syn_t + sim["h"][t], p.state_bits)
        m_v = inside(mem_t - p.threshold, p.state_bits)
        premem = (quant.quant_error(g_mem, p.error_bits) if q else g_mem) * m_mem
        presyn = (quant.quant_error(g_syn, p.error_bits) if q else g_syn) * m_syn
        g_syn = p.alpha * presyn + premem
        d_h[t] = presyn
        v = quant.quantize(mem_t - p.threshold, p.state_bits)
        g_v = d_spk[t] / (p.surrogate_scale * v.abs() + 1.0) ** 2
        g_v = (quant.quant_error(g_v, p.error_bits) if q else g_v) * m_v
        g_mem = p.beta * premem + g_v
        written += nz(g_syn) + nz(g_mem)
        if history is not None:
            history["syn"][t], history["mem"][t] = g_syn, g_mem
    return d_h, read, written


class Counter:
    def __init__(self):
        self.rows = defaultdict(lambda: [0, 0, 0])

    def add(self, key, accesses, elements, nonzero, traversal="any"):
        """``key`` without the traversal: (phase, stage, layer, tensor, op, pattern, bits)."""
        row = self.rows[(*key[:6], traversal, key[6])]
        row[0] += accesses
        row[1] += elements
        row[2] += nonzero


def row_nonzero(w, i):
    return sum(int(w[i, j] != 0) for j in range(w.shape[1]))


def col_nonzero(w, j):
    return sum(int(w[i, j] != 0) for i in range(w.shape[0]))


def count_input_reads(c, phase, stage, mode, owner, spk_in):
    steps, n_in = spk_in.shape
    for t in range(steps):
        spiking = [i for i in range(n_in) if spk_in[t, i] != 0]
        if mode == "event":
            for _ in spiking:
                c.add((phase, stage, *owner, "read", "elem", 1), 1, 1, 1)
        else:
            c.add((phase, stage, *owner, "read", "row", 1), 1, n_in, len(spiking))


def count_forward(c, phase, mode, k, spk_in, w_hat, sim, bits):
    steps, n_in = spk_in.shape
    n_out = w_hat.shape[1]
    name = f"fc{k + 1}"
    owner = ("fc1", "input") if k == 0 else (f"fc{k}", "spk")
    count_input_reads(c, phase, "forward", mode, owner, spk_in)
    for t in range(steps):
        for i in range(n_in):
            if mode == "dense" or spk_in[t, i] != 0:
                key = (phase, "forward", name, "weight", "read", "row", bits.weight)
                c.add(key, 1, n_out, row_nonzero(w_hat, i))
        for tensor in ("syn", "mem"):
            key = (phase, "forward", name, tensor)
            c.add((*key, "read", "row", bits.state), 1, n_out, nz(sim[tensor][t]))
            c.add((*key, "write", "row", bits.state), 1, n_out, nz(sim[tensor][t + 1]))
        spikes = nz(sim["spk"][t])
        if mode == "event":
            c.add((phase, "forward", name, "spk", "write", "elem", 1), spikes, spikes, spikes)
        else:
            c.add((phase, "forward", name, "spk", "write", "row", 1), 1, n_out, spikes)


def count_backward(c, mode, k, spk_in, w_hat, sim, d_spk, err, err_state, below_d_spk, bits):
    """BPTT counts of layer k; returns the accumulated (unquantized) weight gradient."""
    steps, n_in = spk_in.shape
    n_out = w_hat.shape[1]
    name = f"fc{k + 1}"
    ph = ("train", "backward")
    if k == bits.last:
        c.add((*ph, name, "spk", "read", "row", 1), steps, steps * n_out, nz(sim["spk"]))
        c.add((*ph, name, "err", "write", "row", bits.error), steps, steps * n_out, nz(d_spk))
    c.add((*ph, name, "err", "read", "row", bits.error), steps, steps * n_out, nz(d_spk))
    for tensor in ("mem", "syn"):
        history = sum(nz(sim[tensor][t]) for t in range(steps))
        c.add((*ph, name, tensor, "read", "row", bits.state), steps, steps * n_out, history)
    c.add((*ph, name, "err", "read", "row", bits.error), steps, 2 * steps * n_out, err_state[0])
    c.add((*ph, name, "err", "write", "row", bits.error), steps, 2 * steps * n_out, err_state[1])

    owner = ("fc1", "input") if k == 0 else (f"fc{k}", "spk")
    count_input_reads(c, "train", "backward", mode, owner, spk_in)
    grad = torch.zeros(n_in, n_out)
    for t in range(steps - 1, -1, -1):
        for i in range(n_in):
            spiking = spk_in[t, i] != 0
            if not (spiking or mode == "dense"):
                continue
            before = row_nonzero(grad, i)
            if spiking:
                for j in range(n_out):
                    grad[i, j] += spk_in[t, i] * err[t, j]
            key = (*ph, name, "grad")
            c.add((*key, "read", "row", bits.grad), 1, n_out, before)
            c.add((*key, "write", "row", bits.grad), 1, n_out, row_nonzero(grad, i))

    if below_d_spk is not None:
        count_propagation(c, mode, name, err, w_hat, bits)
        below = f"fc{k}"
        c.add((*ph, below, "err", "write", "row", bits.error), steps, steps * n_in, nz(below_d_spk))
    return grad


def count_propagation(c, mode, name, err, w_hat, bits):
    """The error sent down, both variants: a column scatter per non-zero error, or a row gather
    by every pre-synaptic neuron at each step with any non-zero error (every step, dense)."""
    steps, n_out = err.shape
    n_in = w_hat.shape[0]
    key = ("train", "backward", name, "weight", "read")
    for t in range(steps):
        for j in range(n_out):
            if mode == "dense" or err[t, j] != 0:
                c.add((*key, "col", bits.weight), 1, n_in, col_nonzero(w_hat, j), "col")
    for t in range(steps):
        active = False
        for j in range(n_out):
            active = active or bool(err[t, j] != 0)
        if mode == "dense" or active:
            for i in range(n_in):
                c.add((*key, "row", bits.weight), 1, n_out, row_nonzero(w_hat, i), "row")


def count_update(c, mode, k, grad_q, code_before, code_after, bits):
    name = f"fc{k + 1}"
    n_in, n_out = grad_q.shape
    ph = ("train", "update")
    if mode == "event":
        for i in range(n_in):
            for j in range(n_out):
                if grad_q[i, j] != 0:
                    c.add((*ph, name, "grad", "read", "elem", bits.grad), 1, 1, 1)
                if code_before[i, j] != code_after[i, j]:
                    c.add(
                        (*ph, name, "weight", "read", "elem", bits.weight),
                        1,
                        1,
                        int(code_before[i, j] != 0),
                    )
                    c.add(
                        (*ph, name, "weight", "write", "elem", bits.weight),
                        1,
                        1,
                        int(code_after[i, j] != 0),
                    )
    else:
        for i in range(n_in):
            c.add((*ph, name, "grad", "read", "row", bits.grad), 1, n_out, row_nonzero(grad_q, i))
            c.add(
                (*ph, name, "weight", "read", "row", bits.weight),
                1,
                n_out,
                row_nonzero(code_before, i),
            )
            c.add(
                (*ph, name, "weight", "write", "row", bits.weight),
                1,
                n_out,
                row_nonzero(code_after, i),
            )


def brute_force_epoch(cfg, x, target, w_hats, scales, generator, mode, bits, codes_after):
    """Counts of one training epoch (forward, backward, update) and the quantized gradients."""
    p = lif_params(cfg, precision(cfg))
    c = Counter()
    sims, inputs = [], [x]
    for k, w_hat in enumerate(w_hats):
        sim = simulate_layer(inputs[-1], w_hat, p)
        count_forward(c, "train", mode, k, inputs[-1], w_hat, sim, bits)
        sims.append(sim)
        inputs.append(sim["spk"])
    out = sims[-1]["spk"].clone().requires_grad_(True)
    loss = van_rossum(out, target, cfg.vr_decay, 1.0 / cfg.tau_syn)
    (d_spk,) = torch.autograd.grad(loss, out)
    d_spks, errs, err_states = [None] * len(w_hats), [None] * len(w_hats), [None] * len(w_hats)
    for k in range(len(w_hats) - 1, -1, -1):
        d_spks[k] = d_spk
        d_h, read, written = backward_layer(sims[k], d_spk, p)
        errs[k] = quant.quant_error(d_h, cfg.error_bits)
        err_states[k] = (read, written)
        if k > 0:
            d_spk = errs[k] @ w_hats[k].T
    grads_q = [None] * len(w_hats)
    for k in range(len(w_hats) - 1, -1, -1):
        below = d_spks[k - 1] if k > 0 else None
        grad = count_backward(
            c,
            mode,
            k,
            inputs[k],
            w_hats[k],
            sims[k],
            d_spks[k],
            errs[k],
            err_states[k],
            below,
            bits,
        )
        grads_q[k] = quant.quant_grad(
            grad / scales[k], cfg.grad_bits, cfg.rng_bits, generator, lr=cfg.grad_scale
        )
    for k in range(len(w_hats)):
        code_before = quant.quantize(w_hats[k] * scales[k], cfg.weight_bits)
        count_update(c, mode, k, grads_q[k], code_before, codes_after[k], bits)
    return c, grads_q


def brute_force_inference(cfg, x, w_hats, mode, bits):
    p = lif_params(cfg, precision(cfg))
    c = Counter()
    spikes = x
    for k, w_hat in enumerate(w_hats):
        sim = simulate_layer(spikes, w_hat, p)
        count_forward(c, "infer", mode, k, spikes, w_hat, sim, bits)
        spikes = sim["spk"]
    return c
