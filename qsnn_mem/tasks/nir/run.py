"""A NIR run: train (and trace) one workload into one folder, which then holds metrics.csv,
run.json, weights.npz, the raster and loss figures and, when traced, the trace files; written
as the smile task writes them (the most valuable first; run.json ``started``, ``writing``, then
``done`` or ``interrupted``). Also one traced inference with the weights of an earlier run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import QsnnError
from ...io import ensure_dir, write_csv, write_json
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
from .config import NirWorkload
from .data import load_input
from .model import NirNet
from .plots import loss_figure, raster_figure
from .precision import precision as precision_of
from .tracer import NirTracer
from .train import TrainResult, load, load_data, pick_device, train


def run(cfg: NirWorkload, run_dir: Path, **options: Any) -> TrainResult:
    """Train ``cfg`` into ``run_dir``, writing a checkpoint every ``cfg.checkpoint_every``
    epochs; with ``trace_mode`` count every access (training, then one inference of every
    sample with the trained weights if ``infer``). ``run_dir`` holding another run is refused
    unless ``overwrite`` (the options: :class:`~..run_common.RunOptions`)."""
    opts = RunOptions(**options)
    precision = precision_of(cfg)
    # The graph and the data are read and checked, and an impossible device or backend is
    # refused, before the folder is claimed.
    network = load(cfg)
    data = load_data(cfg, network)
    pick_device(cfg, network)
    key = opts.key(cfg)
    tracer = None
    if opts.trace_mode is not None:
        tracer = NirTracer(cfg, network, precision, opts.trace_mode)
    folder = RunFolder(cfg, run_dir, key, precision, opts)
    hook = folder.epoch_hook(tracer, write_checkpoint)
    on_sample = None if tracer is None else tracer.on_sample
    result = train(cfg, network, hook, on_sample=on_sample, precision=precision, data=data)
    if tracer is not None and opts.infer and result.metrics:
        tracer.trace_inference(result.net, result.x)
    counted = tracer if tracer is not None and tracer.train_samples else None
    folder.finish(result, write_run, counted)
    return result


def trace_saved_weights(
    cfg: NirWorkload, weights: str | os.PathLike, run_dir: Path, **options: Any
) -> NirTracer:
    """One inference of every sample with the weights of an earlier run (its folder or its
    weights.npz), counted into the trace folder ``run_dir``
    (:func:`~..run_common.traced_inference`, which takes the options)."""
    precision = precision_of(cfg)
    network = load(cfg)
    device, backend = pick_device(cfg, network)
    net = NirNet(network, cfg, precision, device, backend)
    loaded = load_weights(weights, net)
    x = load_input(cfg, network)

    def infer(trace_mode: str) -> NirTracer:
        net.load_shadow(loaded)
        tracer = NirTracer(cfg, network, precision, trace_mode)
        tracer.trace_inference(net, x)
        return tracer

    return traced_inference(cfg, weights, run_dir, infer, **options)


def write_checkpoint(run_dir: Path, result: TrainResult) -> None:
    ensure_dir(run_dir)
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
    write_weights(run_dir / "weights.npz", result.net)


def write_weights(path: Path, net: NirNet) -> None:
    """Per layer: float shadow weights, forward scale, and the integer codes held in memory."""
    bits = net.weight_bits
    names = [layer.name for layer in net.layers]
    arrays = {"weight_bits": np.array(-1 if bits is None else bits)}
    save_npz(path, arrays | weight_arrays(names, net.weights, net.scales, bits))


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
        "layers": net.network.layer_names,
        **ended(result),
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
    file, arrays = read_weight_arrays(path)
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
    check_weight_bits(file, arrays, net.weight_bits)
    return out
