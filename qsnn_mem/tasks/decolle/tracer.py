"""Counting the memory accesses of DECOLLE training and inference, step by step.

:class:`DecolleTracer` is a step hook of :func:`.train.run_window`: it counts
each layer's step as it happens (docs/decolle.md, "Accounting") and keeps nothing but the
counts and the last step's tensors (for ``tensors.csv``). It traces on the CPU and on CUDA
alike, so ``device: auto`` keeps a GPU for a traced DECOLLE run. Every bitwidth comes from the
run's :class:`~qsnn_mem.tasks.base.Precision` (its stored widths, and the gradient grid of the
shadow-weight codes); the tracer reads no bit field of the workload.
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
import torch

from ... import quant
from ...contract import AccessTable
from ..base import Precision
from . import counting as rules
from .config import DecolleWorkload
from .model import Forward, Learn

Mode = Literal["event", "dense"]


class DecolleTracer:
    """Accumulates the access table; call :meth:`bind` with the network before the first step."""

    def __init__(self, cfg: DecolleWorkload, precision: Precision, mode: Mode = "event") -> None:
        self.cfg, self.precision, self.mode = cfg, precision, mode
        self.table = AccessTable()
        self.train_epochs = self.train_samples = self.infer_samples = 0
        # Pooled spikes (the stored ``spk``) and their neuron-steps over the inference passes,
        # counted once each where they are produced (activation sparsity).
        self.infer_spikes = self.infer_neuron_steps = 0
        self.net = None
        self._prev: list = []
        self._last: list = []

    def bind(self, net) -> None:
        self.net = net
        self.geo = [
            rules.geometry(la.in_shape, la.conv_shape, self.cfg.kernel_size, self.cfg.padding)
            for la in net.layers
        ]
        self._prev = [None] * len(net.layers)
        self._last = [None] * len(net.layers)

    def _codes(self, w: torch.Tensor) -> torch.Tensor:
        """Stored shadow-weight codes (weights are held in units of weight_mult)."""
        g = self.precision.configured["grad_bits"]
        return w if g is None else quant.to_int(quant.clip(w, g), g)

    def on_step(self, phase: str, t: int, k: int, fwd: Forward, learn: Learn | None) -> None:
        layer = self.net.layers[k]
        if t == 0:
            zero = layer.init_state(fwd.s_in.shape[0])
            self._prev[k] = zero
            if k == 0:
                batch = fwd.s_in.shape[0]
                if phase == "train":
                    self.train_samples += batch
                else:
                    self.infer_samples += batch
        if phase == "infer":
            self.infer_spikes += rules._n(fwd.out)
            self.infer_neuron_steps += fwd.out.numel()
        prev = self._prev[k]
        w, b = layer.w, layer.b
        if learn is not None:  # the layer has already stepped: undo to get the read weights
            w, b = w + learn.grad_w, b + learn.grad_b
        after_burn_in = t > self.cfg.burn_in
        rules.count_forward(
            self.table, phase, self.mode, k, fwd, prev.q, prev.p, prev.r, w, b,
            layer.w_r if after_burn_in else None, self.geo[k], self.precision,
        )  # fmt: skip
        if learn is not None:
            rules.count_backward(
                self.table, self.mode, k, fwd, learn, layer.feedback, self.geo[k], self.precision
            )
            before = (self._codes(w), self._codes(b))
            after = (self._codes(layer.w), self._codes(layer.b))
            rules.count_update(self.table, self.mode, k, learn, before, after, self.precision)
        self._prev[k] = fwd.state
        # Keep the last training errors for tensors.csv even after an inference pass.
        last_learn = learn if learn is not None else (self._last[k] or (None, None))[1]
        self._last[k] = (fwd, last_learn)

    def on_epoch(self, *_args) -> None:
        self.train_epochs += 1

    def accesses(self) -> pd.DataFrame:
        return self.table.to_frame()

    def tensors(self, final_weights=None) -> pd.DataFrame:
        """Shape, bits and non-zeros of every stored tensor; state tensors hold one vector per
        sample of a batch (the batch is processed in lockstep). Non-zeros: the last traced step;
        weights: now (after training)."""
        if self.net is None:
            return pd.DataFrame()
        rows: list[dict] = []
        batch, bits = self.cfg.batch_size, self.precision.stored

        def add(layer, tensor, rc, nbits, nonzero, shape=None, unrolled=None):
            r, c = rc
            u = unrolled or (r, c, int(nonzero))
            rows.append(dict(
                layer=layer, tensor=tensor, shape=shape or f"{r}x{c}", rows=r, cols=c,
                bits=nbits, elements=r * c, nonzero=int(nonzero), kernel=shape is not None,
                unrolled_rows=u[0], unrolled_cols=u[1], unrolled_nonzero=u[2],
            ))  # fmt: skip

        for k, layer in enumerate(self.net.layers):
            conv, bias, ro = rules.names(k)
            fwd, learn = self._last[k] or (None, None)
            n_in, n_c = math.prod(layer.in_shape), math.prod(layer.conv_shape)
            n_o, classes = math.prod(layer.out_shape), layer.w_r.shape[0]
            o, i, kh, kw = layer.w.shape
            nz = lambda x: 0 if x is None else rules._n(x)  # noqa: E731
            if k == 0:
                add(conv, "input", (batch, n_in), bits["input"], nz(fwd and fwd.s_in))
            w_nz = rules._n(self._codes(layer.w))
            u_nz = int(rules.row_nonzero(layer.w, self.geo[k], layer.conv_shape[1:]).sum())
            add(conv, "weight", (i * kh * kw, o), bits["weight"], w_nz, f"{o}x{i}x{kh}x{kw}",
                (n_in, n_c, u_nz))  # fmt: skip
            add(bias, "weight", (1, o), bits["weight"], rules._n(self._codes(layer.b)))
            st = fwd.state if fwd is not None else None
            add(conv, "trace_q", (batch, n_in), bits["trace_q"], nz(st and st.q))
            add(conv, "trace_p", (batch, n_in), bits["trace_p"], nz(st and st.p))
            add(conv, "refrac", (batch, n_c), bits["refrac"], nz(st and st.r))
            add(conv, "mem", (batch, n_c), bits["mem"], nz(fwd and fwd.u))
            add(conv, "spk", (batch, n_o), bits["spk"], nz(fwd and fwd.out))
            err_nz = 0 if learn is None else nz(learn.delta_a) + nz(learn.e_u)
            add(conv, "err", (batch, n_o + n_c), bits["err"], err_nz)
            add(conv, "grad", (i * kh * kw, o), bits["grad"], nz(learn and learn.grad_w))
            add(bias, "grad", (1, o), bits["grad"], nz(learn and learn.grad_b))
            add(ro, "readout", (n_o, classes), bits["readout"], rules._n(layer.w_r))
            add(ro, "feedback", (classes, n_o), bits["feedback"], rules._n(layer.feedback))
            add(ro, "input", (batch, n_o), bits["ro_input"], nz(fwd and fwd.a_q))
            add(ro, "mem", (batch, classes), bits["ro_mem"], nz(fwd and fwd.r_out))
            add(ro, "err", (batch, classes), bits["ro_err"], nz(learn and learn.e))
        return pd.DataFrame(rows)

    def normalisers(self) -> dict[str, int]:
        return {
            "train_epochs": self.train_epochs,
            "train_samples": self.train_samples,
            "infer_samples": self.infer_samples,
            "time_steps": self.cfg.train_steps,
            "infer_time_steps": self.cfg.steps_test,
        }

    def workload_metrics(self) -> dict[str, float | int]:
        """NeuroBench-style figures (see docs/accounting.md for how they are defined here)."""
        ten = self.tensors()
        acc = self.accesses()
        weights = ten[ten.tensor.isin(["weight", "readout", "feedback"])]
        state = ten[ten.tensor.isin(["trace_q", "trace_p", "refrac"])]
        infer = acc[(acc.phase == "infer") & (acc.stage == "forward")]
        n = max(self.infer_samples, 1)
        conv_reads = infer[(infer.tensor == "weight") & ~infer.layer.str.endswith("_bias")]
        # Each pooled spike once, as its layer produces it (the access table also has the next
        # layer's read of it, so summing its ``spk`` rows would count most spikes twice).
        neuron_steps = max(self.infer_neuron_steps, 1)
        dense_ops = (
            sum(int(g.row_elems.sum()) for g in getattr(self, "geo", [])) * self.cfg.steps_test
        )
        return {
            "footprint_bits_inference": int((weights.bits * weights.elements).sum())
            + int((state.bits * state.cols).sum()),
            "footprint_bits_training": int((ten.bits * ten.elements).sum()),
            "footprint_bytes_float32_neurobench": int(weights.elements.sum()) * 4,
            "connection_sparsity": 1.0
            - float(ten[ten.tensor == "weight"].nonzero.sum())
            / float(ten[ten.tensor == "weight"].elements.sum()),
            "activation_sparsity": 1.0 - self.infer_spikes / neuron_steps,
            "synaptic_ops_dense": dense_ops,
            "synaptic_ops_effective_macs": int(conv_reads.nonzero.sum()) // n,
        }
