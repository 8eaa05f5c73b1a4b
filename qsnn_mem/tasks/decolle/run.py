"""Run a DECOLLE workload end to end: train (optionally traced), infer, write the run folder.

The folder holds ``metrics.csv`` (loss and per-layer accuracy per epoch), ``weights.npz``,
``run.json`` and, when traced, ``accesses.csv``, ``tensors.csv``, ``trace.json`` and
``neurobench.json`` in the format of the smile trace (docs/accounting.md). The folder is
claimed before training (:func:`qsnn_mem.run_folder.claim`); run.json is written after the
first epoch with ``status: started``, completed (``writing``) after the weights and metrics,
and marked ``done`` (or ``interrupted``) once the trace is written too. The outputs are
written the most valuable first (weights, metrics, run.json, then the trace), so a failed
write keeps what came before it.

``run.json`` records the run's precision under ``precision``: ``tag``, ``configured`` (the ten
bit fields of the tag and ``rng_bits``) and ``stored`` (the bits each tensor occupies in
memory, :mod:`.precision`). The record is built once per run, here, and passed down.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ... import quant
from ...io import ensure_dir, write_csv, write_json
from ..base import Precision
from ..run_common import RunFolder, RunOptions, save_npz
from .config import DecolleWorkload
from .precision import precision as precision_of
from .tracer import DecolleTracer
from .train import DecolleResult, dense_batch, run_window, train_decolle


def write_weights(path: Path, result: DecolleResult, precision: Precision) -> None:
    """Shadow weights (units of weight_mult), their stored integer codes, readouts, taus."""
    cfg, wb = result.cfg, precision.configured["weight_bits"]
    arrays: dict[str, np.ndarray] = {"weight_mult": np.array(cfg.weight_mult)}
    for k, layer in enumerate(result.net.layers, start=1):
        for key, value in (("w", layer.w), ("b", layer.b)):
            arrays[f"conv{k}_{key}_shadow"] = value.cpu().numpy()
            if wb is not None:
                code = quant.to_int(quant.quantize(value.cpu(), wb), wb)
                arrays[f"conv{k}_{key}_code"] = code.numpy().astype(np.int32)
        arrays[f"ro{k}_readout"] = layer.w_r.cpu().numpy()
        arrays[f"ro{k}_feedback"] = layer.feedback.cpu().numpy()
        arrays[f"conv{k}_tau_mem"] = layer.dyn.tau_mem.cpu().numpy()
        arrays[f"conv{k}_tau_syn"] = layer.dyn.tau_syn.cpu().numpy()
    save_npz(path, arrays)


def write_run(run_dir: Path, result: DecolleResult, precision: Precision, record: dict) -> dict:
    """Weights, metrics and run.json (``record``, :func:`~qsnn_mem.run_folder.start_record`,
    completed, ``status: writing``), in that order; returns run.json's record, which the
    caller marks ``done`` or ``interrupted`` once the trace is written."""
    ensure_dir(run_dir)
    write_weights(run_dir / "weights.npz", result, precision)
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
    tested = [m for m in result.metrics if "test_acc1" in m]
    last_layer = f"test_acc{len(result.net.layers)}"
    info = {
        **record,
        "device": str(result.net.device),
        "epochs_done": len(result.metrics),
        "interrupted": result.interrupted,
        "status": "writing",
        "best_val_acc": result.best_val,
        "evaled_test": tested[-1][last_layer] if tested else None,
        "samples": {
            "train": len(result.data.train.samples),
            "val": 0 if result.data.val is None else len(result.data.val.samples),
            "test": len(result.data.test.samples),
        },
        "wall_s": round(result.wall_s, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json(run_dir / "run.json", info)
    return info


def write_checkpoint(run_dir: Path, result: DecolleResult) -> None:
    """The metrics so far (called during training)."""
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))


def trace_inference(result: DecolleResult, tracer: DecolleTracer) -> None:
    """One batch of the test set (windows from the start), counted under phase ``infer``."""
    cfg, data = result.cfg, result.data
    idx = np.arange(min(cfg.batch_size, len(data.test.samples)))
    rng = np.random.default_rng(cfg.seed + 4)
    x = dense_batch([data.test.samples[i] for i in idx], cfg.steps_test, cfg.ds, data.size, rng,
                    False)  # fmt: skip
    y = torch.from_numpy(data.test.labels[idx])
    run_window(result.net, x, y, train=False, lr=0.0, hook=tracer.on_step, phase="infer")


def run_decolle(cfg: DecolleWorkload, run_dir: Path, **options: Any) -> DecolleResult:
    """Train ``cfg`` into ``run_dir``; with ``trace_mode`` count every access of training and
    of one test batch after it. ``on_epoch(result, row)`` is called after every epoch.
    ``run_dir`` holding another run is refused unless ``overwrite``
    (:func:`~qsnn_mem.run_folder.claim`; the options: :class:`~..run_common.RunOptions`)."""
    opts = RunOptions(**options)
    precision = precision_of(cfg)
    key = opts.key(cfg)
    tracer = None
    if opts.trace_mode is not None:
        tracer = DecolleTracer(cfg, precision, opts.trace_mode)
    folder = RunFolder(cfg, run_dir, key, precision, opts)
    result = train_decolle(
        cfg,
        on_epoch=folder.epoch_hook(tracer, write_checkpoint),
        on_step=None if tracer is None else tracer.on_step,
        on_start=None if tracer is None else (lambda r: tracer.bind(r.net)),
        precision=precision,
    )
    if tracer is not None and opts.infer and result.metrics:
        trace_inference(result, tracer)

    def write_outputs(path: Path, result: DecolleResult, record: dict) -> dict:
        return write_run(path, result, precision, record)

    counted = tracer if tracer is not None and tracer.train_samples else None
    folder.finish(result, write_outputs, counted)
    return result
