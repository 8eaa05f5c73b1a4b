"""The tracer agrees exactly with an independent brute-force counter, and with a hand count."""

from types import SimpleNamespace

import pytest
import torch

from qsnn_mem import quant
from qsnn_mem.contract import STORED_FLOAT_BITS
from qsnn_mem.tasks.smile import counting as rules
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.model import SmileNet
from qsnn_mem.tasks.smile.optim import Adamax
from qsnn_mem.tasks.smile.precision import precision
from qsnn_mem.tasks.smile.tracer import SmileTracer

from .brute_force import brute_force_epoch, brute_force_inference


def nonzero_rows(rows):
    return {k: tuple(v) for k, v in rows.items() if any(v)}


def tracer_rows(tracer):
    return nonzero_rows({r[:8]: list(r[8:]) for r in tracer.table.rows()})


def bits_of(cfg, last):
    def b(v):
        return STORED_FLOAT_BITS if v is None else v

    return SimpleNamespace(
        weight=b(cfg.weight_bits), state=b(cfg.state_bits), error=b(cfg.error_bits),
        grad=b(cfg.grad_bits), last=last,
    )  # fmt: skip


def small_case(seed, **extra):
    cfg = SmileWorkload(
        nb_inputs=7, nb_hidden=5, nb_outputs=4, nb_steps=12, init_fan_in=None, seed=seed,
        threshold=0.3, **extra,
    )  # fmt: skip
    g = torch.Generator().manual_seed(100 + seed)
    x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.35).float()
    target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.3).float()
    return cfg, x, target


CASES = [
    (0, {}),
    (1, {"weight_bits": 3, "state_bits": 5, "error_bits": 4, "grad_bits": 4, "grad_scale": 2.0}),
    (2, {"weight_bits": 4, "error_bits": 6, "rng_bits": 8, "grad_scale": 1.0}),
    (3, {"state_bits": 6, "grad_scale": 0.5}),
    (4, {"weight_bits": 2, "state_bits": 4, "grad_scale": 3.0, "lr": 0.5}),
]


def trace_and_count(mode, seed, extra):
    """Three epochs and an inference, traced and brute-force counted; also the number of
    (epoch, layer) error matrices with an all-zero step (where row gathers are skipped)."""
    cfg, x, target = small_case(seed, **extra)
    net = SmileNet(cfg, precision(cfg), torch.device("cpu"), "fused")
    opt = Adamax(net.weights, lr=cfg.lr, stored=net.stored_forms())
    tracer = SmileTracer(cfg, precision(cfg), mode)
    brute = {}
    saw_spikes = saw_updates = False
    idle_steps = 0
    for _ in range(3):
        generator = torch.Generator()
        generator.set_state(net.grad_quant.generator.get_state())
        net.clip_()
        w_hats = net.forward_weights()
        res = net.epoch(x, target)
        opt.step()
        tracer.on_epoch(SimpleNamespace(optimizer=opt), res)
        codes_after = [quant.quantize(w.detach(), cfg.weight_bits) for w in net.weights]
        counter, grads = brute_force_epoch(
            cfg, x, target, w_hats, net.scales, generator, mode, bits_of(cfg, 1), codes_after
        )
        for ours, theirs in zip(res.layers, grads, strict=True):
            assert torch.equal(ours.grad, theirs)
        for key, value in counter.rows.items():
            brute[key] = [a + b for a, b in zip(brute.get(key, [0, 0, 0]), value, strict=True)]
        saw_spikes |= any(rec.spike_count > 0 for rec in res.layers)
        saw_updates |= any(int(c[0]) > 0 for c in opt.last_counts)
        idle_steps += int((~res.layers[-1].error.ne(0).any(1)).sum())
    layers = tracer.trace_inference(net, x)
    inference = brute_force_inference(cfg, x, [rec.weight for rec in layers], mode, bits_of(cfg, 1))
    for key, value in inference.rows.items():
        brute[key] = value
    assert saw_spikes and saw_updates  # the case exercises what it counts
    return tracer_rows(tracer), nonzero_rows(brute), idle_steps


@pytest.mark.parametrize("mode", ["event", "dense"])
@pytest.mark.parametrize(("seed", "extra"), CASES)
def test_tracer_equals_brute_force(mode, seed, extra):
    ours, theirs, _ = trace_and_count(mode, seed, extra)
    assert ours == theirs
    # Error propagation is traced both ways, for the one layer that sends errors down.
    weight_reads = [k for k in theirs if k[1:5] == ("backward", "fc2", "weight", "read")]
    assert sorted((k[5], k[6]) for k in weight_reads) == [("col", "col"), ("row", "row")]


def test_row_gathers_skip_steps_without_errors(monkeypatch):
    """A rule that gathers at every step instead of at steps with a non-zero error would be
    caught: the case has all-zero error steps, and the mutant's counts differ."""
    original = rules.count_propagation

    def every_step(table, mode, k, rec, bits):
        original(table, mode, k, rec, bits)
        steps, n_in = rec.spikes_in.shape
        idle = steps - int(rec.error.ne(0).any(1).sum())
        n = idle * n_in
        table.add(
            "train", "backward", rules.layer_name(k), "weight", "read", "row",
            bits.bits("weight"), n, n * rec.weight.shape[1], idle * rec.weight_nonzero,
            traversal="row",
        )  # fmt: skip

    seed, extra = CASES[0]
    ours, theirs, idle = trace_and_count("event", seed, extra)
    assert idle > 0 and ours == theirs
    monkeypatch.setattr(rules, "count_propagation", every_step)
    mutant, theirs, _ = trace_and_count("event", seed, extra)
    assert mutant != theirs
    key = ("train", "backward", "fc2", "weight", "read", "row", "row", 2)  # 2-bit weights
    assert mutant[key][0] - theirs[key][0] == idle * 5  # fc2 has 5 pre-synaptic neurons


def test_hand_worked_layer():
    """A 3-input, 2-output layer, 3 steps, event mode, counted by hand.

    Input spikes: t0: inputs 0 and 2; t1: none; t2: input 1.
    Forward weights (rows = inputs): [[w, 0], [w, w], [0, 0]] with w = 1/32 at 2 bits.
      input reads (elem): 3 events;  weight row reads: 3, elements 3*2 = 6,
      non-zeros: row 0 has 1, row 2 has 0, row 1 has 2 -> 3.
    State: 3 steps x 2 neurons = 6 elements per tensor and op, 3 row accesses.
    """
    cfg = SmileWorkload(nb_inputs=3, nb_hidden=2, nb_outputs=2, nb_steps=3, seed=0)
    net = SmileNet(cfg, precision(cfg), torch.device("cpu"), "fused")
    with torch.no_grad():
        net.weights[0].copy_(torch.tensor([[0.5, 0.0], [0.5, 0.5], [0.0, 0.0]]))
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    tracer = SmileTracer(cfg, precision(cfg), "event")
    tracer.trace_inference(net, x)
    rows = {(*r[:6], r[7]): r[8:] for r in tracer.table.rows()}  # all traversal "any"
    assert {r[6] for r in tracer.table.rows()} == {"any"}
    assert rows[("infer", "forward", "fc1", "input", "read", "elem", 1)] == (3, 3, 3)
    assert rows[("infer", "forward", "fc1", "weight", "read", "row", 2)] == (3, 6, 3)
    assert rows[("infer", "forward", "fc1", "syn", "read", "row", 8)] == (3, 6, 0 + 1 + 1)
    # syn after t0: both neurons got 1/32 (row 0) or 0: neuron 0 = 1/32, neuron 1 = 0 -> 1;
    # after t1: 0.75/32 rounds to 3/128 on the 8-bit grid -> 1; after t2: + row 1 -> 2.
    assert rows[("infer", "forward", "fc1", "syn", "write", "row", 8)] == (3, 6, 1 + 1 + 2)
    assert rows[("infer", "forward", "fc1", "spk", "write", "elem", 1)] == (0, 0, 0)
