"""Find the finished runs of a sweep folder, read their metrics, and price them on each arch.

What a run's metrics mean (its quality metric, per-layer values) is its task's business:
:func:`price` asks ``task.summarize``; nothing here names an experiment. Next to the configured
``weight_bits`` each run carries ``stored_weight_bits``, the bits a weight occupies in memory
and was priced at (run.json's ``precision.stored.weight``; for older run folders, the bits of
tensors.csv's weight rows), which can differ (DECOLLE stores its weights on the gradient grid).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import tasks
from ..contract import Trace, load_trace
from ..errors import QsnnError
from ..memory import tables
from ..memory.arch import Arch, load_arch
from ..memory.estimate import Evaluation, evaluate
from ..tasks import Task

MARKER = "point.json"  # qsnn_mem.sweep.point.MARKER, without importing the runner
INDEX = "sweep.csv"
TRACE_FILES = ("run.json", "metrics.csv", "accesses.csv", "tensors.csv", "trace.json")
# Config fields that never define a point (devices, bookkeeping); data paths come from the task.
NOT_AXES = {"seed", "name", "task", "device", "backend", "checkpoint_every", "cpu_threads"}
PRICE_COLUMNS = (
    "energy_per_epoch_J",
    "energy_per_inference_J",
    "train_J",
    "infer_J",
    "area_m2",
    "weight_area_m2",
    "leakage_W",
    "capacity_bits",
)


@dataclass
class Priced:
    """Runs (one row each), their traces, the archs, and one row per (run, arch)."""

    task: Task
    runs: pd.DataFrame
    traces: list[Trace]
    archs: list[Arch]
    summary: pd.DataFrame
    evaluation: Evaluation
    axes: list[str]  # config fields besides weight_bits and seed that vary across runs
    values: list[str]  # the task's summary values (quality column first)
    folder: Path = Path()  # the sweep folder priced


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


def _read(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """run.json, metrics.csv and tensors.csv of one finished run."""
    try:
        info = json.loads((folder / "run.json").read_text())
        metrics = pd.read_csv(folder / "metrics.csv")
        tensors = pd.read_csv(folder / "tensors.csv")
    except (OSError, ValueError, RecursionError) as exc:
        raise QsnnError(f"{folder}: unreadable run files: {exc}") from None
    if not isinstance(info, dict):
        raise QsnnError(f"{folder / 'run.json'}: not a JSON object (a run's record)")
    if info.get("interrupted"):
        raise QsnnError(f"{folder}: the run was interrupted; rerun it (or delete the folder)")
    return info, metrics, tensors


def _task_name(info: dict) -> str:
    return str(info.get("config", {}).get("task", tasks.DEFAULT))


def one_task(folders: list[Path], infos: list[dict]) -> Task:
    """The task of every run; runs of two tasks cannot share one report (their metrics,
    layers and figures differ)."""
    names = [_task_name(i) for i in infos]
    for folder, name in zip(folders, names, strict=True):
        if name != names[0]:
            raise QsnnError(
                f"{folders[0]} is a {names[0]} run but {folder} is a {name} run: a report "
                "covers the runs of one task (report them from separate folders)"
            )
    return tasks.get(names[0], f"{folders[0] / 'run.json'}: config.task")


def _flat(config: dict, prefix: str = "") -> dict:
    """Nested config sections as dotted columns (as ``--set`` names them); lists as JSON text,
    so that every value is hashable and prints the same in summary.csv."""
    out: dict = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, list) else value
    return out


def _summarize(task: Task, folder: Path, metrics: pd.DataFrame) -> dict[str, float]:
    where = folder / "metrics.csv"
    if metrics.empty:
        raise QsnnError(f"{where}: no epochs")
    try:
        values = task.summarize(metrics)
    except (KeyError, IndexError) as exc:
        raise QsnnError(f"{where}: not the metrics of a {task.name} run (missing {exc})") from None
    if task.quality.column not in values:
        raise QsnnError(f"{where}: no {task.quality.label} ({task.quality.column})")
    return values


def stored_weight_bits(folder: Path, info: dict, tensors: pd.DataFrame) -> int:
    """The bits a weight of the run occupies (and was priced at)."""
    stored = info.get("precision", {}).get("stored", {}).get("weight")
    if stored is not None:
        return int(stored)
    bits = tensors.loc[tensors["tensor"] == "weight", "bits"]
    if bits.empty:
        raise QsnnError(f"{folder / 'tensors.csv'}: no weight rows (cannot tell the weight bits)")
    return int(bits.max())


def _run_row(task: Task, folder: Path, info: dict, metrics, tensors) -> tuple[dict, list[str]]:
    """One row of the run table, and the names of the task's summary values in it."""
    config = _flat(info.get("config", {}))
    values = _summarize(task, folder, metrics)
    weights = tensors[tensors["tensor"] == "weight"]
    row = {"point": folder.name, "folder": str(folder), **config, **values}
    row["seed"] = info.get("seed", config.get("seed", 0))
    row["stored_weight_bits"] = stored_weight_bits(folder, info, tensors)
    row["weight_density"] = float(weights["nonzero"].sum() / max(weights["elements"].sum(), 1))
    row["epochs_done"] = len(metrics)
    return row, list(values)


def load_archs(paths: list[str | os.PathLike]) -> list[Arch]:
    if not paths:
        raise QsnnError("give at least one --arch (e.g. --arch arch/crossbar.yaml)")
    archs = [load_arch(p) for p in paths]
    names = [a.name for a in archs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise QsnnError(f"--arch: two organizations are named '{dup[0]}' (names must differ)")
    return archs


def weight_areas(ev: Evaluation) -> np.ndarray:
    """Per priced pair: the area of the arrays of its memories that hold weights (values and
    the encoding's metadata arrays)."""
    out = np.zeros(len(ev.pairs))
    for i, (arch, _) in enumerate(ev.pairs):
        weights = {m.name for m in arch.memories if m.holds_weights}
        area = tables.area_table(ev, i)
        out[i] = float(area.loc[area["memory"].isin(weights), "area_m2"].sum())
    return out


def _axes(task: Task, runs: pd.DataFrame, config_fields: list[str]) -> list[str]:
    """Config fields besides weight bits (the figures' x axis) that vary across the runs."""
    fixed = NOT_AXES | set(task.path_fields) | {"weight_bits"}
    return [
        c for c in config_fields if c not in fixed and runs[c].astype(str).nunique() > 1
    ]  # fmt: skip


def price(folder: str | os.PathLike, arch_paths: list[str | os.PathLike]) -> Priced:
    """Every finished run of ``folder`` on every arch, in one vectorised evaluation."""
    archs = load_archs(arch_paths)
    folders = find_runs(folder)
    read = [_read(f) for f in folders]
    task = one_task(folders, [info for info, _, _ in read])
    rows = [_run_row(task, f, *r) for f, r in zip(folders, read, strict=True)]
    runs = pd.DataFrame([row for row, _ in rows])
    config_fields = dict.fromkeys(k for info, _, _ in read for k in _flat(info.get("config", {})))
    values = list(dict.fromkeys([task.quality.column, *(n for _, ns in rows for n in ns)]))
    traces = [load_trace(f) for f in folders]
    ev = evaluate([(a, t) for t in traces for a in archs])
    priced = ev.summary()
    priced["weight_area_m2"] = weight_areas(ev)
    priced = priced[list(PRICE_COLUMNS)]
    keys = runs.loc[np.repeat(np.arange(len(runs)), len(archs))].reset_index(drop=True)
    keys.insert(2, "arch", [a.name for _ in traces for a in archs])
    summary = pd.concat([keys, priced.reset_index(drop=True)], axis=1)
    axes = _axes(task, runs, [c for c in config_fields if c not in values])
    front = ["point", "folder", "arch"]
    for name in (*task.precision_fields, "seed"):  # the stored bits next to the configured ones
        front += [name, "stored_weight_bits"] if name == "weight_bits" else [name]
    front = [c for c in front if c in summary]
    rest = ["stored_weight_bits", *axes, *PRICE_COLUMNS, *values, "weight_density", "epochs_done"]
    summary = summary[front + [c for c in dict.fromkeys(rest) if c not in front]]
    return Priced(task, runs, traces, archs, summary, ev, axes, values, Path(folder))
