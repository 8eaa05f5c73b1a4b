"""What one sample through a NIR network produced, layer by layer (numpy): read by the training
metrics, the figures and the tracer, which hands it to the counting rules
(:func:`qsnn_mem.counting.count_layers`) as a :class:`~.activity.LayerActivity`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activity import LayerActivity


class LayerPass(NamedTuple):
    """One layer, one sample, all steps (``T``); shapes as :class:`~.graph.Layer` says."""

    raw_in: np.ndarray  # (T, *shape before the reshapes)
    spikes_in: np.ndarray  # (T, *in_shape)
    out: np.ndarray  # (T, *out_shape): spikes, or the membrane of an LI population
    syn: np.ndarray | None  # (T, *out_shape) synaptic current I after each step (CubaLIF)
    mem: np.ndarray  # (T, *out_shape) membrane v after each step
    weight: np.ndarray  # forward weight W_hat = quantize(W) / scale, Layer.weight's layout
    bias: np.ndarray | None  # forward bias (quantized like the weight)
    error: np.ndarray | None = None  # (T, *out_shape) quantized dL/dx (training)
    grad: np.ndarray | None = None  # quantized weight gradient (training)
    spike_error: np.ndarray | None = None  # (T, *out_shape) dL/d(out) (training)
    error_state: dict | None = None  # {"syn", "mem"}: (T, *out_shape) adjoints (training)

    def activity(self, weight_after: np.ndarray | None = None) -> LayerActivity:
        state = {"mem": self.mem} if self.syn is None else {"syn": self.syn, "mem": self.mem}
        return LayerActivity(
            self.raw_in, self.spikes_in, self.out, self.weight, self.error, self.grad,
            state=state, bias=self.bias, spike_error=self.spike_error,
            error_state=self.error_state or {}, weight_after=weight_after,
        )  # fmt: skip


class SamplePass(NamedTuple):
    loss: float | None  # None for an inference
    correct: bool | None  # classes: whether the label's logit was the largest
    layers: list[LayerPass]
