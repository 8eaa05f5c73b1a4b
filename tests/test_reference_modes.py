"""qsnn-mem computes what the reference (qsnn_precise.py) computes: the loss in float32 in the
reference's order, the reference's float mode for null bits (``float_mode: reference``), and the
seeding convention docs/model.md gives for replaying a reference run."""

import numpy as np
import pytest
import torch

from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.losses import van_rossum, van_rossum_grad
from qsnn_mem.tasks.smile.model import SmileNet
from qsnn_mem.tasks.smile.precision import precision as precision_of

from .plain_float import lif_layer

SMALL = dict(nb_inputs=30, nb_hidden=20, nb_outputs=12, nb_steps=40)
FLOAT = dict(weight_bits=None, state_bits=None, grad_bits=None, error_bits=None)
NORM = 1 / 5e-3  # the reference's 1/tau_syn


def reference_loss(out, target, alpha, tau):
    """The reference's loss as it writes it: float32 tensors, a step-by-step filter,
    ``torch.sum`` (on a multi-core CPU: more than one torch thread)."""

    def filtered(x):
        u = torch.zeros(x.shape[1])
        rows = []
        for t in range(x.shape[0]):
            u = alpha * u + x[t, :]
            rows.append(u)
        return torch.stack(rows, dim=0)

    return torch.sqrt(1 / tau * torch.sum((filtered(out) - filtered(target)) ** 2))


def rasters(seed, steps=250, n=250):
    g = torch.Generator().manual_seed(seed)
    out = (torch.rand(steps, n, generator=g) < 0.05 + 0.01 * seed).float()
    target = (torch.rand(steps, n, generator=g) < 0.2).float()
    return out, target


@pytest.fixture
def threads():
    """Runs the body under a given torch thread count, and restores it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.parametrize("seed", range(4))
def test_loss_and_gradient_are_the_references_float32_numbers(seed, threads):
    out, target = rasters(seed)
    threads(2)
    ref_out = out.clone().requires_grad_(True)
    ref_loss = reference_loss(ref_out, target, 0.75, 5e-3)
    (ref_grad,) = torch.autograd.grad(ref_loss, ref_out)
    # Ours, with one thread: the result does not depend on the thread count.
    threads(1)
    ours_out = out.clone().requires_grad_(True)
    loss = van_rossum(ours_out, target, 0.75, NORM)
    (grad,) = torch.autograd.grad(loss, ours_out)
    kernel_loss, kernel_grad = van_rossum_grad(out.numpy(), target.numpy(), 0.75, NORM)
    assert loss.dtype == torch.float32
    assert float(loss.detach()) == kernel_loss == float(ref_loss.detach())
    assert torch.equal(grad, ref_grad)
    np.testing.assert_array_equal(kernel_grad, ref_grad.numpy())


def test_an_epochs_loss_is_the_reference_loss_of_its_output():
    cfg = SmileWorkload(**SMALL)
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.3).float()
    target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.1).float()
    for backend in ("autograd", "fused"):
        net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), backend)
        res = net.epoch(x, target)
        out = res.layers[-1].spikes_out
        assert res.loss == float(reference_loss(out, target, cfg.alpha, cfg.tau_syn))


def float_net(backend="fused", **extra):
    cfg = SmileWorkload(**SMALL, **FLOAT, **extra)
    return SmileNet(cfg, precision_of(cfg), torch.device("cpu"), backend)


def test_reference_float_mode_uses_the_shadow_weights_clipped_to_one():
    net = float_net()
    assert net.cfg.float_mode == "reference"  # the default
    assert net.scales == [1.0, 1.0] and net.grad_divisors == [1.0, 1.0]
    with torch.no_grad():
        net.weights[0][0, :3] = torch.tensor([1.7, -3.0, 0.4])
    net.clip_()
    assert net.weights[0][0, :3].tolist() == pytest.approx([1.0, -1.0, 0.4])
    assert float(net.weights[0].detach().abs().max()) <= 1.0
    for w, w_hat in zip(net.weights, net.forward_weights(), strict=True):
        assert torch.equal(w_hat, w.detach())  # W, not W / 16


def test_scaled_float_mode_divides_by_the_scale_and_never_clips():
    net = float_net(float_mode="scaled")
    assert net.scales == [16.0, 16.0] and net.grad_divisors == [16.0, 16.0]
    with torch.no_grad():
        net.weights[0][0, :2] = torch.tensor([1.7, -3.0])
    net.clip_()
    assert net.weights[0][0, :2].tolist() == pytest.approx([1.7, -3.0])
    for w, w_hat in zip(net.weights, net.forward_weights(), strict=True):
        assert torch.equal(w_hat, w.detach() / 16)


def plain_float_epoch(cfg, x, target, weights, scale, bound):
    """A textbook float LIF network on weights clipped to ``bound`` and divided by ``scale``."""

    def layer(h):
        return lif_layer(cfg, h)

    w = [wk.detach().clamp(-bound, bound).requires_grad_(True) for wk in weights]
    out = layer(layer(x @ (w[0] / scale)) @ (w[1] / scale))
    loss = reference_loss(out, target, cfg.alpha, cfg.tau_syn)
    loss.backward()
    return float(loss.detach()), out.detach(), [wk.grad for wk in w]


@pytest.mark.parametrize(
    ("mode", "scale", "bound"), [("reference", 1.0, 1.0), ("scaled", 16.0, float("inf"))]
)
@pytest.mark.parametrize("backend", ["autograd", "fused"])
def test_each_float_mode_is_its_plain_float_network(mode, scale, bound, backend):
    net = float_net(backend, float_mode=mode)
    cfg = net.cfg
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.3).float()
    target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.1).float()
    with torch.no_grad():  # some weights outside +-1, where the modes differ
        net.weights[0].mul_(1.5)
    loss, out, grads = plain_float_epoch(cfg, x, target, net.weights, scale, bound)
    net.clip_()
    res = net.epoch(x, target)
    assert res.loss == pytest.approx(loss, rel=1e-6)
    assert torch.equal(res.layers[-1].spikes_out, out)
    for ours, ref in zip(res.layers, grads, strict=True):
        torch.testing.assert_close(ours.grad, ref, rtol=1e-4, atol=1e-6)


def test_null_gradient_bits_are_never_divided_by_the_scale_in_reference_mode():
    """The reference's weight gradient at 33 gradient bits is x^T e, whatever the scale."""
    grads = {}
    for mode in ("reference", "scaled"):
        cfg = SmileWorkload(**SMALL, grad_bits=None, float_mode=mode)
        net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "fused")
        g = torch.Generator().manual_seed(4)
        x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.3).float()
        target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.1).float()
        grads[mode] = [rec.grad for rec in net.epoch(x, target).layers]
    assert any(bool(gr.any()) for gr in grads["scaled"])
    for ref, scaled in zip(grads["reference"], grads["scaled"], strict=True):
        assert torch.equal(ref, scaled * 16)


def test_quantized_runs_are_the_same_in_both_float_modes():
    results = {}
    for mode in ("reference", "scaled"):
        cfg = SmileWorkload(**SMALL, float_mode=mode)
        net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "fused")
        g = torch.Generator().manual_seed(6)
        x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.3).float()
        target = (torch.rand(cfg.nb_steps, cfg.nb_outputs, generator=g) < 0.1).float()
        runs = []
        for _ in range(3):
            net.clip_()
            res = net.epoch(x, target)
            runs.append((res.loss, [rec.grad.clone() for rec in res.layers]))
            with torch.no_grad():
                for w in net.weights:
                    w -= 20 * w.grad
        results[mode] = runs
    for (loss_a, grads_a), (loss_b, grads_b) in zip(*results.values(), strict=True):
        assert loss_a == loss_b
        assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))


def test_seeding_convention_of_a_reference_replay():
    """docs/model.md: ``torch.manual_seed(seed)`` before the reference's weight initialisation
    gives our initial weights; ``torch.manual_seed(seed + 1)`` after it, our rounding numbers."""
    cfg = SmileWorkload(**SMALL, seed=7)
    net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "fused")
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        for w in net.weights:
            # init_layer_weights: U(-W_m, W_m), W_m = 0.75 at 2 bits, then quant_generic: clipped
            # on the 8-bit gradient grid, rounded on the 8-bit state grid, straight through.
            ref = torch.empty(w.shape)
            torch.nn.init.uniform_(ref, a=-0.75, b=0.75)
            clipped = torch.clamp(ref, -1 + 1 / 128, 1 - 1 / 128)
            ref = clipped + (torch.round(clipped * 128) / 128 - clipped)
            assert torch.equal(w.detach(), ref)
        torch.manual_seed(cfg.seed + 1)
        # Each epoch's quant_grad draws, layer 2 first (the backward pass's order).
        for shape in [(20, 12), (30, 20)]:
            drawn = torch.FloatTensor(*shape).uniform_(0, 1)
            assert torch.equal(torch.rand(shape, generator=net.grad_quant.generator), drawn)
