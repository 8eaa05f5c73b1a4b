"""The two losses of the NIR task, with their gradient w.r.t. the output raster, computed the same
way for both backends (on the CPU, in float32): so the fused kernels and the autograd
specification start their backward passes from the same numbers.

* ``classes``: spike-count cross-entropy. The logits are the spikes each output neuron emitted
  over the sample (for an LI output, its mean membrane); ``correct`` when the label's logit is
  strictly the largest.
* ``raster``: the van Rossum distance of the smile task (:mod:`..smile.losses`) to a target
  raster, with the textbook normalisation ``sqrt(SSE * dt / tau_vr)`` and the filter decay
  ``exp(-dt / tau_vr)``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..smile.losses import van_rossum_grad


def loss_and_grad(
    out: np.ndarray, target, kind: str, spiking: bool, decay: float, norm: float
) -> tuple[float, np.ndarray, bool | None]:
    """``(loss, dL/d out, correct)`` of one sample's output raster ``out`` (T, *out_shape);
    ``target`` is a class label or a raster of ``out``'s shape."""
    steps = out.shape[0]
    flat = np.ascontiguousarray(out.reshape(steps, -1), dtype=np.float32)
    if kind == "raster":
        goal = np.ascontiguousarray(np.asarray(target, np.float32).reshape(steps, -1))
        loss, grad = van_rossum_grad(flat, goal, decay, norm)
        return float(loss), grad.reshape(out.shape), None
    leaf = torch.from_numpy(flat).requires_grad_(True)
    logits = leaf.sum(0) if spiking else leaf.mean(0)
    label = int(target)
    loss = F.cross_entropy(logits[None], torch.tensor([label]))
    loss.backward()
    values = logits.detach()
    others = torch.cat([values[:label], values[label + 1 :]])
    correct = bool(others.numel() == 0 or values[label] > others.max())
    return float(loss.detach()), leaf.grad.numpy().reshape(out.shape), correct
