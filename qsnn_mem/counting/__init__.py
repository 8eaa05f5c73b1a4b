"""Counting rules of NIR networks built from per-primitive counters, torch-free (numpy only).

:func:`count_layers` adds one sample of a :class:`~qsnn_mem.tasks.nir.graph.Network` to an
:class:`~qsnn_mem.contract.AccessTable` under the trace contract and the smile network's
conventions, so estimate, sweep and report read its traces unchanged. The counters, one module
per primitive: :mod:`.synapse` (the unrolled rows and columns of a dense or conv synapse),
:mod:`.primitives` (weight reads, gradient accumulation, error propagation, update, bias),
:mod:`.gradient` (the accumulators replayed in BPTT order), :mod:`.neuron` (state update,
spikes, BPTT history and error state, loss unit) and :mod:`.reshape` (input reads through
flatten and pooling). docs/accounting.md ("Per-primitive counters") states the rules;
tests/brute_force_nir.py checks them exactly.
"""

from .network import count_layers, input_owner
from .tensors import tensor_rows

__all__ = ["count_layers", "input_owner", "tensor_rows"]
