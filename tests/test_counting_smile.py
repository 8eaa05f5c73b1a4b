"""The per-primitive counters (qsnn_mem.counting) count the smile network as its own rules do
(qsnn_mem/tasks/smile/counting.py): the same real epochs of the fused backend, traced by the
SmileTracer and counted by count_layers on the network as a NIR graph (two dense layers,
CubaLIF, spike first, subtractive reset), give the same access table, row for row."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from qsnn_mem.contract import AccessTable
from qsnn_mem.counting import count_layers
from qsnn_mem.tasks.nir.graph import Layer, Network, Neuron
from qsnn_mem.tasks.smile.model import SmileNet, lif_params
from qsnn_mem.tasks.smile.optim import Adamax
from qsnn_mem.tasks.smile.precision import precision
from qsnn_mem.tasks.smile.tracer import SmileTracer

from .brute_force import backward_layer, simulate_layer
from .counting_cases import Activity
from .test_trace_exact import CASES, nonzero_rows, small_case, tracer_rows


def smile_as_nir(cfg) -> Network:
    """The smile network as NIR reads it (docs/nir.md): CubaLIF with tau_syn = 4 dt,
    tau_mem = 8 dt, r = 8, w_in = 4, threshold 0.9, subtract 1, spike first."""
    sizes = [(cfg.nb_inputs, cfg.nb_hidden), (cfg.nb_hidden, cfg.nb_outputs)]
    layers = []
    for k, (n_in, n_out) in enumerate(sizes):
        one = np.ones(n_out)
        cell = Neuron(
            "CubaLIF", f"lif{k + 1}", 8 * one, 8 * one, 0 * one, cfg.threshold * one, 0 * one,
            tau_syn=4 * one, w_in=4 * one, reset="subtract", reset_amount=cfg.reset,
            spike_first=True,
        )  # fmt: skip
        w = np.zeros((n_out, n_in), np.float32)
        layers.append(Layer(f"fc{k + 1}", "dense", w, None, (n_in,), (n_out,), cell))
    return Network((cfg.nb_inputs,), tuple(layers))


def error_state(sim, d_spk, p):
    """The BPTT adjoints (dL/dsyn, dL/dmem) written at each step, as the fused kernel computes
    them (the brute force's backward_layer, keeping the history)."""
    history: dict = {}
    backward_layer(sim, d_spk, p, history)
    return {k: v.numpy() for k, v in history.items()}


def activities(records, p, weights_after=None) -> list[Activity]:
    """The NIR activity of each smile layer record: the state and error-state histories are
    re-simulated (and checked against the fused kernels' counts)."""
    acts = []
    for k, rec in enumerate(records):
        sim = simulate_layer(rec.spikes_in, rec.weight, p)
        assert torch.equal(sim["spk"], rec.spikes_out)
        state = {v: torch.stack(sim[v][1:]).numpy() for v in ("syn", "mem")}
        nnz = [np.count_nonzero(state[v][:-1]) for v in ("syn", "mem")]  # read: step t-1
        assert rec.counts.state_nnz.tolist() == [
            nnz[0], np.count_nonzero(state["syn"]), nnz[1], np.count_nonzero(state["mem"])
        ]  # fmt: skip
        fields = dict(
            raw_in=rec.spikes_in.numpy(), spikes_in=rec.spikes_in.numpy(),
            out=rec.spikes_out.numpy(), weight=rec.weight.numpy().T, state=state,
        )  # fmt: skip
        if weights_after is not None:
            adjoint = error_state(sim, rec.spike_error, p)
            written = sum(np.count_nonzero(a) for a in adjoint.values())
            read = sum(np.count_nonzero(a[1:]) for a in adjoint.values())
            assert rec.counts.error_state_nnz[:2].tolist() == [read, written]
            fields.update(
                error=rec.error.numpy(), spike_error=rec.spike_error.numpy(),
                error_state=adjoint, grad=rec.grad.numpy().T,
                weight_after=weights_after[k].numpy().T,
            )  # fmt: skip
        acts.append(Activity(**fields))
    return acts


@pytest.mark.parametrize("mode", ["event", "dense"])
@pytest.mark.parametrize(("seed", "extra"), CASES)
def test_counters_equal_smile_rules(mode, seed, extra):
    """Two epochs and an inference: every row of the access table agrees."""
    cfg, x, target = small_case(seed, **extra)
    prec = precision(cfg)
    p = lif_params(cfg, prec)
    net = SmileNet(cfg, prec, torch.device("cpu"), "fused")
    opt = Adamax(net.weights, lr=cfg.lr, stored=net.stored_forms())
    tracer = SmileTracer(cfg, prec, mode)
    network = smile_as_nir(cfg)
    ours = AccessTable()
    for _ in range(2):
        net.clip_()
        res = net.epoch(x, target)
        opt.step()
        tracer.on_epoch(SimpleNamespace(optimizer=opt), res)
        after = net.forward_weights()  # the stored weights the update wrote
        count_layers(ours, "train", mode, network, activities(res.layers, p, after), prec, True)
    layers = tracer.trace_inference(net, x)
    count_layers(ours, "infer", mode, network, activities(layers, p), prec, False)
    theirs = tracer_rows(tracer)
    mine = nonzero_rows({r[:8]: list(r[8:]) for r in ours.rows()})
    assert mine == theirs
    assert any(k[1] == "update" for k in mine) and any(k[6] == "row" for k in mine)
