"""Counting the memory accesses of NIR training and inference, sample by sample: the rules are the
per-primitive counters of :mod:`qsnn_mem.counting` (docs/accounting.md), fed with what every
layer read and produced (:class:`~.activity.LayerActivity`); the bits of every value are in the
run's :class:`~qsnn_mem.tasks.base.Precision`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ...contract import AccessTable
from ...counting import count_layers, tensor_rows
from ...counting.neuron import STATE
from ...counting.synapse import synapse
from ..base import Precision
from .activity import LayerActivity
from .config import NirWorkload
from .graph import Network
from .model import NirNet
from .records import SamplePass
from .train import TrainResult

Mode = Literal["event", "dense"]


class NirTracer:
    """Accumulates the access table of a NIR network; :meth:`on_sample` is a ``train`` hook
    (after every optimizer step), :meth:`on_epoch` another, :meth:`trace_inference` follows."""

    def __init__(
        self, cfg: NirWorkload, network: Network, precision: Precision, mode: Mode = "event"
    ) -> None:
        self.cfg, self.network, self.precision, self.mode = cfg, network, precision, mode
        self.table = AccessTable()
        self.train_epochs = self.train_samples = self.infer_samples = 0
        self.last_train: list[LayerActivity] | None = None
        self.last_infer: list[LayerActivity] | None = None

    def on_sample(self, result: TrainResult, res: SamplePass) -> None:
        """Count one training sample; the optimizer has stepped, so the net's forward weights
        are the stored weights after the update."""
        after = result.net.stored_weights()
        acts = [p.activity(w) for p, w in zip(res.layers, after, strict=True)]
        count_layers(self.table, "train", self.mode, self.network, acts, self.precision, True)
        self.train_samples += 1
        self.last_train = acts

    def on_epoch(self, *_args) -> None:
        self.train_epochs += 1

    def trace_inference(self, net: NirNet, x: np.ndarray) -> None:
        """A forward pass of every sample of ``x`` with the current weights, counted under
        phase ``infer``."""
        for sample in x:
            acts = [p.activity() for p in net.infer(sample).layers]
            count_layers(self.table, "infer", self.mode, self.network, acts, self.precision, False)
            self.infer_samples += 1
            self.last_infer = acts

    def accesses(self) -> pd.DataFrame:
        return self.table.to_frame()

    def tensors(self, final_weights=None) -> pd.DataFrame:
        """Shape, bits and non-zeros of every stored tensor (the last training sample's, with
        the weights after its update; else the last inference's)."""
        train = self.last_train is not None
        acts = self.last_train if train else self.last_infer
        if acts is None:
            return pd.DataFrame()
        return pd.DataFrame(tensor_rows(self.network, acts, self.precision, train))

    def normalisers(self) -> dict[str, int]:
        return {
            "train_epochs": self.train_epochs,
            "train_samples": self.train_samples,
            "infer_samples": self.infer_samples,
            "time_steps": self.cfg.nb_steps,
        }

    def workload_metrics(self) -> dict[str, float | int]:
        """NeuroBench-style figures of the last traced inference (see docs/accounting.md for
        where they differ from NeuroBench's own definitions)."""
        tensors = self.tensors()
        acts = self.last_infer or self.last_train or []
        weights = tensors[tensors.tensor == "weight"]
        layers = self.network.layers
        state_bits = sum(
            self.precision.bits(var) * layer.n_out
            for layer in layers
            for var in STATE[layer.neuron.kind]
        )
        spikes = neuron_steps = dense_ops = effective_ops = 0
        for layer, act in zip(layers, acts, strict=True):
            syn = synapse(layer, act.weight)
            steps = act.out.shape[0]
            live = np.count_nonzero(act.spikes_in.reshape(steps, -1), axis=0)
            dense_ops += steps * syn.elements
            effective_ops += int(live @ syn.row_nnz)
            if layer.neuron.kind != "LI":
                spikes += int(np.count_nonzero(act.out))
                neuron_steps += act.out.size
        return {
            "footprint_bits_inference": int((weights.bits * weights.elements).sum()) + state_bits,
            "footprint_bits_training": int((tensors.bits * tensors.elements).sum()),
            "footprint_bytes_float32_neurobench": int(weights.elements.sum()) * 4,
            "connection_sparsity": 1.0
            - float(weights.nonzero.sum()) / max(float(weights.elements.sum()), 1.0),
            "activation_sparsity": 1.0 - spikes / max(neuron_steps, 1),
            "synaptic_ops_dense": dense_ops,
            "synaptic_ops_effective_acs": effective_ops,
        }
