"""The smile network: fused kernels against the autograd specification, and float mode against a
plain float implementation written independently here."""

import pytest
import torch

from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.model import SmileNet
from qsnn_mem.tasks.smile.precision import precision as precision_of

from .plain_float import lif_layer

SMALL = dict(nb_inputs=30, nb_hidden=20, nb_outputs=12, nb_steps=40)
FLOAT = dict(weight_bits=None, state_bits=None, grad_bits=None, error_bits=None)


def data(cfg, seed=3):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.3).float()
    target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.1).float()
    return x, target


def plain_float_loss(cfg, x, target, w1, w2, scales):
    """Textbook LIF network, float64 van Rossum loss, torch autograd does the rest."""

    def layer(h):
        return lif_layer(cfg, h)

    out = layer(layer(x @ (w1 / scales[0])) @ (w2 / scales[1]))
    f_out = torch.zeros(cfg.nb_outputs, dtype=torch.float64)
    f_tgt = torch.zeros(cfg.nb_outputs, dtype=torch.float64)
    sse = 0
    for t in range(cfg.nb_steps):
        f_out = cfg.alpha * f_out + out[t].double()
        f_tgt = cfg.alpha * f_tgt + target[t].double()
        sse = sse + ((f_out - f_tgt) ** 2).sum()
    return torch.sqrt(sse / cfg.tau_syn), out


@pytest.mark.parametrize("backend", ["autograd", "fused"])
def test_float_mode_equals_plain_float(backend):
    cfg = SmileWorkload(**SMALL, **FLOAT)
    x, target = data(cfg)
    net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), backend)
    w1, w2 = (w.detach().clone().requires_grad_(True) for w in net.weights)
    loss, out = plain_float_loss(cfg, x, target, w1, w2, net.scales)
    loss.backward()
    res = net.epoch(x, target)
    assert res.loss == pytest.approx(float(loss.detach()), rel=1e-6)
    assert torch.equal(res.layers[-1].spikes_out, out.detach())
    for ours, ref in zip(res.layers, (w1, w2), strict=True):
        torch.testing.assert_close(ours.grad, ref.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "precision",
    [
        {},
        {"syn_delay": False},
        {"error_bits": None},
        {"weight_bits": 4, "state_bits": 6},
        {"rng_bits": None, "grad_bits": 12},
    ],
)
def test_fused_kernels_equal_the_autograd_specification(precision):
    cfg = SmileWorkload(**SMALL, **precision)
    x, target = data(cfg)
    nets = [SmileNet(cfg, precision_of(cfg), torch.device("cpu"), b) for b in ("autograd", "fused")]
    for _ in range(4):
        results = []
        for net in nets:
            net.clip_()
            results.append(net.epoch(x, target))
        spec, fused = results
        assert fused.loss == spec.loss  # float32, as the reference
        for a, b in zip(spec.layers, fused.layers, strict=True):
            assert torch.equal(a.spikes_out, b.spikes_out)
            assert torch.equal(a.grad, b.grad)
            assert a.spike_count == b.spike_count and a.weight_nonzero == b.weight_nonzero
        # A large step so that the weights (and spikes) change between epochs.
        with torch.no_grad():
            for net in nets:
                for w in net.weights:
                    w -= 20 * w.grad


def test_initialisation_follows_the_reference():
    cfg = SmileWorkload(nb_epochs=1)
    net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "fused")
    assert net.scales == [16.0, 16.0]  # fan-in 784 for both layers, as the reference
    w_hat = net.forward_weights()[0]
    assert set(torch.unique(w_hat * 32).tolist()) == {-1.0, 0.0, 1.0}
    # U(-0.75, 0.75) rounded on the 1/128 grid: |w| <= 0.25 + 1/256 rounds to 0 -> 33.9 %.
    zero = float((w_hat == 0).float().mean())
    assert zero == pytest.approx((0.25 + 1 / 256) / 0.75, abs=0.005)
