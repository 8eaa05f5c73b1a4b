"""The rows of tensors.csv for a NIR network: every tensor :func:`~.network.count_layers`
counts accesses to, with its shape, bits and non-zeros (of the sample given), named as the
access rows name them. As the smile tracer lists them: state tensors (``syn``, ``mem``, ``spk``,
``err``) as their BPTT history, one row per time step; ``input`` as the input raster; a conv
kernel as its O×I×K×K array (rows in_ch/groups·kh·kw, columns out_ch) with its unrolled matrix
(input positions × output positions, non-zero synapses). Weights are those after the update
where the activity has them. numpy only.
"""

from __future__ import annotations

import numpy as np

from ..contract import TENSOR_COLUMNS
from ..tasks.base import Precision
from ..tasks.nir.activity import LayerActivity
from ..tasks.nir.graph import Network
from . import neuron
from .network import bias_name, flatten
from .synapse import synapse


def _row(layer, tensor, shape, rows, cols, bits, nonzero, kernel=False, unrolled=None) -> dict:
    u = unrolled or (rows, cols, nonzero)
    values = (layer, tensor, "x".join(map(str, shape)), rows, cols, bits, rows * cols,
              int(nonzero), kernel, *(int(v) for v in u))  # fmt: skip
    return dict(zip(TENSOR_COLUMNS, values, strict=True))


def tensor_rows(
    network: Network, activities: list[LayerActivity], precision: Precision, train: bool
) -> list[dict]:
    """One dict per stored tensor (the columns of tensors.csv)."""
    bits = precision.bits
    steps = np.asarray(activities[0].out).shape[0]
    raw_shapes = [network.input_shape, *(layer.out_shape for layer in network.layers[:-1])]
    rows: list[dict] = []
    for k, (layer, act, raw) in enumerate(zip(network.layers, activities, raw_shapes, strict=True)):
        f = flatten(layer, act, raw, steps, train)
        name, kind = layer.name, layer.neuron.kind
        if k == 0:
            n = f.raw_in.shape[1]
            rows.append(_row(name, "input", (steps, n), steps, n, bits("input"),
                             np.count_nonzero(f.raw_in)))  # fmt: skip
        weight = f.weight if f.weight_after is None else f.weight_after
        syn = synapse(layer, weight)
        unrolled = (syn.n_in, syn.n_out, syn.nonzero)
        if layer.synapse == "dense":
            shape, r, c, is_kernel = (syn.n_in, syn.n_out), syn.n_in, syn.n_out, False
        else:
            shape, r, c, is_kernel = weight.shape, syn.update_rows, weight.shape[0], True
        grad = getattr(act, "grad", None)  # the accumulator is there whether or not it updates
        for tensor, values in (("weight", weight), ("grad", grad)):
            if tensor == "weight" or train:
                nnz = 0 if values is None else np.count_nonzero(values)
                rows.append(_row(name, tensor, shape, r, c, bits(tensor), nnz, is_kernel,
                                 unrolled if tensor == "weight" else None))  # fmt: skip
        if f.bias is not None:
            bias = f.bias if f.bias_after is None else f.bias_after
            n = bias.size
            rows.append(_row(bias_name(layer), "weight", (1, n), 1, n, bits("weight"),
                             np.count_nonzero(bias)))  # fmt: skip
            if train and f.bias_grad is not None:
                rows.append(_row(bias_name(layer), "grad", (1, n), 1, n, bits("grad"),
                                 np.count_nonzero(f.bias_grad)))  # fmt: skip
        n = f.out.shape[1]
        history = dict(f.state)
        if neuron.spiking(kind):
            history["spk"] = f.out
        if train:
            history["err"] = f.spike_error
        for tensor, values in history.items():
            rows.append(_row(name, tensor, (steps, n), steps, n, bits(tensor),
                             np.count_nonzero(values)))  # fmt: skip
    return rows
