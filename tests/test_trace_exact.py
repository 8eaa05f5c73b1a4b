"""The tracer agrees exactly with an independent brute-force counter, and with a hand count."""

from types import SimpleNamespace

import pytest
import torch

from qsnn_mem import quant
from qsnn_mem.config import SmileWorkload
from qsnn_mem.models.smile import SmileNet
from qsnn_mem.optim import Adamax
from qsnn_mem.trace import SmileTracer
from qsnn_mem.trace.table import STORED_FLOAT_BITS

from .brute_force import brute_force_epoch, brute_force_inference


def nonzero_rows(rows):
    return {k: tuple(v) for k, v in rows.items() if any(v)}


def tracer_rows(tracer):
    return nonzero_rows({r[:7]: list(r[7:]) for r in tracer.table.rows()})


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


@pytest.mark.parametrize("mode", ["event", "dense"])
@pytest.mark.parametrize(("seed", "extra"), CASES)
def test_tracer_equals_brute_force(mode, seed, extra):
    cfg, x, target = small_case(seed, **extra)
    net = SmileNet(cfg, torch.device("cpu"), "fused")
    opt = Adamax(net.weights, lr=cfg.lr, stored=net.stored_forms())
    tracer = SmileTracer(cfg, mode)
    brute = {}
    saw_spikes = saw_updates = False
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
    layers = tracer.trace_inference(net, x)
    inference = brute_force_inference(cfg, x, [rec.weight for rec in layers], mode, bits_of(cfg, 1))
    for key, value in inference.rows.items():
        brute[key] = value
    assert saw_spikes and saw_updates  # the case exercises what it counts
    assert tracer_rows(tracer) == nonzero_rows(brute)


def test_hand_worked_layer():
    """A 3-input, 2-output layer, 3 steps, event mode, counted by hand.

    Input spikes: t0: inputs 0 and 2; t1: none; t2: input 1.
    Forward weights (rows = inputs): [[w, 0], [w, w], [0, 0]] with w = 1/32 at 2 bits.
      input reads (elem): 3 events;  weight row reads: 3, elements 3*2 = 6,
      non-zeros: row 0 has 1, row 2 has 0, row 1 has 2 -> 3.
    State: 3 steps x 2 neurons = 6 elements per tensor and op, 3 row accesses.
    """
    cfg = SmileWorkload(nb_inputs=3, nb_hidden=2, nb_outputs=2, nb_steps=3, seed=0)
    net = SmileNet(cfg, torch.device("cpu"), "fused")
    with torch.no_grad():
        net.weights[0].copy_(torch.tensor([[0.5, 0.0], [0.5, 0.5], [0.0, 0.0]]))
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    tracer = SmileTracer(cfg, "event")
    tracer.trace_inference(net, x)
    rows = {r[:7]: r[7:] for r in tracer.table.rows()}
    assert rows[("infer", "forward", "fc1", "input", "read", "elem", 1)] == (3, 3, 3)
    assert rows[("infer", "forward", "fc1", "weight", "read", "row", 2)] == (3, 6, 3)
    assert rows[("infer", "forward", "fc1", "syn", "read", "row", 8)] == (3, 6, 0 + 1 + 1)
    # syn after t0: both neurons got 1/32 (row 0) or 0: neuron 0 = 1/32, neuron 1 = 0 -> 1;
    # after t1: 0.75/32 rounds to 3/128 on the 8-bit grid -> 1; after t2: + row 1 -> 2.
    assert rows[("infer", "forward", "fc1", "syn", "write", "row", 8)] == (3, 6, 1 + 1 + 2)
    assert rows[("infer", "forward", "fc1", "spk", "write", "elem", 1)] == (0, 0, 0)
