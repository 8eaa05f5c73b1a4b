"""The NIR task's model: the float network against the numpy oracle of the specification
(tests/nir_reference.py), the fused kernels against the autograd specification bit for bit,
the smile network exported to NIR against the smile task, and the quantizers' grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qsnn_mem import quant
from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.nir.config import NirWorkload
from qsnn_mem.tasks.nir.model import NirNet, weight_scale
from qsnn_mem.tasks.nir.neuron import state_scale
from qsnn_mem.tasks.nir.precision import precision
from qsnn_mem.tasks.nir.smile_export import smile_network
from qsnn_mem.tasks.nir.train import pick_device
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.data import smile_input
from qsnn_mem.tasks.smile.model import SmileNet
from qsnn_mem.tasks.smile.optim import Adamax
from qsnn_mem.tasks.smile.precision import precision as smile_precision

from .nir_cases import KINDS, conv_network, dense_network, spikes
from .nir_reference import simulate

CPU = torch.device("cpu")
FLOAT = dict(weight_bits=None, state_bits=None, grad_bits=None, error_bits=None)


def workload(**fields) -> NirWorkload:
    return NirWorkload(graph="net.nir", **{"target_kind": "classes", **fields})


def net_of(network, backend="autograd", dtype=torch.float32, **fields) -> NirNet:
    cfg = workload(**fields)
    return NirNet(network, cfg, precision(cfg), CPU, backend, dtype)


def assert_outputs_match(network, outs, reference, atol=1e-6) -> None:
    """Spikes equal; an LI readout's membrane to float32 rounding (the passes hold float32)."""
    for layer, out, ref in zip(network.layers, outs, reference, strict=True):
        if layer.neuron.kind == "LI":
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=atol, err_msg=layer.name)
        else:
            np.testing.assert_array_equal(out, ref, err_msg=layer.name)


@pytest.mark.parametrize("seed", range(12))
def test_float_dense_network_is_the_reference_step_by_step(seed):
    rng = np.random.default_rng(seed)
    kinds = [str(rng.choice(KINDS[:3])), str(rng.choice(KINDS[:3])), str(rng.choice(KINDS))]
    network = dense_network(rng, [12, 16, 10, 6], kinds, bias=bool(seed % 2))
    x = spikes(rng, 60, (12,))
    reference = simulate(network, x, 1e-3)
    outs = [p.out for p in net_of(network, dtype=torch.float64, **FLOAT).infer(x).layers]
    assert_outputs_match(network, outs, reference)
    assert any(out.any() for out in outs[:-1])  # the case spikes at all
    # The fused kernels in float32 give the same spikes on these cases.
    fused = [p.out for p in net_of(network, "fused", **FLOAT).infer(x).layers]
    assert_outputs_match(network, fused, reference)


@pytest.mark.parametrize("pool", ["sumpool", "avgpool"])
@pytest.mark.parametrize("seed", range(3))
def test_float_conv_network_is_the_reference_step_by_step(pool, seed):
    rng = np.random.default_rng(100 + seed)
    network = conv_network(rng, pool)
    x = spikes(rng, 40, (2, 8, 8))
    reference = simulate(network, x, 1e-3)
    outs = [p.out for p in net_of(network, dtype=torch.float64, **FLOAT).infer(x).layers]
    assert_outputs_match(network, outs, reference)
    assert outs[0].any() and outs[1].any()


def train_steps(net: NirNet, x, target, steps=3):
    opt = Adamax(net.weights, lr=0.2, stored=net.stored_forms())
    results = []
    for _ in range(steps):
        net.clip_()
        results.append(net.sample(x, target))
        opt.step()
    return results


@pytest.mark.parametrize("seed", range(8))
def test_fused_kernels_are_the_autograd_specification_bit_for_bit(seed):
    rng = np.random.default_rng(200 + seed)
    kinds = [str(rng.choice(KINDS[:3])), str(rng.choice(KINDS))]
    network = dense_network(rng, [20, 16, 8], kinds, bias=seed % 2 == 1)
    kind = "classes" if seed % 2 else "raster"
    fields = dict(target_kind=kind, weight_bits=int(rng.integers(2, 7)), state_bits=8)
    x = spikes(rng, 50, (20,))
    target = 3 if kind == "classes" else spikes(rng, 50, (8,), 0.1)
    runs = [train_steps(net_of(network, b, **fields), x, target) for b in ("autograd", "fused")]
    for auto, fused in zip(*runs, strict=True):
        assert auto.loss == fused.loss
        for a, f in zip(auto.layers, fused.layers, strict=True):
            for name in ("out", "mem", "syn", "weight", "error", "grad", "spike_error"):
                np.testing.assert_array_equal(getattr(a, name), getattr(f, name), err_msg=name)
            for var in a.error_state:
                np.testing.assert_array_equal(a.error_state[var], f.error_state[var])


def test_conv_network_trains_with_quantized_errors_and_gradients():
    rng = np.random.default_rng(7)
    network = conv_network(rng)
    net = net_of(network, weight_bits=4, grad_scale=1.0)  # 0.1 rounds most of 36 taps to 0
    (res,) = train_steps(net, spikes(rng, 30, (2, 8, 8)), 2, steps=1)
    for layer, p in zip(network.layers, res.layers, strict=True):
        assert p.grad.shape == layer.weight.shape and p.error.shape == (30, *layer.out_shape)
        g = quant.step(8)
        np.testing.assert_array_equal(p.grad * g, np.round(p.grad * g))  # on the 8-bit grid
        assert set(p.error_state) == ({"syn", "mem"} if layer.neuron.kind == "CubaLIF" else {"mem"})
    assert any(np.count_nonzero(p.grad) for p in res.layers)
    with pytest.raises(QsnnError, match=r"fused.*conv1"):
        pick_device(workload(backend="fused"), network)
    assert pick_device(workload(device="cpu"), network) == (CPU, "autograd")


def test_the_smile_network_exported_to_nir_runs_as_the_smile_task():
    smile = SmileWorkload(nb_inputs=60, nb_hidden=40, nb_outputs=30, nb_steps=80, seed=3)
    bits = smile_precision(smile)
    reference = SmileNet(smile, bits, CPU, "fused")
    reference.clip_()
    x = smile_input(smile)
    expected = [rec.spikes_out.numpy() for rec in reference.infer(torch.from_numpy(x))]
    network = smile_network(smile)
    for backend in ("fused", "autograd"):
        net = net_of(network, backend, dt=smile.time_step, **bits.configured)
        assert net.scales == reference.scales and [q.scale for q in net.quants] == [1.0, 1.0]
        outs = [p.out for p in net.infer(x).layers]
        for out, want in zip(outs, expected, strict=True):
            np.testing.assert_array_equal(out, want)
    assert expected[-1].any()


def test_weights_and_states_live_on_their_grids():
    rng = np.random.default_rng(5)
    network = dense_network(rng, [10, 8], ["LIF"], spike_first=False, reset="to_value")
    w = network.layers[0].weight
    scale = weight_scale(w, 3)
    # The smile task's initialisation rule: the weights' uniform-equivalent range to 1 - 2^-3.
    assert scale == 2.0 ** np.round(np.log2(0.875 / (np.sqrt(3) * np.sqrt(np.mean(w**2)))))
    assert weight_scale(w, None) == 1.0
    net = net_of(network, weight_bits=3, state_bits=6)
    w_hat = net.forward_weights()[0].numpy()
    np.testing.assert_array_equal(w_hat * scale * 4, np.round(w_hat * scale * 4))
    float_net = net_of(network, **FLOAT)
    np.testing.assert_array_equal(float_net.forward_weights()[0].numpy(), w.astype(np.float32))
    # A threshold of 1 does not fit the +-(1 - 2^-7) grid: the layer's states take scale 2.
    neuron = network.layers[0].neuron
    high = neuron.__class__(**{**neuron.__dict__, "v_threshold": np.ones(8)})
    assert state_scale(high, 8, None) == 2.0 and state_scale(high, None, None) == 1.0
    assert state_scale(high, 8, 4.0) == 4.0
    mem = net_of(network, state_bits=6, state_scale=4.0).infer(spikes(rng, 20, (10,))).layers
    grid = quant.step(6) / 4.0
    np.testing.assert_array_equal(mem[0].mem * grid, np.round(mem[0].mem * grid))
