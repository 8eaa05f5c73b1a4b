"""Per-primitive counters of a synapse (dense or conv, through its unrolled rows and columns,
:mod:`.synapse`): the forward weight reads, the gradient accumulation, the error sent down
(both traversals), the weight update, and a bias. Each adds one layer's counts over one sample
to an :class:`~qsnn_mem.contract.AccessTable`; docs/accounting.md ("Per-primitive counters")
states the rules. Arrays are flattened per step: ``(T, n)``. numpy only.
"""

from __future__ import annotations

import numpy as np

from ..contract import AccessTable
from . import gradient
from .synapse import Synapse


def _nz(x: np.ndarray) -> int:
    return int(np.count_nonzero(x))


def weight_reads(
    table: AccessTable, phase: str, mode: str, name: str, syn: Synapse, spikes_in: np.ndarray,
    bits: int,
) -> None:  # fmt: skip
    """Forward: one unrolled weight row per non-zero input (event) or every row every step
    (dense). ``spikes_in`` (T, n_in) is what the synapse reads, after pooling/flatten."""
    steps = spikes_in.shape[0]
    if mode == "event":
        live = np.count_nonzero(spikes_in, axis=0).astype(np.int64)
        rows, elems, hit = int(live.sum()), int(live @ syn.row_elems), int(live @ syn.row_nnz)
    else:
        rows, elems, hit = steps * syn.n_in, steps * syn.elements, steps * syn.nonzero
    table.add(phase, "forward", name, "weight", "read", "row", bits, rows, elems, hit)


def bias_reads(
    table: AccessTable, phase: str, name: str, bias: np.ndarray, steps: int, bits: int
) -> None:
    """Forward: the bias (layer ``<name>_bias``) is one row read per step, in both modes."""
    n = bias.size
    table.add(phase, "forward", name, "weight", "read", "row", bits, steps, steps * n,
              steps * _nz(bias))  # fmt: skip


def accumulation(syn: Synapse, kernel_shape: tuple, spikes_in: np.ndarray, error: np.ndarray):
    """[event read, event written, dense read, dense written] of the gradient rows."""
    if syn.kind == "dense":
        return gradient.dense(spikes_in, error)
    geo = syn.geometry
    steps = spikes_in.shape[0]
    return gradient.conv(
        geo, kernel_shape, spikes_in.reshape(steps, *geo.in_shape),
        error.reshape(steps, *geo.out_shape),
    )  # fmt: skip


def gradient_rows(
    table: AccessTable, mode: str, name: str, syn: Synapse, kernel_shape: tuple,
    spikes_in: np.ndarray, error: np.ndarray, bits: int,
) -> None:  # fmt: skip
    """Backward: the gradient accumulator, read-modify-written one unrolled row per non-zero
    input (event) or every row every step (dense); ``error`` (T, n_out) is the quantized
    dL/d(synaptic input) of the layer."""
    steps = spikes_in.shape[0]
    acc = accumulation(syn, kernel_shape, spikes_in, error)
    if mode == "event":
        live = np.count_nonzero(spikes_in, axis=0).astype(np.int64)
        rows, elems, nnz = int(live.sum()), int(live @ syn.row_elems), acc[:2]
    else:
        rows, elems, nnz = steps * syn.n_in, steps * syn.elements, acc[2:]
    for op, n in zip(("read", "write"), nnz, strict=True):
        table.add("train", "backward", name, "grad", op, "row", bits, rows, elems, int(n))


def bias_gradient(table: AccessTable, mode: str, name: str, error: np.ndarray, bits: int) -> None:
    """Backward: the bias gradient (layer ``<name>_bias``) adds every error of its channel: an
    element read-modify-write per non-zero error (event), the row every step (dense).
    ``error`` (T, channels, ...)."""
    acc = gradient.bias(error)
    steps, channels = error.shape[:2]
    for j, op in enumerate(("read", "write")):
        if mode == "event":
            n = _nz(error)
            table.add("train", "backward", name, "grad", op, "elem", bits, n, n, int(acc[j]))
        else:
            table.add("train", "backward", name, "grad", op, "row", bits, steps,
                      steps * channels, int(acc[2 + j]))  # fmt: skip


def propagation(
    table: AccessTable, mode: str, name: str, syn: Synapse, error: np.ndarray, bits: int
) -> None:
    """Backward: the layer's output errors sent down through its weights, counted both ways.
    ``col``: a column scatter per non-zero error (event) or every column every step (dense);
    ``row``: at every step with a non-zero error (event) or every step (dense), every input
    position gathers through its unrolled row."""
    steps = error.shape[0]
    if mode == "event":
        per_col = np.count_nonzero(error, axis=0).astype(np.int64)
        cols, col_elems, col_hit = (
            int(per_col.sum()), int(per_col @ syn.col_elems), int(per_col @ syn.col_nnz)
        )  # fmt: skip
        active = int(np.count_nonzero(np.any(error != 0, axis=1)))
    else:
        cols, col_elems, col_hit = steps * syn.n_out, steps * syn.elements, steps * syn.nonzero
        active = steps
    add = table.add
    add("train", "backward", name, "weight", "read", "col", bits, cols, col_elems, col_hit,
        traversal="col")  # fmt: skip
    add("train", "backward", name, "weight", "read", "row", bits, active * syn.n_in,
        active * syn.elements, active * syn.nonzero, traversal="row")  # fmt: skip


def update(
    table: AccessTable, mode: str, name: str, rows: int, weight: np.ndarray,
    weight_after: np.ndarray, grad: np.ndarray, bits_weight: int, bits_grad: int,
) -> None:  # fmt: skip
    """Update (once per optimizer step): read the quantized gradient, read-modify-write the
    stored weight. Event: an element per non-zero gradient, and per weight whose stored value
    changes (non-zeros before / after). Dense: every one of the stored weight's ``rows``."""
    add = table.add
    g = _nz(grad)
    if mode == "event":
        changed = np.asarray(weight) != np.asarray(weight_after)
        n = _nz(changed)
        add("train", "update", name, "grad", "read", "elem", bits_grad, g, g, g)
        add("train", "update", name, "weight", "read", "elem", bits_weight, n, n,
            _nz(weight[changed]))  # fmt: skip
        add("train", "update", name, "weight", "write", "elem", bits_weight, n, n,
            _nz(weight_after[changed]))  # fmt: skip
    else:
        size = weight.size
        add("train", "update", name, "grad", "read", "row", bits_grad, rows, size, g)
        add("train", "update", name, "weight", "read", "row", bits_weight, rows, size,
            _nz(weight))  # fmt: skip
        add("train", "update", name, "weight", "write", "row", bits_weight, rows, size,
            _nz(weight_after))  # fmt: skip
