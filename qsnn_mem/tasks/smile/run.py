"""A smile run: train (and trace) one workload into one folder, which then holds metrics.csv,
run.json, weights.npz, the raster and loss figures and, when traced, the trace files; each
written atomically, the most valuable first (weights, metrics, run.json, then the figures and
the trace), so a write that fails (a full disk) keeps what came before it. Also one traced
inference with the weights of an earlier run.

The folder is claimed before training (:func:`qsnn_mem.run_folder.claim`: a folder holding
another run is refused unless ``overwrite``); run.json is written after the first epoch with
``status: started`` (before any checkpoint), completed with ``status: writing`` before the
figures and the trace, and marked ``done`` (or ``interrupted``) once every file is written.

``run.json`` records the run's precision under ``precision``: ``tag``, ``configured`` (the four
bit fields of the tag and ``rng_bits``) and ``stored`` (the bits each tensor occupies in memory,
:mod:`.precision`). The record is built once per run, here, and passed down."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ... import quant
from ...errors import QsnnError
from ...io import atomic_path, ensure_dir, write_csv, write_json
from ...run_folder import claim, keeping, run_key, start_record
from ...trace.output import write_trace
from ..base import Precision
from .data import smile_input
from .distance import distance_per_loss
from .model import SmileNet
from .plots import loss_figure, raster_figure
from .precision import precision as precision_of
from .tracer import SmileTracer
from .train import TrainResult, pick_device, train


def run(
    cfg,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
    overwrite: bool = False,
) -> TrainResult:
    """Train ``cfg`` into ``run_dir``, writing a checkpoint every ``cfg.checkpoint_every``
    epochs; with ``trace_mode`` count every access (training, then one inference with the
    trained weights if ``infer``). A traced run trains on the fused CPU kernels whatever
    ``device: auto`` would pick without tracing. ``run_dir`` holding another run is refused
    unless ``overwrite`` (:func:`~qsnn_mem.run_folder.claim`)."""
    precision = precision_of(cfg)
    key = run_key(cfg, trace_mode=trace_mode, infer=infer)
    tracer = None
    train_cfg = cfg
    if trace_mode is not None:
        device, backend = pick_device(cfg, trace=True)  # refuses cuda/autograd before any writing
        # Pin what tracing resolved, so that train() does not pick CUDA on a GPU machine.
        train_cfg = cfg.model_copy(update={"device": device.type, "backend": backend})
        tracer = SmileTracer(cfg, precision, trace_mode)
    run_dir = claim(run_dir, key, overwrite=overwrite)  # fail before training, not after
    record = start_record(cfg, key, precision, command)

    def hook(result, res):
        if tracer is not None:
            tracer.on_epoch(result, res)
        with keeping(run_dir):
            if len(result.metrics) == 1:  # from the first epoch on, run.json says what this is
                write_json(run_dir / "run.json", record)
            if len(result.metrics) % cfg.checkpoint_every == 0:
                write_checkpoint(run_dir, result)
        if on_epoch is not None:
            on_epoch(result, res)

    result = train(train_cfg, on_epoch=hook, precision=precision)
    result.cfg = cfg  # run.json keeps the workload as written; its device/backend say what ran
    if tracer is not None and infer and result.metrics:
        tracer.trace_inference(result.net, result.x)
    with keeping(run_dir):
        info = write_run(run_dir, result, record)
        if tracer is not None and tracer.train_epochs:
            weights = result.net.forward_weights()
            write_trace(run_dir, tracer, weights, {"command": command}, key=key)
        info["status"] = "interrupted" if result.interrupted else "done"
        write_json(run_dir / "run.json", info)
    return result


def trace_saved_weights(
    cfg,
    weights: str | os.PathLike,
    run_dir: Path,
    *,
    trace_mode: str = "event",
    command: str = "",
    overwrite: bool = False,
) -> SmileTracer:
    """One inference of the smile network with the weights of an earlier run (its folder or its
    weights.npz), counted into the trace folder ``run_dir`` (refused if it holds another run,
    unless ``overwrite``)."""
    precision = precision_of(cfg)
    loaded = load_weights(weights, cfg, precision)
    key = run_key(cfg, trace_mode=trace_mode, weights=weights)
    run_dir = claim(run_dir, key, overwrite=overwrite)
    net = SmileNet(cfg, precision, torch.device("cpu"), "fused")
    with torch.no_grad():
        for w, (shadow, _) in zip(net.weights, loaded, strict=True):
            w.copy_(torch.from_numpy(shadow))
        net.scales = [scale for _, scale in loaded]
    tracer = SmileTracer(cfg, precision, trace_mode)
    tracer.trace_inference(net, torch.from_numpy(smile_input(cfg)))
    write_trace(run_dir, tracer, extra={"weights": str(weights), "command": command}, key=key)
    return tracer


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
    arrays: dict[str, np.ndarray] = {}
    for k, (w, scale) in enumerate(zip(net.weights, net.scales, strict=True), start=1):
        shadow = w.detach().cpu()
        arrays[f"fc{k}_shadow"] = shadow.numpy()
        arrays[f"fc{k}_scale"] = np.array(scale)
        if bits is not None:
            code = quant.to_int(quant.quantize(shadow, bits), bits)
            arrays[f"fc{k}_code"] = code.numpy().astype(np.int8 if bits <= 8 else np.int32)
    arrays["weight_bits"] = np.array(-1 if bits is None else bits)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


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
        "epochs_done": len(result.metrics),
        "interrupted": result.interrupted,
        "status": "writing",
        "wall_s": round(result.wall_s, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
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
    source = Path(path)
    file = source / "weights.npz" if source.is_dir() else source
    if not file.is_file():
        raise QsnnError(f"{file}: weights file not found (give a run folder or its weights.npz)")
    try:
        data = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable weights file ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise QsnnError(
            f"{file}: a single array, not a weights .npz (give a run folder or its weights.npz)"
        )
    try:
        with data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable weights file ({exc})") from None
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
    stored = int(arrays.get("weight_bits", -1))
    bits = precision.configured["weight_bits"]
    wanted = -1 if bits is None else bits
    if stored != wanted:
        shown = "null" if stored == -1 else stored
        raise QsnnError(
            f"{file}: the weights were trained with weight_bits={shown}, the workload asks for "
            f"{bits}; add --set weight_bits={shown}"
        )
    return out
