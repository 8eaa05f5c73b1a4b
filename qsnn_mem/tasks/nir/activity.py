"""What one layer of a NIR network read and produced in one sample: the exact values the
counting rules (:mod:`qsnn_mem.counting`) turn into reads and writes. numpy only."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LayerActivity:
    """One layer, one sample, all time steps (``T`` = steps).

    Shapes follow :class:`~.graph.Layer`: ``in_shape`` after its reshapes, ``out_shape``.
    The fields after ``grad`` are read where a rule needs them (see
    :mod:`qsnn_mem.counting.network`); an inference leaves the training ones empty."""

    raw_in: np.ndarray  # (T, *shape before the reshapes): the spikes the layer's input holds
    spikes_in: np.ndarray  # (T, *in_shape): what the synapse reads, after pooling/flatten
    out: np.ndarray  # (T, *out_shape): spikes (0/1), or the membrane of an LI readout
    weight: np.ndarray  # the stored (quantized) weight, Layer.weight's layout
    error: np.ndarray | None = None  # (T, *out_shape) quantized dL/d(synaptic input), training
    grad: np.ndarray | None = None  # quantized weight gradient of the sample, weight's layout
    # {"syn", "mem"} -> (T, *out_shape): the state stored after each step (I, v)
    state: dict = field(default_factory=dict)
    bias: np.ndarray | None = None  # the stored bias
    spike_error: np.ndarray | None = None  # (T, *out_shape) dL/d(out): the layer's err buffer
    # {"syn", "mem"} -> (T, *out_shape): BPTT adjoints dL/dI, dL/dv written at step t
    error_state: dict = field(default_factory=dict)
    weight_after: np.ndarray | None = None  # stored weight after the optimizer step (update)
    bias_grad: np.ndarray | None = None  # the bias's gradient, where the bias is trained
    bias_after: np.ndarray | None = None
