"""A NIR run: train (and trace) one workload into one folder, which then holds metrics.csv,
run.json, weights.npz, the raster and loss figures and, when traced, the trace files; written
as the smile task writes them (the most valuable first; run.json ``started``, ``writing``, then
``done`` or ``interrupted``). Also one traced inference with the weights of an earlier run."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ... import quant
from ...errors import QsnnError
from ...io import atomic_path, ensure_dir, write_csv, write_json
from ...run_folder import claim, keeping, run_key, start_record, weights_digest
from ...trace.output import write_trace
from .config import NirWorkload
from .data import load_input
from .model import NirNet
from .plots import loss_figure, raster_figure
from .precision import precision as precision_of
from .tracer import NirTracer
from .train import TrainResult, load, load_data, pick_device, train


def run(
    cfg: NirWorkload,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
    overwrite: bool = False,
) -> TrainResult:
    """Train ``cfg`` into ``run_dir``, writing a checkpoint every ``cfg.checkpoint_every``
    epochs; with ``trace_mode`` count every access (training, then one inference of every
    sample with the trained weights if ``infer``). ``run_dir`` holding another run is refused
    unless ``overwrite``."""
    precision = precision_of(cfg)
    # The graph and the data are read and checked, and an impossible device or backend is
    # refused, before the folder is claimed.
    network = load(cfg)
    data = load_data(cfg, network)
    pick_device(cfg, network)
    key = run_key(cfg, trace_mode=trace_mode, infer=infer)
    tracer = NirTracer(cfg, network, precision, trace_mode) if trace_mode is not None else None
    run_dir = claim(run_dir, key, overwrite=overwrite)
    record = start_record(cfg, key, precision, command)

    def hook(result: TrainResult, passes) -> None:
        if tracer is not None:
            tracer.on_epoch()
        with keeping(run_dir):
            if len(result.metrics) == 1:  # from the first epoch on, run.json says what this is
                write_json(run_dir / "run.json", record)
            if len(result.metrics) % cfg.checkpoint_every == 0:
                write_checkpoint(run_dir, result)
        if on_epoch is not None:
            on_epoch(result, passes)

    on_sample = None if tracer is None else tracer.on_sample
    result = train(cfg, network, hook, on_sample=on_sample, precision=precision, data=data)
    if tracer is not None and infer and result.metrics:
        tracer.trace_inference(result.net, result.x)
    with keeping(run_dir):
        info = write_run(run_dir, result, record)
        if tracer is not None and tracer.train_samples:
            write_trace(run_dir, tracer, extra={"command": command}, key=key)
        info["status"] = "interrupted" if result.interrupted else "done"
        write_json(run_dir / "run.json", info)
    return result


def trace_saved_weights(
    cfg: NirWorkload,
    weights: str | os.PathLike,
    run_dir: Path,
    *,
    trace_mode: str = "event",
    command: str = "",
    overwrite: bool = False,
) -> NirTracer:
    """One inference of every sample with the weights of an earlier run (its folder or its
    weights.npz), counted into the trace folder ``run_dir``."""
    precision = precision_of(cfg)
    network = load(cfg)
    device, backend = pick_device(cfg, network)
    net = NirNet(network, cfg, precision, device, backend)
    loaded = load_weights(weights, net)
    x = load_input(cfg, network)
    key = run_key(cfg, trace_mode=trace_mode, weights=weights)
    run_dir = claim(run_dir, key, overwrite=overwrite)
    with torch.no_grad():
        for w, (shadow, _) in zip(net.weights, loaded, strict=True):
            w.copy_(torch.from_numpy(shadow))
    net.scales = [scale for _, scale in loaded]
    tracer = NirTracer(cfg, network, precision, trace_mode)
    tracer.trace_inference(net, x)
    write_trace(run_dir, tracer, extra={"weights": str(weights), "command": command}, key=key)
    return tracer


def write_checkpoint(run_dir: Path, result: TrainResult) -> None:
    ensure_dir(run_dir)
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
    write_weights(run_dir / "weights.npz", result.net)


def write_weights(path: Path, net: NirNet) -> None:
    """Per layer: float shadow weights, forward scale, and the integer codes held in memory."""
    bits = net.weight_bits
    arrays: dict[str, np.ndarray] = {"weight_bits": np.array(-1 if bits is None else bits)}
    for layer, w, scale in zip(net.layers, net.weights, net.scales, strict=True):
        shadow = w.detach().cpu()
        arrays[f"{layer.name}_shadow"] = shadow.numpy()
        arrays[f"{layer.name}_scale"] = np.array(scale)
        if bits is not None:
            code = quant.to_int(quant.quantize(shadow, bits), bits)
            arrays[f"{layer.name}_code"] = code.numpy().astype(np.int8 if bits <= 8 else np.int32)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def write_run(run_dir: Path, result: TrainResult, record: dict) -> dict:
    """Weights, metrics and run.json (``status: writing``) first, the figures after them."""
    cfg, net = result.cfg, result.net
    ensure_dir(run_dir)
    write_weights(run_dir / "weights.npz", net)
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
    info = {
        **record,
        "device": str(net.device),
        "backend": net.backend,
        "graph": cfg.graph,
        "graph_sha256": weights_digest(cfg.graph),  # also in the run key (data_sha256)
        "layers": net.network.layer_names,
        "epochs_done": len(result.metrics),
        "interrupted": result.interrupted,
        "status": "writing",
        "wall_s": round(result.wall_s, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json(run_dir / "run.json", info)
    if result.last:
        output = result.last[-1].layers[-1].out
        steps = output.shape[0]
        output = output.reshape(steps, -1)
        if cfg.target_kind == "classes":
            target = np.zeros_like(output)
            target[:, int(result.target[-1])] = 1.0  # the label's neuron, every step
        else:
            target = result.target[-1].reshape(steps, -1)
        epoch = len(result.metrics) - 1
        title = f"{cfg.name} {net.precision.tag}, epoch {epoch}, last sample"
        raster_figure(run_dir / "raster.png", output, target, title)
        label = "cross-entropy" if cfg.target_kind == "classes" else "van Rossum distance"
        loss_figure(run_dir / "loss.png", pd.DataFrame(result.metrics), label, cfg.name)
    return info


def load_weights(path: str | os.PathLike, net: NirNet) -> list[tuple[np.ndarray, float]]:
    """Shadow weights and scales of a run folder (or its weights.npz), checked against the
    network's layers and the workload's weight bits."""
    source = Path(path)
    file = source / "weights.npz" if source.is_dir() else source
    if not file.is_file():
        raise QsnnError(f"{file}: weights file not found (give a run folder or its weights.npz)")
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, AttributeError, zipfile.BadZipFile) as exc:
        raise QsnnError(f"{file}: not a readable weights .npz file ({exc})") from None
    out = []
    for layer in net.layers:
        key = f"{layer.name}_shadow"
        if key not in arrays:
            raise QsnnError(f"{file}: no '{key}' array (found: {', '.join(sorted(arrays))})")
        w = arrays[key]
        if w.shape != layer.weight.shape:
            raise QsnnError(
                f"{file}: '{key}' has shape {w.shape}, but the graph's layer needs "
                f"{layer.weight.shape} (the weights belong to another network)"
            )
        out.append((w.astype(np.float32), float(arrays.get(f"{layer.name}_scale", 1.0))))
    stored = int(arrays.get("weight_bits", -1))
    bits = net.weight_bits
    if stored != (-1 if bits is None else bits):
        shown = "null" if stored == -1 else stored
        raise QsnnError(
            f"{file}: the weights were trained with weight_bits={shown}, the workload asks for "
            f"{bits}; add --set weight_bits={shown}"
        )
    return out
