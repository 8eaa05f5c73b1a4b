"""An imported NIR network with WAGE-quantized weights, states, errors and gradients, trained by
BPTT: float shadow weights, their forward quantization, and one sample's pass.

Each layer's forward weight is ``W_hat = quantize(W, weight_bits) / scale``, ``scale`` the power
of two of the smile task's initialisation rule (:func:`weight_scale`), so ``W_hat`` is the
graph's weight on that grid; the shadow weights start at the graph's weights times ``scale``,
are clipped to the grid's range before every pass, and a bias is quantized the same way and kept
fixed. With ``weight_bits: null`` the
forward weights are the graph's own (scale 1, no clip). Two backends compute the same numbers:
``fused`` (compiled CPU kernels for dense layers, :mod:`.fused`) and ``autograd`` (the torch
step of :mod:`.neuron` and the synapses of :mod:`.synapse`, any layer, any device).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ... import quant
from ...quant import Bits
from ...quant_kernels import kernel_step
from ..base import Precision
from ..shadow_weights import ShadowWeights
from . import fused
from .config import NirWorkload
from .graph import Layer, Network
from .kernels import quantize_transposed
from .losses import loss_and_grad
from .neuron import StateQuant, coefficients, run_population, state_scale, torch_coeffs
from .records import LayerPass, SamplePass
from .synapse import GradQuant, QuantSynapse, reshapes


def weight_scale(weight: np.ndarray, bits: Bits) -> float:
    """The power of two ``scale`` of a layer's weight grid, by the smile task's initialisation
    rule: ``2**round(log2(W_m / limit))`` with ``W_m = 1 - 2**-bits`` and ``limit`` the range of
    the uniform distribution of the weights' root mean square, ``sqrt(3) * rms(W)`` (1 when not
    quantized)."""
    rms = float(np.sqrt(np.mean(np.square(weight, dtype=np.float64)))) if weight.size else 0.0
    if bits is None or rms == 0.0 or not math.isfinite(rms):
        return 1.0
    return 2.0 ** round(math.log2((1.0 - 2.0**-bits) / (math.sqrt(3.0) * rms)))


def fusable(network: Network) -> bool:
    """Whether the fused kernels run this network: dense synapses, no pooling."""
    return all(
        layer.synapse == "dense" and all(r.kind == "flatten" for r in layer.reshapes)
        for layer in network.layers
    )


class NirNet(ShadowWeights):
    """The network's shadow weights, scales, neuron coefficients and quantizers; one training
    pass (:meth:`sample`) or inference (:meth:`infer`) of one sample."""

    WORKER_PREFIX = "nir-grad"

    def __init__(
        self,
        network: Network,
        cfg: NirWorkload,
        precision: Precision,
        device: torch.device,
        backend: str,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.network, self.cfg, self.precision = network, cfg, precision
        self.device, self.backend, self.dtype = device, backend, dtype
        bits = precision.configured
        self.weight_bits: Bits = bits["weight_bits"]
        self.weights: list[torch.Tensor] = []
        self.scales: list[float] = []
        self.biases: list[torch.Tensor | None] = []
        self.coeffs, self.quants, self.torch_coeffs = [], [], []
        for layer in network.layers:
            scale = weight_scale(layer.weight, self.weight_bits)
            w = torch.as_tensor(np.asarray(layer.weight, np.float64) * scale, dtype=dtype)
            self.weights.append(w.to(device).requires_grad_(True))
            self.scales.append(scale)
            b = None
            if layer.bias is not None:
                b = torch.as_tensor(np.asarray(layer.bias, np.float64) * scale, dtype=dtype)
                b = (quant.quantize(b, self.weight_bits) / scale).to(device)
            self.biases.append(b)
            c = coefficients(layer.neuron, layer.out_shape, cfg.dt)
            sb = bits["state_bits"]
            q = StateQuant(sb, bits["error_bits"], state_scale(layer.neuron, sb, cfg.state_scale))
            self.coeffs.append(c)
            self.quants.append(q)
            self.torch_coeffs.append(torch_coeffs(c, q, cfg.surrogate_scale, device, dtype))
        # Stochastic rounding has its own stream, drawn on the CPU for every device.
        self.grad_quant = GradQuant(
            bits["error_bits"], bits["grad_bits"], bits["rng_bits"], cfg.grad_scale,
            torch.Generator().manual_seed(cfg.seed + 1),
        )  # fmt: skip
        self.vr_norm = cfg.dt / cfg.tau_vr
        self.constants = [fused.population(self, k) for k in range(len(network.layers))]

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.network.layers

    def clip_(self) -> None:
        """Clip the shadow weights to the weight grid's range in place (before every pass)."""
        if self.weight_bits is not None:
            self.clip_to(quant.bound(self.weight_bits))

    def stored_weights(self) -> list[np.ndarray]:
        """:meth:`forward_weights` as numpy arrays (compiled on the CPU, for the tracer)."""
        if self.device.type != "cpu" or self.dtype != torch.float32:
            return [_np(w) for w in self.forward_weights()]
        step = kernel_step(self.weight_bits)
        out = []
        for w, s in zip(self.weights, self.scales, strict=True):
            flat = w.detach().numpy().reshape(w.shape[0], -1)
            out.append(quantize_transposed(flat, step, s)[1].reshape(w.shape))
        return out

    def loss(self, out: np.ndarray, target) -> tuple[float, np.ndarray, bool | None]:
        cfg = self.cfg
        spiking = self.coeffs[-1].spiking
        return loss_and_grad(out, target, cfg.target_kind, spiking, cfg.vr_decay, self.vr_norm)

    def sample(self, x: np.ndarray, target) -> SamplePass:
        """Forward, loss and BPTT backward of one sample ``x`` (T, *input_shape); leaves the
        quantized weight gradients in ``w.grad`` (the optimizer step is the caller's)."""
        if self.backend == "fused":
            return fused.sample(self, x, target)
        for w in self.weights:
            w.grad = None
        records: list[dict] = [{} for _ in self.layers]
        outs, passes = self._forward(x, records)
        loss, grad, correct = self.loss(passes[-1].out, target)
        for k, out in enumerate(outs[:-1]):
            out.register_hook(lambda g, r=records[k]: r.__setitem__("spike_error", g.detach()))
        outs[-1].backward(torch.from_numpy(grad).to(self.device, self.dtype))
        records[-1]["spike_error"] = torch.from_numpy(grad)
        layers = []
        for k, (p, r) in enumerate(zip(passes, records, strict=True)):
            spike_error = _np(r["spike_error"])
            done = p._replace(
                error=_np(r["error"]), grad=_np(r["grad"]), spike_error=spike_error,
                error_state=fused.error_state(self, k, _np(r["x"]), spike_error),
            )  # fmt: skip
            layers.append(done)
        return SamplePass(loss, correct, layers)

    def infer(self, x: np.ndarray) -> SamplePass:
        """Forward pass only, with the current weights (no learning)."""
        if self.backend == "fused":
            return fused.infer(self, x)
        with torch.no_grad():
            _, passes = self._forward(x, [{} for _ in self.layers])
        return SamplePass(None, None, passes)

    def _forward(self, x: np.ndarray, records: list[dict]):
        """Every layer over all steps under autograd: output tensors and their records."""
        raw = torch.as_tensor(np.asarray(x), dtype=self.dtype).to(self.device)
        w_hats = self.forward_weights()
        outs, passes = [], []
        for k, layer in enumerate(self.layers):
            u = reshapes(layer, raw)
            h = QuantSynapse.apply(
                u, self.weights[k], w_hats[k], self.biases[k], layer, self.scales[k],
                self.grad_quant, records[k],
            )  # fmt: skip
            records[k]["x"] = h.detach()
            out, syn, mem = run_population(h, self.torch_coeffs[k])
            has_syn = self.coeffs[k].has_syn
            record = LayerPass(
                _np(raw), _np(u), _np(out), _np(syn) if has_syn else None, _np(mem),
                _np(w_hats[k]), _np(self.biases[k]),
            )  # fmt: skip
            passes.append(record)
            outs.append(out)
            raw = out
        return outs, passes


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    if t is None:
        return None
    return t.detach().cpu().numpy().astype(np.float32, copy=False)
