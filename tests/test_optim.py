"""The fused Adamax gives torch.optim.Adamax's float32 results bit for bit."""

import torch

from qsnn_mem.tasks.smile.optim import Adamax


def test_fused_adamax_equals_torch():
    gen = torch.Generator().manual_seed(0)
    ours = [torch.randn(70, 40, generator=gen).requires_grad_(True) for _ in range(2)]
    theirs = [p.detach().clone().requires_grad_(True) for p in ours]
    opt_ours = Adamax(ours, lr=1.0)
    opt_theirs = torch.optim.Adamax(theirs, lr=1.0, betas=(0.9, 0.999))
    for _ in range(15):
        for a, b in zip(ours, theirs, strict=True):
            grad = torch.randn(a.shape, generator=gen) * (torch.rand(a.shape, generator=gen) < 0.3)
            a.grad, b.grad = grad.clone(), grad.clone()
        with torch.no_grad():
            opt_ours.step()
            opt_theirs.step()
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a.detach(), b.detach())
