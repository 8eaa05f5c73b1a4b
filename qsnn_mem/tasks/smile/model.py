"""The ISCAS 2020 smile network: 700-400-250 LIF layers, BPTT, WAGE-quantized integers.

One epoch is one forward pass of the whole input raster, the van Rossum loss against the target,
the full BPTT backward pass and the quantized weight gradients (the optimizer step is the training
loop's). Two backends compute the same numbers: ``fused`` (compiled CPU kernels, see :mod:`.fused`
and :mod:`.kernels`) and ``autograd`` (the step-by-step specification in :mod:`.reference`,
which runs on any device).
"""

from __future__ import annotations

import math

import torch

from ... import quant
from ...quant import Bits
from ..base import Precision
from ..shadow_weights import ShadowWeights
from . import fused
from .config import SmileWorkload
from .neuron import LIFParams, lif_layer
from .records import EpochResult, LayerRecord
from .reference import GradQuant, forward_loss


def init_weight(
    fan_in: int,
    fan_out: int,
    init_fan_in: int,
    bits: Bits,
    state_bits: Bits,
    grad_bits: Bits,
    generator: torch.Generator,
) -> tuple[torch.Tensor, float]:
    """Reference initialisation; returns the float shadow weight and the forward scale.

    ``limit = sqrt(3 / init_fan_in)``, ``W_m = 1 - 2**-bits``; ``W ~ U(+-max(W_m, limit))``, then
    clipped on the gradient grid and rounded on the state grid (the reference's quirk);
    ``scale = 2**round(log2(W_m / limit))``, at least 1.
    """
    limit = math.sqrt(3.0 / init_fan_in)
    w_max = 1.0 if bits is None else 1.0 - 2.0**-bits
    scale = max(1.0, 2.0 ** round(math.log2(w_max / limit)))
    bound = max(w_max, limit)
    w = (torch.rand((fan_in, fan_out), generator=generator) * 2.0 - 1.0) * bound
    return quant.quant(quant.clip(w, grad_bits), state_bits), scale


def lif_params(cfg: SmileWorkload, precision: Precision) -> LIFParams:
    """The neuron parameters of a smile workload at its precision."""
    bits = precision.configured
    return LIFParams(
        cfg.alpha, cfg.beta, cfg.threshold, cfg.reset, cfg.surrogate_scale, cfg.syn_delay,
        bits["state_bits"], bits["error_bits"],
    )  # fmt: skip


class SmileNet(ShadowWeights):
    """Float shadow weights, their forward quantization, and one training epoch.

    The bitwidths come from ``precision`` (the task's record, :mod:`.precision`), read once here:
    the weight bits in :attr:`weight_bits`, the state and error bits in :attr:`lif`, the
    gradient and RNG bits in :attr:`grad_quant`.

    :attr:`scales` divide the forward weights and :attr:`grad_divisors` the weight gradients.
    With ``float_mode: reference`` (the reference at 33 bits or more) null weight bits give
    the shadow weights themselves, clipped to +-1 (scale 1), and gradients are never divided;
    with ``scaled`` both use the initialisation's scale and null weight bits are not clipped.
    """

    WORKER_PREFIX = "smile-grad"

    def __init__(
        self, cfg: SmileWorkload, precision: Precision, device: torch.device, backend: str
    ) -> None:
        self.cfg = cfg
        self.precision = precision
        self.device = device
        self.backend = backend
        bits = precision.configured
        self.weight_bits: Bits = bits["weight_bits"]
        init_gen = torch.Generator().manual_seed(cfg.seed)
        sizes = [(cfg.nb_inputs, cfg.nb_hidden), (cfg.nb_hidden, cfg.nb_outputs)]
        self.weights: list[torch.Tensor] = []
        self.scales: list[float] = []
        for fan_in, fan_out in sizes:
            w, scale = init_weight(
                fan_in,
                fan_out,
                cfg.init_fan_in or fan_in,
                self.weight_bits,
                bits["state_bits"],
                bits["grad_bits"],
                init_gen,
            )
            self.weights.append(w.to(device).requires_grad_(True))
            self.scales.append(1.0 if self.weight_bits is None and self.reference_float else scale)
        self.lif = lif_params(cfg, precision)
        # Stochastic rounding has its own stream, drawn on the CPU for every device.
        self.grad_quant = GradQuant(
            bits["error_bits"],
            bits["grad_bits"],
            bits["rng_bits"],
            cfg.grad_scale,
            torch.Generator().manual_seed(cfg.seed + 1),
        )
        self.vr_norm = 1.0 / cfg.tau_syn

    @property
    def reference_float(self) -> bool:
        """Null bits behave as the reference's 33 bits (``float_mode: reference``)."""
        return self.cfg.float_mode == "reference"

    @property
    def grad_divisors(self) -> list[float]:
        """What each layer's weight gradient ``x^T e`` is divided by before ``quant_grad``."""
        return [1.0 if self.reference_float else s for s in self.scales]

    def clip_(self) -> None:
        """Clip the shadow weights to the weight range in place (before every forward pass):
        ``+-(1 - 2**(1 - weight_bits))``; with null weight bits +-1 (the reference's clip at 33
        bits, in float32) or, with ``float_mode: scaled``, no clip."""
        if self.weight_bits is None and not self.reference_float:
            return
        self.clip_to(1.0 if self.weight_bits is None else quant.bound(self.weight_bits))

    def epoch(self, x: torch.Tensor, target: torch.Tensor) -> EpochResult:
        """Forward, loss and BPTT backward; leaves the quantized gradients in ``w.grad``."""
        if self.backend == "autograd":
            return self._epoch_autograd(x, target)
        return fused.epoch(self, x.numpy(), target.numpy())

    def _epoch_autograd(self, x: torch.Tensor, target: torch.Tensor) -> EpochResult:
        for w in self.weights:
            w.grad = None
        loss, rasters = forward_loss(
            x,
            target,
            self.weights,
            self.weight_bits,
            self.scales,
            self.grad_divisors,
            self.lif,
            self.grad_quant,
            self.cfg.vr_decay,
            self.vr_norm,
        )
        loss.backward()
        w_hat = self.forward_weights()
        inputs = [x, rasters[0].detach()]
        layers = [
            LayerRecord(
                i,
                r.detach(),
                wh,
                None,
                None,
                w.grad,
                int(r.sum()),
                int(torch.count_nonzero(wh)),
                None,
            )
            for i, r, wh, w in zip(inputs, rasters, w_hat, self.weights, strict=True)
        ]
        return EpochResult(float(loss.detach()), layers)

    def infer(self, x: torch.Tensor) -> list[LayerRecord]:
        """Forward pass only, with the current weights (no learning)."""
        if self.backend == "autograd":
            with torch.no_grad():
                rasters, spikes = [], x
                for wh in self.forward_weights():
                    spikes = lif_layer(spikes @ wh, self.lif)
                    rasters.append(spikes)
            inputs = [x, *rasters[:-1]]
            return [
                LayerRecord(
                    i, r, wh, None, None, None, int(r.sum()), int(torch.count_nonzero(wh)), None
                )
                for i, r, wh in zip(inputs, rasters, self.forward_weights(), strict=True)
            ]
        return fused.infer(self, x.numpy())
