"""Van Rossum distance against a hand computation and against its fused kernel (both in
float32, as the reference: they agree bit for bit)."""

import math

import numpy as np
import pytest
import torch

from qsnn_mem.tasks.smile.losses import exp_filter, van_rossum, van_rossum_grad


def test_filter_by_hand():
    x = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    # u = 1, 0.5, 1.25, 0.625 with decay 0.5
    assert exp_filter(x, 0.5)[:, 0].tolist() == [1.0, 0.5, 1.25, 0.625]


def test_distance_by_hand():
    out = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    tgt = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # neuron 0: f(out) = 1, 0.5, 0.25; f(tgt) = 0, 1, 0.5 -> diff 1, -0.5, -0.25
    # neuron 1: identical -> 0.  SSE = 1 + 0.25 + 0.0625 = 1.3125
    loss = van_rossum(out, tgt, 0.5, 200.0)
    assert float(loss) == pytest.approx(math.sqrt(200 * 1.3125), rel=1e-7)
    assert loss.dtype == torch.float32
    kernel_loss, _ = van_rossum_grad(out.numpy(), tgt.numpy(), 0.5, 200.0)
    assert kernel_loss == float(loss) == float(np.sqrt(np.float32(200 * 1.3125)))


def test_kernel_gradient_matches_autograd():
    g = torch.Generator().manual_seed(0)
    out = (torch.rand(40, 7, generator=g) < 0.2).float().requires_grad_(True)
    tgt = (torch.rand(40, 7, generator=g) < 0.2).float()
    loss = van_rossum(out, tgt, 0.75, 200.0)
    (grad,) = torch.autograd.grad(loss, out)
    kernel_loss, kernel_grad = van_rossum_grad(out.detach().numpy(), tgt.numpy(), 0.75, 200.0)
    assert kernel_loss == float(loss.detach())
    np.testing.assert_array_equal(kernel_grad, grad.numpy())


def test_identical_rasters_have_zero_distance_and_gradient():
    x = (torch.rand(10, 3) < 0.5).float()
    loss, grad = van_rossum_grad(x.numpy(), x.numpy(), 0.75, 200.0)
    assert loss == 0.0
    assert not grad.any()
