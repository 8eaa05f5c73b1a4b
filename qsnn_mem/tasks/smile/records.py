"""What one epoch (or one inference) of the smile network produced, layer by layer: read by the
training metrics and the tracer."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class KernelCounts(NamedTuple):
    """Non-zero counts the fused kernels gather on the way (see :mod:`.smile_kernels`)."""

    row_nnz: np.ndarray  # non-zero forward weights per row (pre-synaptic neuron)
    col_nnz: np.ndarray  # ... per column (post-synaptic neuron)
    state_nnz: np.ndarray  # [syn read, syn written, mem read, mem written] over the run
    spikes_per_neuron: np.ndarray  # output spikes of each neuron over the run
    error_state_nnz: np.ndarray | None  # [read, written] of the BPTT error state, spike errors
    error_col_nnz: np.ndarray | None  # non-zero output errors per neuron
    grad_acc_nnz: np.ndarray | None  # gradient rows at accumulation: [read, written] x 2 modes
    grad_nonzero: int | None  # non-zero quantized gradient entries


class LayerRecord(NamedTuple):
    """What one layer read and produced in an epoch (consumed by metrics and the tracer)."""

    spikes_in: torch.Tensor  # (steps, fan_in) binary
    spikes_out: torch.Tensor  # (steps, fan_out) binary
    weight: torch.Tensor  # forward weight W_hat (fan_in, fan_out)
    spike_error: torch.Tensor | None  # dL/d spikes_out (steps, fan_out)
    error: torch.Tensor | None  # quantized error at the layer output (steps, fan_out)
    grad: torch.Tensor | None  # quantized weight gradient (fan_in, fan_out)
    spike_count: int  # spikes emitted by the layer in the epoch
    weight_nonzero: int  # non-zero entries of the forward weight
    counts: KernelCounts | None  # fused backend only


class EpochResult(NamedTuple):
    loss: float
    layers: list[LayerRecord]
