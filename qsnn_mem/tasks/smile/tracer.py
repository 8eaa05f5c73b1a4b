"""Counting the memory accesses of smile training and inference, epoch by epoch: the rules are
in :mod:`.counting`, the bits of every value in the run's :class:`~qsnn_mem.tasks.base.Precision`.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import torch

from ...contract import AccessTable
from ..base import Precision
from . import counting as rules
from .config import SmileWorkload
from .model import SmileNet
from .records import LayerRecord
from .train import TrainResult

Mode = Literal["event", "dense"]


class SmileTracer:
    """Accumulates the access table of the smile network; call :meth:`on_epoch` after every
    optimizer step of training (it is a ``train`` hook) and :meth:`trace_inference` after."""

    def __init__(self, cfg: SmileWorkload, precision: Precision, mode: Mode = "event") -> None:
        self.cfg = cfg
        self.precision = precision
        self.mode = mode
        self.table = AccessTable()
        self.train_epochs = 0
        self.infer_samples = 0
        self.last_train: list[LayerRecord] | None = None
        self.last_infer: list[LayerRecord] | None = None
        self._input_stats: tuple[torch.Tensor, rules.SpikeStats] | None = None

    def _spikes_in(self, k: int, layers: list[LayerRecord]) -> rules.SpikeStats:
        """Spikes per input neuron of layer ``k``: the layer below counted them as it fired."""
        if k > 0:
            per_input = layers[k - 1].counts.spikes_per_neuron
            return rules.SpikeStats(int(per_input.sum()), per_input)
        # The network input is the same raster every epoch: count its spikes once. The cache
        # holds the raster itself, so no other tensor can reuse its memory address meanwhile.
        raster = layers[0].spikes_in
        cached = self._input_stats
        if cached is None or not _same_memory(cached[0], raster):
            self._input_stats = cached = (raster, rules.spike_stats(raster.numpy()))
        return cached[1]

    def on_epoch(self, result: TrainResult, res) -> None:
        layers = res.layers
        if layers[0].counts is None:
            raise RuntimeError("tracing needs the fused backend")
        stats = [self._spikes_in(k, layers) for k in range(len(layers))]
        last = len(layers) - 1
        for k, rec in enumerate(layers):
            rules.count_forward(self.table, "train", self.mode, k, rec, stats[k], self.precision)
        for k in range(last, -1, -1):
            below = layers[k - 1] if k > 0 else None
            rules.count_backward(
                self.table, self.mode, k, layers[k], stats[k], self.precision, below, k == last
            )
        for k, (rec, changed) in enumerate(zip(layers, result.optimizer.last_counts, strict=True)):
            rules.count_update(self.table, self.mode, k, rec, changed, self.precision)
        self.train_epochs += 1
        self.last_train = layers

    def trace_inference(self, net: SmileNet, x: torch.Tensor) -> list[LayerRecord]:
        """One forward pass with the current weights, counted under phase ``infer``."""
        layers = net.infer(x)
        for k, rec in enumerate(layers):
            stats = self._spikes_in(k, layers)
            rules.count_forward(self.table, "infer", self.mode, k, rec, stats, self.precision)
        self.infer_samples += 1
        self.last_infer = layers
        return layers

    def accesses(self) -> pd.DataFrame:
        return self.table.to_frame()

    def tensors(self, final_weights: list[torch.Tensor] | None = None) -> pd.DataFrame:
        """Shape, bits and non-zeros of every stored tensor (state tensors as their BPTT
        history: one row per time step). Non-zeros are those of the last traced pass."""
        layers = self.last_train or self.last_infer
        if layers is None:
            return pd.DataFrame()
        rows = []

        def add(layer, tensor, shape, nonzero):
            r, c = shape
            bits = self.precision.bits(tensor)
            rows.append(dict(
                layer=layer, tensor=tensor, shape=f"{r}x{c}", rows=r, cols=c, bits=bits,
                elements=r * c, nonzero=int(nonzero), kernel=False, unrolled_rows=r,
                unrolled_cols=c, unrolled_nonzero=int(nonzero),
            ))  # fmt: skip

        for k, rec in enumerate(layers):
            name = rules.layer_name(k)
            steps, n_in = rec.spikes_in.shape
            n_out = rec.spikes_out.shape[1]
            if k == 0:
                add(name, "input", (steps, n_in), rec.spikes_in.count_nonzero())
            weight = rec.weight if final_weights is None else final_weights[k]
            add(name, "weight", (n_in, n_out), int(torch.count_nonzero(weight)))
            c = rec.counts
            add(name, "syn", (steps, n_out), c.state_nnz[1])
            add(name, "mem", (steps, n_out), c.state_nnz[3])
            add(name, "spk", (steps, n_out), rec.spike_count)
            if rec.error is not None:
                add(name, "err", (steps, n_out), c.error_state_nnz[2])
                add(name, "grad", (n_in, n_out), c.grad_nonzero)
        return pd.DataFrame(rows)

    def normalisers(self) -> dict[str, int]:
        return {
            "train_epochs": self.train_epochs,
            "train_samples": self.train_epochs,  # one sample (the whole pattern) per epoch
            "infer_samples": self.infer_samples,
            "time_steps": self.cfg.nb_steps,
        }

    def workload_metrics(self) -> dict[str, float | int]:
        """NeuroBench-style figures of the traced network (see docs/accounting.md for where
        they differ from NeuroBench's own definitions)."""
        tensors = self.tensors()
        weights = tensors[tensors.tensor == "weight"]
        state = tensors[tensors.tensor.isin(["syn", "mem"])]
        infer = self.last_infer or self.last_train
        weight_bits = int((weights.bits * weights.elements).sum())
        live_state_bits = int((state.bits * state.cols).sum())  # one value per neuron
        spikes = sum(rec.spike_count for rec in infer)
        neuron_steps = sum(rec.spikes_out.numel() for rec in infer)
        dense_ops = sum(rec.spikes_in.shape[0] * rec.weight.numel() for rec in infer)
        effective_ops = sum(
            int(self._spikes_in(k, infer).per_input @ rec.counts.row_nnz)
            for k, rec in enumerate(infer)
        )
        return {
            "footprint_bits_inference": weight_bits + live_state_bits,
            "footprint_bits_training": int((tensors.bits * tensors.elements).sum()),
            "footprint_bytes_float32_neurobench": int(weights.elements.sum()) * 4,
            "connection_sparsity": 1.0
            - float(weights.nonzero.sum()) / float(weights.elements.sum()),
            "activation_sparsity": 1.0 - spikes / neuron_steps,
            "synaptic_ops_dense": dense_ops,
            "synaptic_ops_effective_acs": effective_ops,
        }


def _same_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.data_ptr() == b.data_ptr() and a.shape == b.shape and a.stride() == b.stride()
