"""The entry point: one sample of a NIR network (a :class:`~qsnn_mem.tasks.nir.graph.Network`
and its :class:`~qsnn_mem.tasks.nir.activity.LayerActivity` per layer) counted into an
:class:`~qsnn_mem.contract.AccessTable` with the per-primitive counters of this package, under
the smile network's conventions (docs/accounting.md):

* layers are named ``Layer.name``; a layer's bias is the layer ``<name>_bias`` (tensor
  ``weight``, as DECOLLE's);
* the network input is the tensor ``input`` of the first layer; a layer's output is ``spk``
  (``mem`` for an LI readout) of the layer that produced it, also where the layer above reads it;
* every value is counted at ``precision.bits(tensor)``.

The counters read these fields of an activity where the rule needs them (None or empty
otherwise): ``state`` ({"syn", "mem"} -> (T, *out_shape),
the value stored after each step; an LI layer without it uses ``out``), ``bias`` (the stored
bias, else Layer.bias), and in training ``spike_error`` ((T, *out_shape) dL/d(out), what the
layer's ``err`` buffer holds), ``error_state`` ({"syn", "mem"} -> (T, *out_shape), the BPTT
adjoints dL/dI, dL/dv written at step t), ``weight_after`` (the stored weight after the
optimizer step: the update is counted only when it is given, with ``grad``), ``bias_grad``
(the bias is trained) and ``bias_after``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..contract import AccessTable
from ..contract.vocabulary import MODES, PHASES
from ..tasks.base import Precision
from ..tasks.nir.activity import LayerActivity
from ..tasks.nir.graph import Layer, Network
from . import neuron, primitives, reshape
from .synapse import Synapse, synapse


@dataclass(frozen=True)
class Flat:
    """One layer's activity, checked and flattened per step: (T, n) arrays."""

    raw_in: np.ndarray
    spikes_in: np.ndarray
    out: np.ndarray
    weight: np.ndarray
    state: dict[str, np.ndarray]
    bias: np.ndarray | None
    error: np.ndarray | None = None
    spike_error: np.ndarray | None = None
    error_state: dict[str, np.ndarray] | None = None
    grad: np.ndarray | None = None
    weight_after: np.ndarray | None = None
    bias_grad: np.ndarray | None = None
    bias_after: np.ndarray | None = None


def input_owner(network: Network, k: int) -> tuple[str, str]:
    """(layer, tensor) of what layer ``k`` reads: the network input, or the layer below's."""
    if k == 0:
        return network.layers[0].name, "input"
    below = network.layers[k - 1]
    return below.name, neuron.output_tensor(below.neuron.kind)


def bias_name(layer: Layer) -> str:
    return f"{layer.name}_bias"


def count_layers(
    table: AccessTable, phase: str, mode: str, network: Network,
    activities: list[LayerActivity], precision: Precision, train: bool,
) -> None:  # fmt: skip
    """Add one sample's counts of every layer: the forward pass (phase ``train`` or
    ``infer``), and with ``train`` the BPTT backward pass and, for layers whose activity
    carries ``weight_after``, the weight update."""
    if phase not in PHASES or mode not in MODES:
        raise ValueError(f"phase {phase!r} / mode {mode!r}: allowed {PHASES} / {MODES}")
    if train and phase != "train":
        raise ValueError(f"training is counted under phase 'train', not {phase!r}")
    layers = network.layers
    if len(activities) != len(layers):
        raise ValueError(f"{len(activities)} activities for {len(layers)} layers")
    steps = np.asarray(activities[0].out).shape[0]
    raw_shapes = [network.input_shape, *(layer.out_shape for layer in layers[:-1])]
    flats = [
        flatten(layer, act, raw, steps, train)
        for layer, act, raw in zip(layers, activities, raw_shapes, strict=True)
    ]
    syns = [synapse(layer, f.weight) for layer, f in zip(layers, flats, strict=True)]
    for k, (f, syn) in enumerate(zip(flats, syns, strict=True)):
        forward(table, phase, mode, network, k, f, syn, precision)
    if not train:
        return
    for k in range(len(layers) - 1, -1, -1):
        below = flats[k - 1] if k > 0 else None
        backward(table, mode, network, k, flats[k], syns[k], below, precision)
    for layer, f, syn in zip(layers, flats, syns, strict=True):
        update(table, mode, layer, f, syn, precision)


def forward(
    table: AccessTable, phase: str, mode: str, network: Network, k: int, f: Flat, syn: Synapse,
    precision: Precision,
) -> None:  # fmt: skip
    layer = network.layers[k]
    owner, tensor = input_owner(network, k)
    reshape.input_reads(table, phase, "forward", mode, owner, tensor, precision.bits(tensor),
                        f.raw_in)  # fmt: skip
    bits = precision.bits("weight")
    primitives.weight_reads(table, phase, mode, layer.name, syn, f.spikes_in, bits)
    if f.bias is not None:
        primitives.bias_reads(table, phase, bias_name(layer), f.bias, f.out.shape[0], bits)
    neuron.state_update(table, phase, mode, layer.name, layer.neuron.kind, f.state, f.out,
                        precision)  # fmt: skip


def backward(
    table: AccessTable, mode: str, network: Network, k: int, f: Flat, syn: Synapse,
    below: Flat | None, precision: Precision,
) -> None:  # fmt: skip
    """BPTT of layer ``k``; ``below`` is the activity of the layer it sends errors to."""
    layer = network.layers[k]
    kind = layer.neuron.kind
    if k == len(network.layers) - 1:
        neuron.loss_unit(table, layer.name, kind, f.out, f.spike_error, precision)
    neuron.history(table, layer.name, kind, f.state, f.spike_error, f.error_state, precision)
    owner, tensor = input_owner(network, k)
    reshape.input_reads(table, "train", "backward", mode, owner, tensor, precision.bits(tensor),
                        f.raw_in)  # fmt: skip
    primitives.gradient_rows(table, mode, layer.name, syn, f.weight.shape, f.spikes_in, f.error,
                             precision.bits("grad"))  # fmt: skip
    if f.bias is not None and f.bias_grad is not None:
        error = f.error.reshape(f.error.shape[0], f.bias.size, -1)
        primitives.bias_gradient(table, mode, bias_name(layer), error, precision.bits("grad"))
    if below is not None:
        primitives.propagation(table, mode, layer.name, syn, f.error, precision.bits("weight"))
        neuron.spike_errors_written(table, network.layers[k - 1].name, below.spike_error,
                                    precision)  # fmt: skip


def update(
    table: AccessTable, mode: str, layer: Layer, f: Flat, syn: Synapse, precision: Precision
) -> None:
    bits_w, bits_g = precision.bits("weight"), precision.bits("grad")
    if f.weight_after is not None:
        primitives.update(table, mode, layer.name, syn.update_rows, f.weight, f.weight_after,
                          f.grad, bits_w, bits_g)  # fmt: skip
    if f.bias is not None and f.bias_grad is not None and f.bias_after is not None:
        primitives.update(table, mode, bias_name(layer), 1, f.bias, f.bias_after, f.bias_grad,
                          bits_w, bits_g)  # fmt: skip


# --- checks ------------------------------------------------------------------------------------


def flatten(layer: Layer, act: LayerActivity, raw_shape: tuple, steps: int, train: bool) -> Flat:
    """The activity of ``layer`` checked against its shapes and flattened per step."""

    def per_step(value, what: str, shape: tuple) -> np.ndarray:
        x = np.asarray(required(value, what))
        if x.ndim < 1 or x.shape[0] != steps or x[0].size != int(np.prod(shape)):
            raise ValueError(
                f"layer {layer.name!r}: {what} has shape {x.shape}, expected ({steps}, *{shape})"
            )
        return x.reshape(steps, -1)

    def required(value, what: str):
        if value is None:
            raise ValueError(f"layer {layer.name!r}: the activity has no {what}")
        return value

    def same(value, what: str, shape: tuple) -> np.ndarray | None:
        if value is None:
            return None
        x = np.asarray(value)
        if x.shape != tuple(shape):
            raise ValueError(f"layer {layer.name!r}: {what} has shape {x.shape}, not {shape}")
        return x

    def states(value, what: str) -> dict[str, np.ndarray]:
        value = dict(value or {})
        if layer.neuron.kind == "LI" and what == "state" and "mem" not in value:
            value["mem"] = act.out  # an LI readout's output is its membrane
        return {var: per_step(value.get(var), f"{what}[{var!r}]", layer.out_shape)
                for var in neuron.STATE[layer.neuron.kind]}  # fmt: skip

    out = layer.out_shape
    bias = None
    if layer.bias is not None:
        stored = getattr(act, "bias", None)
        bias = same(layer.bias if stored is None else stored, "bias", np.shape(layer.bias))
    flat = Flat(
        raw_in=per_step(act.raw_in, "raw_in", raw_shape),
        spikes_in=per_step(act.spikes_in, "spikes_in", layer.in_shape),
        out=per_step(act.out, "out", out),
        weight=same(required(act.weight, "weight"), "weight", layer.weight.shape),
        state=states(getattr(act, "state", None), "state"),
        bias=bias,
    )
    if not train:
        return flat
    after = same(getattr(act, "weight_after", None), "weight_after", layer.weight.shape)
    bias_grad = bias_after = None
    if bias is not None:
        bias_grad = same(getattr(act, "bias_grad", None), "bias_grad", bias.shape)
        bias_after = same(getattr(act, "bias_after", None), "bias_after", bias.shape)
    return replace(
        flat,
        error=per_step(act.error, "error", out),
        spike_error=per_step(getattr(act, "spike_error", None), "spike_error", out),
        error_state=states(getattr(act, "error_state", None), "error_state"),
        weight_after=after,
        grad=None if after is None else same(required(act.grad, "grad"), "grad", after.shape),
        bias_grad=bias_grad,
        bias_after=None if bias_grad is None else bias_after,
    )
