"""DECOLLE layer math: the hand-written learning rule against autograd, init, quirks, batches."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from qsnn_mem import quant
from qsnn_mem.tasks.decolle.config import DecolleWorkload
from qsnn_mem.tasks.decolle.model import DecolleLayer, LayerState, lif_conv_step, local_gradients
from qsnn_mem.tasks.decolle.precision import precision
from qsnn_mem.tasks.decolle.train import DecolleNet, dense_batch

FLOAT = dict.fromkeys(
    ["weight_bits", "q_bits", "p_bits", "refrac_bits", "readout_bits", "grad_bits",
     "error_bits", "mem_bits", "act_bits", "sig_bits", "rng_bits"]
)  # fmt: skip


def tiny(**kw) -> DecolleWorkload:
    base = dict(data_set="generated", channels=[3, 4], pooling=[2, 1], kernel_size=3,
                padding=1, train_steps=8, burn_in=2, batch_size=2, weight_mult=1e-2)  # fmt: skip
    return DecolleWorkload(**{**base, **kw})


def test_float_learning_rule_matches_autograd():
    cfg = tiny(**FLOAT)
    gen = torch.Generator().manual_seed(1)
    layer = DecolleLayer(cfg, precision(cfg), 0, (2, 6, 6), 3, torch.device("cpu"), gen)
    layer.w = torch.randn(layer.w.shape, generator=gen)  # units of weight_mult
    state = LayerState(
        torch.rand(2, 2, 6, 6, generator=gen) * 50, torch.rand(2, 2, 6, 6, generator=gen) * 5,
        torch.rand(2, 3, 6, 6, generator=gen),
    )  # fmt: skip
    s_in = (torch.rand(2, 2, 6, 6, generator=gen) < 0.3).float()
    drop = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    fwd = layer.forward(s_in, state, drop)
    target = F.one_hot(torch.tensor([0, 2]), 3).float()
    loss, _e, _delta_a, _e_u, g_w, g_b = local_gradients(
        fwd, target, layer.feedback, layer.w, layer.dyn, layer.bits, cfg.l1, cfg.l2
    )
    # Oracle: the same forward under autograd, with the feedback matrix in the readout's place
    # (feedback alignment) and the reference's readout backward (no (.+1)/2, no 1/scale_r).
    w = (layer.w * cfg.weight_mult).requires_grad_()
    b = (layer.b * cfg.weight_mult).requires_grad_()
    u = F.conv2d(fwd.state.p, w, b, padding=1) - (fwd.state.r - fwd.s)
    sig = torch.sigmoid(u)
    a = F.max_pool2d(sig, 2)
    d_r = (2 * (fwd.r_out - target) / target.numel() * drop).detach()
    surrogate = (a.flatten(1) @ layer.feedback.t() * d_r).sum()
    surrogate = surrogate + cfg.l1 * 20 * F.relu(a + 0.01).mean()
    surrogate = surrogate + cfg.l2 * 0.1 * F.relu(0.1 - u.mean())
    surrogate.backward()
    torch.testing.assert_close(u.detach(), fwd.u)
    torch.testing.assert_close(g_w, w.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(g_b, b.grad, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        regs = cfg.l1 * 20 * F.relu(a + 0.01).mean() + cfg.l2 * 0.1 * F.relu(0.1 - u.mean())
        assert loss == pytest.approx(float(((fwd.r_out - target) ** 2).mean() + regs))


def test_lif_step_by_hand():
    """One input element, tau_syn = tau_mem = 10 steps, unquantized: Q, P, U, S, R."""
    cfg = tiny(**FLOAT)
    layer = DecolleLayer(
        cfg, precision(cfg), 0, (2, 6, 6), 3, torch.device("cpu"), torch.Generator()
    )
    dyn = layer.dyn._replace(
        alpha=torch.tensor(0.9), beta=torch.tensor(0.9), tau_mem=torch.tensor(10.0),
        tau_syn=torch.tensor(10.0), gamma=0.5, p_scale=1e9, q_scale=1e9, padding=0,
    )  # fmt: skip
    w = torch.full((1, 1, 1, 1), 0.01)
    state = LayerState(torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1))
    s, u, state = lif_conv_step(torch.ones(1, 1, 1, 1), state, w, torch.zeros(1), dyn, layer.bits)
    assert (state.q.item(), state.p.item(), u.item(), s.item(), state.r.item()) == (10, 0, 0, 1, 1)
    s, u, state = lif_conv_step(torch.zeros(1, 1, 1, 1), state, w, torch.zeros(1), dyn, layer.bits)
    assert state.q.item() == pytest.approx(9) and state.p.item() == pytest.approx(100)
    assert u.item() == pytest.approx(1 - 0.5) and s.item() == 1 and state.r.item() == 1.5


def test_default_sizes_scales_and_init():
    cfg = DecolleWorkload(data_set="generated")
    net = DecolleNet(cfg, precision(cfg), (2, 32, 32), 11, torch.device("cpu"))
    assert [la.out_shape for la in net.layers] == [(64, 15, 15), (128, 13, 13), (128, 5, 5)]
    assert [la.readout_scale for la in net.layers] == [256, 256, 128]
    assert all(la.dyn.scale == 1 for la in net.layers)
    for la in net.layers:
        assert 95 < la.dyn.q_scale <= 100 and 1.1e5 < la.dyn.p_scale <= 1.225e5
        assert la.w.count_nonzero() > 0.5 * la.w.numel()  # fixed init: on the wb grid
        assert torch.equal(quant.quantize(la.w, 8), la.w)
        codes = quant.to_int(la.w_r, 6)
        assert codes.abs().max() <= 31
        assert torch.all(torch.sign(la.feedback) * torch.sign(la.w_r) >= 0)  # sign-concordant
    ref_cfg = cfg.model_copy(update={"init": "reference"})
    ref = DecolleNet(ref_cfg, precision(ref_cfg), (2, 32, 32), 11, "cpu")
    assert all(la.w.count_nonzero() == 0 and la.b.count_nonzero() == 0 for la in ref.layers)


def test_refractory_fixed_point_and_threshold_quirks():
    cfg = tiny()
    layer = DecolleLayer(
        cfg, precision(cfg), 0, (2, 6, 6), 3, torch.device("cpu"), torch.Generator()
    )
    r = torch.ones(1)
    for _ in range(20):  # reference quirk 11: R settles at 0.4643 with rfb = 2
        r = layer.dyn.gamma * quant.quant01(r / layer.dyn.r_scale, 2) * layer.dyn.r_scale
    assert r.item() == pytest.approx(0.4643, abs=1e-4)
    u = 8 * quant.quant11(torch.tensor([-0.1 / 8]), 6)  # quirk 10: -0.0 spikes
    assert bool(u >= 0)


def test_dropout_is_off_at_test_by_default():
    cfg = tiny()
    net = DecolleNet(cfg, precision(cfg), (2, 6, 6), 3, torch.device("cpu"))
    assert torch.all(net.dropout(4, train=False) == 0.5)
    assert set(net.dropout(64, train=True).unique().tolist()) <= {0.0, 1.0}
    cfg = tiny(test_dropout=True)
    quirky = DecolleNet(cfg, precision(cfg), (2, 6, 6), 3, torch.device("cpu"))
    assert 0.0 in quirky.dropout(64, train=False)


def test_dense_batch_window_downsampling_and_binarising():
    sample = np.array([[0, 0, 0, 1], [3, 5, 2, 0], [3, 4, 3, 0], [9, 7, 7, 1]], dtype=np.uint32)

    class NoJitter:
        def standard_normal(self, n):
            return np.zeros(n)

        def integers(self, lo, hi):
            return 2

    x = dense_batch([sample], 4, 4, (2, 2), NoJitter(), random_window=False)
    assert x.shape == (4, 1, 2, 2, 2)
    assert x.sum() == 2  # two OFF events at t=3 fall in pixel (0, 1): binarised to one
    assert x[0, 0, 1, 0, 0] == 1 and x[3, 0, 0, 0, 1] == 1
    y = dense_batch([sample], 4, 4, (2, 2), NoJitter(), random_window=True)  # start at 2
    assert y[1, 0, 0, 0, 1] == 1 and y.sum() == 1


def test_compiled_gradient_quantizer_equals_the_specification():
    from qsnn_mem import quant
    from qsnn_mem.tasks.decolle.model import quant_grad

    x = torch.randn((16, 2, 7, 7), generator=torch.Generator().manual_seed(3)) * 3
    for rng_bits in (16, None):
        fast = quant_grad(x, 10, rng_bits, torch.Generator().manual_seed(1), 0.5)
        spec = quant.quant_grad(x, 10, rng_bits, torch.Generator().manual_seed(1), lr=0.5)
        assert torch.equal(fast, spec)
