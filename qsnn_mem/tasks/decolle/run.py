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

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ... import quant
from ...io import atomic_path, ensure_dir, write_csv, write_json
from ...run_folder import claim, keeping, run_key, start_record
from ...trace.output import write_trace
from ..base import Precision
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
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


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


def trace_inference(result: DecolleResult, tracer: DecolleTracer) -> None:
    """One batch of the test set (windows from the start), counted under phase ``infer``."""
    cfg, data = result.cfg, result.data
    idx = np.arange(min(cfg.batch_size, len(data.test.samples)))
    rng = np.random.default_rng(cfg.seed + 4)
    x = dense_batch([data.test.samples[i] for i in idx], cfg.steps_test, cfg.ds, data.size, rng,
                    False)  # fmt: skip
    y = torch.from_numpy(data.test.labels[idx])
    run_window(result.net, x, y, train=False, lr=0.0, hook=tracer.on_step, phase="infer")


def run_decolle(
    cfg: DecolleWorkload,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
    overwrite: bool = False,
) -> DecolleResult:
    """Train ``cfg`` into ``run_dir``; with ``trace_mode`` count every access of training and
    of one test batch after it. ``on_epoch(result, row)`` is called after every epoch.
    ``run_dir`` holding another run is refused unless ``overwrite``
    (:func:`~qsnn_mem.run_folder.claim`)."""
    precision = precision_of(cfg)
    key = run_key(cfg, trace_mode=trace_mode, infer=infer)
    tracer = DecolleTracer(cfg, precision, trace_mode) if trace_mode is not None else None
    run_dir = claim(run_dir, key, overwrite=overwrite)  # fail before training, not after
    record = start_record(cfg, key, precision, command)

    def hook(result: DecolleResult, row: dict) -> None:
        if tracer is not None:
            tracer.on_epoch()
        with keeping(run_dir):
            if len(result.metrics) == 1:  # from the first epoch on, run.json says what this is
                write_json(run_dir / "run.json", record)
            if len(result.metrics) % cfg.checkpoint_every == 0:
                write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
        if on_epoch is not None:
            on_epoch(result, row)

    result = train_decolle(
        cfg,
        on_epoch=hook,
        on_step=None if tracer is None else tracer.on_step,
        on_start=None if tracer is None else (lambda r: tracer.bind(r.net)),
        precision=precision,
    )
    if tracer is not None and infer and result.metrics:
        trace_inference(result, tracer)
    with keeping(run_dir):
        info = write_run(run_dir, result, precision, record)
        if tracer is not None and tracer.train_samples:
            write_trace(run_dir, tracer, extra={"command": command}, key=key)
        info["status"] = "interrupted" if result.interrupted else "done"
        write_json(run_dir / "run.json", info)
    return result
