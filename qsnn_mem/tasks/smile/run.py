"""A smile run: train (and trace) one workload into one folder, which then holds metrics.csv,
run.json, weights.npz, the raster and loss figures and, when traced, the trace files; each
written atomically, the most valuable first (weights, metrics, run.json, then the figures and
the trace), so a write that fails (a full disk) keeps what came before it. Also one traced
inference with the weights of an earlier run.

The folder is claimed before training (:func:`qsnn_mem.run_folder.claim`: a folder holding
another run is refused unless ``overwrite``); run.json is written after the first epoch with
``status: started`` (before any checkpoint), completed with ``status: writing`` before the
figures and the trace, and marked ``done`` (or ``interrupted``) once every file is written
(:mod:`..run_common`, as every task's run).

``run.json`` records the run's precision under ``precision``: ``tag``, ``configured`` (the four
bit fields of the tag and ``rng_bits``) and ``stored`` (the bits each tensor occupies in memory,
:mod:`.precision`). The record is built once per run, here, and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...errors import QsnnError
from ...io import ensure_dir, write_csv, write_json
from ..base import Precision
from ..run_common import (
    RunFolder,
    RunOptions,
    check_weight_bits,
    ended,
    read_weight_arrays,
    save_npz,
    traced_inference,
    weight_arrays,
)
from .data import smile_input
from .distance import distance_per_loss
from .model import SmileNet
from .plots import loss_figure, raster_figure
from .precision import precision as precision_of
from .tracer import SmileTracer
from .train import TrainResult, pick_device, train


def run(cfg, run_dir: Path, **options: Any) -> TrainResult:
    """Train ``cfg`` into ``run_dir``, writing a checkpoint every ``cfg.checkpoint_every``
    epochs; with ``trace_mode`` count every access (training, then one inference with the
    trained weights if ``infer``). A traced run trains on the fused CPU kernels whatever
    ``device: auto`` would pick without tracing. ``run_dir`` holding another run is refused
    unless ``overwrite`` (the options: :class:`~..run_common.RunOptions`)."""
    opts = RunOptions(**options)
    precision = precision_of(cfg)
    key = opts.key(cfg)
    tracer = None
    train_cfg = cfg
    if opts.trace_mode is not None:
        device, backend = pick_device(cfg, trace=True)  # refuses cuda/autograd before any writing
        # Pin what tracing resolved, so that train() does not pick CUDA on a GPU machine.
        train_cfg = cfg.model_copy(update={"device": device.type, "backend": backend})
        tracer = SmileTracer(cfg, precision, opts.trace_mode)
    folder = RunFolder(cfg, run_dir, key, precision, opts)
    hook = folder.epoch_hook(tracer, write_checkpoint)
    result = train(train_cfg, on_epoch=hook, precision=precision)
    result.cfg = cfg  # run.json keeps the workload as written; its device/backend say what ran
    if tracer is not None and opts.infer and result.metrics:
        tracer.trace_inference(result.net, result.x)
    counted = tracer if tracer is not None and tracer.train_epochs else None
    weights = None if counted is None else result.net.forward_weights()
    folder.finish(result, write_run, counted, weights)
    return result


def trace_saved_weights(
    cfg, weights: str | os.PathLike, run_dir: Path, **options: Any
) -> SmileTracer:
    """One inference of the smile network with the weights of an earlier run (its folder or its
    weights.npz), counted into the trace folder ``run_dir`` (refused if it holds another run,
    unless ``overwrite``; :func:`~..run_common.traced_inference`, which takes the options)."""
    precision = precision_of(cfg)
    loaded = load_weights(weights, cfg, precision)

    def infer(trace_mode: str) -> SmileTracer:
        net = SmileNet(cfg, precision, torch.device("cpu"), "fused")
        net.load_shadow(loaded)
        tracer = SmileTracer(cfg, precision, trace_mode)
        tracer.trace_inference(net, torch.from_numpy(smile_input(cfg)))
        return tracer

    return traced_inference(cfg, weights, run_dir, infer, **options)


def write_checkpoint(run_dir: Path, result: TrainResult) -> None:
    """Metrics so far and the current weights (called during training and at the end)."""
    ensure_dir(run_dir)
    metrics = pd.DataFrame(result.metrics)
    write_csv(run_dir / "metrics.csv", metrics)
    write_weights(run_dir / "weights.npz", result)


def write_weights(path: Path, result: TrainResult) -> None:
    """Float shadow weights, forward scales, and the integer codes held in memory."""
    net = result.net
    bits = net.precision.configured["weight_bits"]
    names = [f"fc{k}" for k in range(1, len(net.weights) + 1)]
    arrays = weight_arrays(names, net.weights, net.scales, bits)
    arrays["weight_bits"] = np.array(-1 if bits is None else bits)
    save_npz(path, arrays)


def write_run(run_dir: Path, result: TrainResult, record: dict) -> dict:
    """Everything a finished (or interrupted) run leaves behind: weights, metrics and run.json
    (``record``, :func:`~qsnn_mem.run_folder.start_record`, completed, with ``status:
    writing``) first, the figures after them. Returns run.json's record; the caller marks it
    ``done`` or ``interrupted`` once the rest (the trace) is written."""
    cfg, precision = result.cfg, result.net.precision
    write_weights(run_dir / "weights.npz", result)
    metrics = pd.DataFrame(result.metrics)
    write_csv(run_dir / "metrics.csv", metrics)
    info = {
        **record,
        "device": str(result.net.device),
        "backend": result.net.backend,
        **ended(result),
    }
    write_json(run_dir / "run.json", info)
    if result.last is not None:
        output = result.last.layers[-1].spikes_out.cpu().numpy()
        target = result.target.cpu().numpy()
        epoch = len(result.metrics) - 1
        distance = result.metrics[-1]["van_rossum"]
        title = f"{cfg.name} {precision.tag}, epoch {epoch}, van Rossum distance {distance:.3g}"
        raster_figure(run_dir / "raster.png", output, target, title)
        per_loss = distance_per_loss(cfg.time_step, cfg.tau_syn, cfg.tau_vr)
        loss_figure(run_dir / "loss.png", metrics, per_loss, f"{cfg.name} {precision.tag}")
    return info


def load_weights(
    path: str | os.PathLike, cfg: Any, precision: Precision
) -> list[tuple[np.ndarray, float]]:
    """Shadow weights and scales of a run folder (or its weights.npz), checked against the
    workload's network sizes and weight bits."""
    file, arrays = read_weight_arrays(path)
    shapes = [(cfg.nb_inputs, cfg.nb_hidden), (cfg.nb_hidden, cfg.nb_outputs)]
    out = []
    for k, shape in enumerate(shapes, start=1):
        key = f"fc{k}_shadow"
        if key not in arrays:
            raise QsnnError(f"{file}: no '{key}' array (found: {', '.join(sorted(arrays))})")
        w = arrays[key]
        if w.shape != shape:
            raise QsnnError(
                f"{file}: '{key}' has shape {w.shape}, but the workload's network needs {shape} "
                "(nb_inputs, nb_hidden, nb_outputs must match the trained run)"
            )
        out.append((w.astype(np.float32), float(arrays.get(f"fc{k}_scale", 16.0))))
    check_weight_bits(file, arrays, precision.configured["weight_bits"])
    return out
