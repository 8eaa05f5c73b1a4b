"""A run folder: metrics.csv, run.json, weights.npz and figures, each written atomically."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__
from .errors import QsnnError
from .io import atomic_path, ensure_dir, write_csv, write_json
from .plots import loss_figure, raster_figure

if TYPE_CHECKING:
    from .train import TrainResult


def default_run_dir(cfg: Any, root: str | os.PathLike = "reports") -> Path:
    """``reports/<workload>/<precision tag>_seed<seed>``."""
    return Path(root) / cfg.name / f"{cfg.precision_tag}_seed{cfg.seed}"


def git_commit() -> str | None:
    """Commit of the source tree (an editable install) or else of the working directory."""
    for where in (Path(__file__).resolve().parent, Path.cwd()):
        try:
            out = subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=where
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


def versions() -> dict[str, str]:
    import numba
    import torch

    return {
        "qsnn_mem": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
    }


def write_checkpoint(run_dir: Path, result: TrainResult) -> None:
    """Metrics so far and the current weights (called during training and at the end)."""
    ensure_dir(run_dir)
    write_csv(run_dir / "metrics.csv", pd.DataFrame(result.metrics))
    write_weights(run_dir / "weights.npz", result)


def write_weights(path: Path, result: TrainResult) -> None:
    """Float shadow weights, forward scales, and the integer codes held in memory."""
    from . import quant

    net, bits = result.net, result.cfg.weight_bits
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


def write_run(run_dir: Path, result: TrainResult, command: str, extra: dict | None = None) -> None:
    """Everything a finished (or interrupted) run leaves behind."""
    cfg = result.cfg
    write_checkpoint(run_dir, result)
    if result.last is not None:
        output = result.last.layers[-1].spikes_out.cpu().numpy()
        target = result.target.cpu().numpy()
        epoch = len(result.metrics) - 1
        title = (
            f"{cfg.name} {cfg.precision_tag}, epoch {epoch}, loss {result.metrics[-1]['loss']:.1f}"
        )
        raster_figure(run_dir / "raster.png", output, target, title)
        frame = pd.DataFrame(result.metrics)
        loss_figure(
            run_dir / "loss.png", frame["epoch"].to_numpy(), frame["loss"].to_numpy(), cfg.name
        )
    info = {
        "command": command,
        "config": cfg.model_dump(mode="json"),
        "seed": cfg.seed,
        "device": str(result.net.device),
        "backend": result.net.backend,
        "epochs_done": len(result.metrics),
        "interrupted": result.interrupted,
        "wall_s": round(result.wall_s, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "versions": versions(),
    }
    info.update(extra or {})
    write_json(run_dir / "run.json", info)


def load_weights(path: str | os.PathLike, cfg: Any) -> list[tuple[np.ndarray, float]]:
    """Shadow weights and scales of a run folder (or its weights.npz), checked against ``cfg``."""
    source = Path(path)
    file = source / "weights.npz" if source.is_dir() else source
    if not file.is_file():
        raise QsnnError(f"{file}: weights file not found (give a run folder or its weights.npz)")
    try:
        with np.load(file) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError) as exc:
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
    wanted = -1 if cfg.weight_bits is None else cfg.weight_bits
    if stored != wanted:
        shown = "null" if stored == -1 else stored
        raise QsnnError(
            f"{file}: the weights were trained with weight_bits={shown}, the workload asks for "
            f"{cfg.weight_bits}; add --set weight_bits={shown}"
        )
    return out
