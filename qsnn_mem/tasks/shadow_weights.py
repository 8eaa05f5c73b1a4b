"""What the smile and NIR networks share: float shadow weights quantized on the weight grid
(WAGE) for every pass, and the fused backend's second thread.

A network class mixes in :class:`ShadowWeights` and sets :attr:`weights` (float shadow weights,
trained), :attr:`scales` (each layer's forward scale, a power of two) and :attr:`weight_bits`.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .. import quant
from ..quant import Bits
from ..quant_kernels import clip_, kernel_step


class ShadowWeights:
    """Float shadow weights, their forward quantization ``W_hat = quantize(W, weight_bits) /
    scale``, their clip, and the worker thread of the fused backend (named
    ``<WORKER_PREFIX>_0``)."""

    WORKER_PREFIX = "grad"
    weights: list[torch.Tensor]
    scales: list[float]
    weight_bits: Bits

    @functools.cached_property
    def worker(self) -> ThreadPoolExecutor:
        """The fused backend's second thread."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.WORKER_PREFIX)

    def clip_to(self, bound: float) -> None:
        """Clamp the shadow weights to ``[-bound, bound]`` in place (compiled for float32 on
        the CPU)."""
        with torch.no_grad():
            for w in self.weights:
                if w.device.type == "cpu" and w.dtype == torch.float32:
                    clip_(w.numpy(), bound)
                else:
                    w.clamp_(-bound, bound)

    def load_shadow(self, saved: list[tuple[np.ndarray, float]]) -> None:
        """Take the shadow weights and forward scales of an earlier run (its weights.npz)."""
        with torch.no_grad():
            for w, (shadow, _) in zip(self.weights, saved, strict=True):
                w.copy_(torch.from_numpy(shadow))
        self.scales = [scale for _, scale in saved]

    def stored_forms(self) -> list[float]:
        """Grid denominator of each stored weight matrix, as the kernels take it (and the
        optimizer counts changed codes on)."""
        return [kernel_step(self.weight_bits)] * len(self.weights)

    def forward_weights(self) -> list[torch.Tensor]:
        """``W_hat = quantize(W, weight_bits) / scale`` of every layer."""
        with torch.no_grad():
            return [
                quant.quantize(w, self.weight_bits) / s
                for w, s in zip(self.weights, self.scales, strict=True)
            ]
