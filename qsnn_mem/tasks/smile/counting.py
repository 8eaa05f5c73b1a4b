"""What a digital neuromorphic accelerator reads and writes to run the smile network.

The accounting model is documented in docs/accounting.md; each function here adds the counts of
one stage of one epoch (or one inference) to an :class:`AccessTable`, from the actual spikes,
errors and gradients the fused kernels produced. Two modes: ``event`` (spike- and error-driven:
a weight row per input spike, a weight column per non-zero error) and ``dense`` (every synapse
every step). Error propagation is counted both as a column scatter and as a row gather
(traversal ``col`` / ``row``); the architecture picks one when it is priced. Layers are ``fc1``
(700 -> 400) and ``fc2`` (400 -> 250); a tensor's row is attributed to the layer that owns it
(``fc1``'s spikes are read by ``fc2``). Every value is counted at the bits the task's
:class:`~qsnn_mem.tasks.base.Precision` says it occupies (:mod:`.precision`).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from ...contract import AccessTable
from ..base import Precision
from .records import LayerRecord


def layer_name(k: int) -> str:
    return f"fc{k + 1}"


def input_owner(k: int) -> tuple[str, str]:
    """(layer, tensor) of the spikes layer ``k`` reads: the network input or the layer below."""
    return ("fc1", "input") if k == 0 else (layer_name(k - 1), "spk")


class SpikeStats(NamedTuple):
    total: int  # spikes in the raster
    per_input: np.ndarray  # spikes per input neuron (column sums)


def spike_stats(raster: np.ndarray) -> SpikeStats:
    per_input = np.count_nonzero(raster, axis=0)
    return SpikeStats(int(per_input.sum()), per_input)


def count_forward(
    table: AccessTable, phase: str, mode: str, k: int, rec: LayerRecord, spikes_in: SpikeStats,
    precision: Precision,
) -> None:  # fmt: skip
    """Forward pass of layer ``k`` over all steps: input spikes, weights, state, output spikes."""
    steps, n_in = rec.spikes_in.shape
    n_out = rec.spikes_out.shape[1]
    name = layer_name(k)
    owner, tensor = input_owner(k)
    in_bits, weight_bits, spike_bits = (precision.bits(t) for t in (tensor, "weight", "spk"))
    c = rec.counts
    s = spikes_in.total
    if mode == "event":
        table.add(phase, "forward", owner, tensor, "read", "elem", in_bits, s, s, s)
        hit = int(spikes_in.per_input @ c.row_nnz)
        table.add(phase, "forward", name, "weight", "read", "row", weight_bits, s, s * n_out, hit)
    else:
        table.add(phase, "forward", owner, tensor, "read", "row", in_bits, steps, steps * n_in, s)
        table.add(
            phase, "forward", name, "weight", "read", "row", weight_bits, steps * n_in,
            steps * n_in * n_out, steps * rec.weight_nonzero,
        )  # fmt: skip
    vec = steps * n_out
    state_nnz = c.state_nnz
    for i, tensor_name in enumerate(("syn", "mem")):
        for j, op in enumerate(("read", "write")):
            nnz = int(state_nnz[2 * i + j])
            state_bits = precision.bits(tensor_name)
            table.add(phase, "forward", name, tensor_name, op, "row", state_bits, steps, vec, nnz)
    o = rec.spike_count
    if mode == "event":
        table.add(phase, "forward", name, "spk", "write", "elem", spike_bits, o, o, o)
    else:
        table.add(phase, "forward", name, "spk", "write", "row", spike_bits, steps, vec, o)


def count_backward(
    table: AccessTable, mode: str, k: int, rec: LayerRecord, spikes_in: SpikeStats,
    precision: Precision, below: LayerRecord | None, is_output: bool,
) -> None:  # fmt: skip
    """BPTT of layer ``k``, last step first: spike errors in, state history, error state,
    gradient accumulation, and the spike errors sent to the layer ``below`` (if any).

    The output layer's spike errors come from the loss unit, which reads the output raster.
    """
    add = partial(table.add, "train", "backward")
    steps, n_in = rec.spikes_in.shape
    n_out = rec.spikes_out.shape[1]
    vec = steps * n_out
    name = layer_name(k)
    c = rec.counts
    error_bits, grad_bits = precision.bits("err"), precision.bits("grad")
    spike_error_nnz = int(c.error_state_nnz[2])
    if is_output:
        # The loss unit reads the output raster and writes the output layer's spike errors.
        add(name, "spk", "read", "row", precision.bits("spk"), steps, vec, rec.spike_count)
        add(name, "err", "write", "row", error_bits, steps, vec, spike_error_nnz)
    add(name, "err", "read", "row", error_bits, steps, vec, spike_error_nnz)
    add(name, "mem", "read", "row", precision.bits("mem"), steps, vec, int(c.state_nnz[2]))
    add(name, "syn", "read", "row", precision.bits("syn"), steps, vec, int(c.state_nnz[0]))
    # Error state of every neuron (dL/dsyn, dL/dmem): read and written each step.
    for j, op in enumerate(("read", "write")):
        nnz = int(c.error_state_nnz[j])
        add(name, "err", op, "row", error_bits, steps, 2 * vec, nnz)

    owner, tensor = input_owner(k)
    s = spikes_in.total
    acc = c.grad_acc_nnz
    if mode == "event":
        add(owner, tensor, "read", "elem", precision.bits(tensor), s, s, s)
        for j, op in enumerate(("read", "write")):
            add(name, "grad", op, "row", grad_bits, s, s * n_out, int(acc[j]))
    else:
        add(owner, tensor, "read", "row", precision.bits(tensor), steps, steps * n_in, s)
        rows = steps * n_in
        for j, op in enumerate(("read", "write")):
            add(name, "grad", op, "row", grad_bits, rows, rows * n_out, int(acc[2 + j]))

    if below is None:
        return
    count_propagation(table, mode, k, rec, precision)
    # The spike errors of the layer below are written here, read by its own BPTT.
    below_nnz = int(below.counts.error_state_nnz[2])
    below_name = layer_name(k - 1)
    add(below_name, "err", "write", "row", error_bits, steps, steps * n_in, below_nnz)


def count_propagation(
    table: AccessTable, mode: str, k: int, rec: LayerRecord, precision: Precision
) -> None:
    """The output errors of layer ``k`` sent down through its weights, counted both ways so an
    architecture can pick one later: ``col`` scatters each non-zero error through its incoming
    column; ``row`` lets every pre-synaptic neuron gather through its outgoing row, at every step
    with a non-zero error vector (event) or every step (dense)."""
    add = partial(table.add, "train", "backward", layer_name(k), "weight", "read")
    steps, n_in = rec.spikes_in.shape
    n_out = rec.spikes_out.shape[1]
    if mode == "event":
        per_col = rec.counts.error_col_nnz
        cols = int(per_col.sum())
        col_hit = int(per_col @ rec.counts.col_nnz)
        # Steps whose error vector is all zero send nothing down: no gather.
        active = int(np.count_nonzero(rec.error.numpy().any(axis=1)))
    else:
        cols, col_hit, active = steps * n_out, steps * rec.weight_nonzero, steps
    weight_bits = precision.bits("weight")
    add("col", weight_bits, cols, cols * n_in, col_hit, traversal="col")
    rows = active * n_in
    add("row", weight_bits, rows, rows * n_out, active * rec.weight_nonzero, traversal="row")


def count_update(
    table: AccessTable, mode: str, k: int, rec: LayerRecord, changed: np.ndarray,
    precision: Precision,
) -> None:  # fmt: skip
    """Weight update of layer ``k``: read the quantized gradient, read-modify-write the weights.

    ``changed`` = [stored codes that changed, non-zeros among them before, after] (optimizer).
    """
    add = partial(table.add, "train", "update")
    n_in, n_out = rec.weight.shape
    name = layer_name(k)
    g = rec.counts.grad_nonzero
    n_changed, before, after = (int(v) for v in changed)
    weight_bits, grad_bits = precision.bits("weight"), precision.bits("grad")
    if mode == "event":
        add(name, "grad", "read", "elem", grad_bits, g, g, g)
        add(name, "weight", "read", "elem", weight_bits, n_changed, n_changed, before)
        add(name, "weight", "write", "elem", weight_bits, n_changed, n_changed, after)
    else:
        size = n_in * n_out
        nnz_after = rec.weight_nonzero - before + after
        add(name, "grad", "read", "row", grad_bits, n_in, size, g)
        add(name, "weight", "read", "row", weight_bits, n_in, size, rec.weight_nonzero)
        add(name, "weight", "write", "row", weight_bits, n_in, size, nnz_after)
