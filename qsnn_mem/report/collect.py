"""Find the finished runs of a sweep folder, read their metrics, and price them on each arch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import QsnnError
from ..memory.accesses import Trace, load_trace
from ..memory.arch import Arch, load_arch
from ..memory.estimate import Evaluation, evaluate

MARKER = "point.json"  # qsnn_mem.sweep.point.MARKER, without importing the runner
INDEX = "sweep.csv"
TRACE_FILES = ("run.json", "metrics.csv", "accesses.csv", "tensors.csv", "trace.json")
PRECISIONS = ("weight_bits", "state_bits", "grad_bits", "error_bits")
# Config fields that never define a point (paths, devices, bookkeeping).
NOT_AXES = {"seed", "name", "task", "device", "backend", "input", "target", "checkpoint_every"}
PRICE_COLUMNS = (
    "energy_per_epoch_J",
    "energy_per_inference_J",
    "train_J",
    "infer_J",
    "area_m2",
    "leakage_W",
    "capacity_bits",
)


@dataclass
class Priced:
    """Runs (one row each), their traces, the archs, and one row per (run, arch)."""

    runs: pd.DataFrame
    traces: list[Trace]
    archs: list[Arch]
    summary: pd.DataFrame
    evaluation: Evaluation
    axes: list[str]  # config fields besides weight_bits and seed that vary across runs


def find_runs(folder: str | os.PathLike) -> list[Path]:
    """Run folders under ``folder``: sweep points with their done marker, or (outside a sweep)
    any subfolder holding a finished trace."""
    root = Path(folder)
    if not root.is_dir():
        raise QsnnError(f"{root}: folder not found (give a sweep folder, e.g. reports/smile)")
    sweep = (root / INDEX).is_file()
    out = []
    for sub in sorted(p for p in [root, *root.iterdir()] if p.is_dir()):
        if not all((sub / f).is_file() for f in TRACE_FILES):
            continue
        if sweep and not (sub / MARKER).is_file():
            continue  # a point a killed sweep left half-done
        out.append(sub)
    if not out:
        raise QsnnError(
            f"{root}: no finished runs (folders with {', '.join(TRACE_FILES)}"
            f"{' and ' + MARKER if sweep else ''}); run qsnn-mem sweep or trace first"
        )
    return out


def _run_row(folder: Path) -> dict:
    try:
        info = json.loads((folder / "run.json").read_text())
        metrics = pd.read_csv(folder / "metrics.csv")
        tensors = pd.read_csv(folder / "tensors.csv")
    except (OSError, ValueError) as exc:
        raise QsnnError(f"{folder}: unreadable run files: {exc}") from None
    if info.get("interrupted"):
        raise QsnnError(f"{folder}: the run was interrupted; rerun it (or delete the folder)")
    config = info.get("config", {})
    distance = "van_rossum" if "van_rossum" in metrics.columns else "loss"
    if metrics.empty or distance not in metrics.columns:
        raise QsnnError(f"{folder / 'metrics.csv'}: no epochs or no 'van_rossum'/'loss' column")
    weights = tensors[tensors["tensor"] == "weight"]
    row = {"point": folder.name, "folder": str(folder), **config}
    row["seed"] = info.get("seed", config.get("seed", 0))
    row["epochs"] = len(metrics)
    row["van_rossum_min"] = float(metrics[distance].min())
    row["loss_min"] = float(metrics["loss"].min()) if "loss" in metrics else np.nan
    last = metrics.iloc[-1]
    for layer in ("fc1", "fc2"):
        col = f"nonzero_w_{layer}"
        row[col] = float(last[col]) if col in metrics.columns else np.nan
    row["weight_density"] = float(weights["nonzero"].sum() / max(weights["elements"].sum(), 1))
    return row


def load_archs(paths: list[str | os.PathLike]) -> list[Arch]:
    if not paths:
        raise QsnnError("give at least one --arch (e.g. --arch arch/crossbar.yaml)")
    archs = [load_arch(p) for p in paths]
    names = [a.name for a in archs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise QsnnError(f"--arch: two organizations are named '{dup[0]}' (names must differ)")
    return archs


def price(folder: str | os.PathLike, arch_paths: list[str | os.PathLike]) -> Priced:
    """Every finished run of ``folder`` on every arch, in one vectorised evaluation."""
    archs = load_archs(arch_paths)
    folders = find_runs(folder)
    runs = pd.DataFrame([_run_row(f) for f in folders])
    traces = [load_trace(f) for f in folders]
    pairs = [(a, t) for t in traces for a in archs]
    ev = evaluate(pairs)
    priced = ev.summary()[list(PRICE_COLUMNS)]
    keys = runs.loc[np.repeat(np.arange(len(runs)), len(archs))].reset_index(drop=True)
    keys.insert(2, "arch", [a.name for _ in traces for a in archs])
    summary = pd.concat([keys, priced.reset_index(drop=True)], axis=1)
    axes = [
        c
        for c in runs.columns
        if c in _config_fields(runs) and c not in NOT_AXES and c != "weight_bits"
        and runs[c].astype(str).nunique() > 1
    ]  # fmt: skip
    front = [c for c in ("point", "folder", "arch", *PRECISIONS, "seed") if c in summary]
    rest = [*axes, *PRICE_COLUMNS, "van_rossum_min", "loss_min", "nonzero_w_fc1",
            "nonzero_w_fc2", "weight_density", "epochs"]  # fmt: skip
    rest = [c for c in dict.fromkeys(rest) if c not in front]
    summary = summary[front + rest]
    return Priced(runs, traces, archs, summary, ev, axes)


def _config_fields(runs: pd.DataFrame) -> set[str]:
    derived = {"point", "folder", "epochs", "van_rossum_min", "loss_min", "weight_density"}
    return {c for c in runs.columns if c not in derived and not c.startswith("nonzero_w_")}
