"""The Python API: what the commands do, as functions for scripts and notebooks.

Every function here is the one the command line calls (``qsnn-mem trace`` runs
:func:`run`, ``estimate`` runs :func:`estimate` and :func:`save_estimate`, ``report`` runs
:func:`report`); docs/api.md walks through them as a notebook would. Paths may be given
wherever a loaded object is accepted.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__, estimate_folder
from .contract import Trace, load_trace
from .errors import QsnnError
from .io import staged_folder, write_csv, write_json
from .memory import breakdown, tables
from .memory import estimate as est
from .memory.accelergy.ert import Ert, load_ert
from .memory.accelergy.export import COUNT_FILES, export_accelergy
from .memory.arch import Arch, load_arch
from .memory.breakdown import Breakdown
from .report import build_report
from .report import draw as drawing
from .report.analysis import parse_at
from .report.build import Report
from .report.collect import Priced, price
from .result_folder import check_replaceable
from .run_folder import default_run_dir, run_key
from .runner import run_workload
from .workload import load_workload

PathLike = str | os.PathLike


def _workload(workload: Any, overrides: list[str] | None = None) -> Any:
    if isinstance(workload, str | os.PathLike):
        return load_workload(workload, overrides)
    if overrides:
        raise TypeError("overrides apply to a workload file; pass a path, or change the object")
    return workload


def run(
    workload: Any,
    out: PathLike | None = None,
    *,
    overrides: list[str] | None = None,
    trace: bool = True,
    mode: str = "event",
    infer: bool = True,
    overwrite: bool = False,
    on_epoch: Callable | None = None,
) -> Path:
    """Train a workload (a YAML path or :func:`load_workload`'s result) into ``out`` (default
    ``reports/<name>/<precision>_seed<seed>-<hash>``), counting every access if ``trace`` (then
    one traced inference with the trained weights if ``infer``). Returns the run folder, which
    :func:`load_trace` reads. ``on_epoch(result, epoch)`` is called after every epoch."""
    cfg = _workload(workload, overrides)
    trace_mode = mode if trace else None
    run_dir = Path(out) if out is not None else None
    if run_dir is None:
        run_dir = default_run_dir(cfg, run_key(cfg, trace_mode=trace_mode, infer=infer))
    run_workload(
        cfg, run_dir, trace_mode=trace_mode, infer=infer, on_epoch=on_epoch,
        command="qsnn_mem.api.run", overwrite=overwrite,
    )  # fmt: skip
    return run_dir


def _arch(arch: Arch | PathLike) -> Arch:
    return arch if isinstance(arch, Arch) else load_arch(arch)


def _trace(trace: Trace | PathLike) -> Trace:
    return trace if isinstance(trace, Trace) else load_trace(trace)


def _ert(ert: Ert | PathLike | None) -> Ert | None:
    return ert if ert is None or isinstance(ert, Ert) else load_ert(ert)


def evaluate(
    traces: Iterable[Trace | PathLike], archs: Iterable[Arch | PathLike], *, ert=None
) -> pd.DataFrame:
    """Price every trace in every organization: one row per (trace, arch) pair, with energy
    per training epoch and per inference, its memory/controller/datapath/leakage split,
    area, leakage power, capacity and run time (the columns of ``Evaluation.summary``).
    All pairs are computed together (10,000 pairs in well under a second)."""
    pairs = list(product([_trace(t) for t in traces], [_arch(a) for a in archs]))
    if not pairs:
        raise ValueError("evaluate needs at least one trace and one arch")
    return est.evaluate([(a, t) for t, a in pairs], ert=_ert(ert)).summary()


@dataclass
class Estimate:
    """One trace priced in one organization: what ``qsnn-mem estimate`` prints and writes."""

    arch: Arch
    trace: Trace
    evaluation: est.Evaluation
    energy: pd.DataFrame  # energy.csv: one row per (access row, array, component)
    area: pd.DataFrame  # area.csv: one row per array
    summary: dict[str, Any]  # per-epoch and per-inference totals and their split
    breakdown: Breakdown  # memory x stage, top contributors, per-array costs
    ert: str | None = None  # the user's ERT file the costs came from, if any

    def contributors(self, phase: str = "train", top: int | None = 10) -> pd.DataFrame:
        """The largest (layer, tensor, stage, op) contributors of ``phase`` with their share."""
        ranked = self.breakdown.contributors
        ranked = ranked[ranked["phase"] == phase]
        return ranked if top is None else ranked[ranked["rank"] <= top]


def estimate(arch: Arch | PathLike, trace: Trace | PathLike, *, ert=None) -> Estimate:
    """Price one trace in one organization (``ert``: a user's Accelergy ERT file or
    :func:`load_ert` result, replacing the built-in costs of the components it names)."""
    spec, counted, costs = _arch(arch), _trace(trace), _ert(ert)
    ev = est.evaluate([(spec, counted)], ert=costs)
    energy, area = tables.energy_table(ev), tables.area_table(ev)
    summary = ev.summary().iloc[0].to_dict()
    report = breakdown.breakdown(ev, energy=energy, area=area, summary=summary)
    path = None if costs is None else str(costs.path)
    return Estimate(spec, counted, ev, energy, area, summary, report, path)


def save_estimate(
    result: Estimate,
    folder: PathLike | None = None,
    *,
    info: dict[str, Any] | None = None,
    overwrite: bool = False,
    export: str | None = None,
) -> Path:
    """Write energy.csv, area.csv, run.json (with ``info``), stages.csv, contributors.csv,
    arrays.csv and summary.json (and, with ``export``, that format's files in a subfolder of
    that name) into ``folder``, default ``reports/estimate/<trace>-<arch>-<key>``, where the
    key hashes the organization, the trace's files and the ERT. The folder is written whole
    and put in place at once; one holding another estimate is refused unless ``overwrite``,
    one holding other files always. Returns the folder."""
    key = estimate_folder.estimate_key(result.arch, result.trace, result.ert)
    root = Path(folder) if folder is not None else None
    root = root or estimate_folder.default_folder(result.arch, result.trace, key)
    estimate_folder.check_folder(root, key, overwrite)
    if export is not None and export not in estimate_folder.EXPORTS:
        raise QsnnError(f"export format {export!r} (allowed: accelergy)")
    record = {
        "command": "estimate",
        "estimate_key": key,
        **(info or {}),
        "ert": result.ert,
        "arch": result.arch.model_dump(),
        "trace": str(result.trace.folder),
        "summary": result.summary,
        "versions": {"qsnn_mem": __version__, "python": platform.python_version()},
    }
    report = result.breakdown
    with staged_folder(root) as stage:
        write_csv(stage / "energy.csv", result.energy)
        write_csv(stage / "area.csv", result.area)
        write_csv(stage / "stages.csv", report.stages)
        write_csv(stage / "contributors.csv", report.contributors)
        write_csv(stage / "arrays.csv", report.arrays)
        write_json(stage / "summary.json", breakdown.as_dict(report))
        if export is not None:
            export_accelergy(result.evaluation, 0, stage / export)
        write_json(stage / "run.json", record)
    return root


def export(result: Estimate, folder: PathLike, fmt: str = "accelergy") -> list[Path]:
    """Write the priced run for another tool into ``folder`` (absent, empty, or an earlier
    export; written whole); ``accelergy``: ERT.yaml, ART.yaml, the action counts of each
    phase and a v0.4 architecture.yaml (docs/accelergy.md)."""
    if fmt not in estimate_folder.EXPORTS:
        raise QsnnError(f"export format {fmt!r} (allowed: accelergy)")
    target = Path(folder)
    check_replaceable(target, "export", {"ERT.yaml", "ART.yaml", "architecture.yaml",
                                         *COUNT_FILES.values()})  # fmt: skip
    with staged_folder(target) as stage:
        written = export_accelergy(result.evaluation, 0, stage)
    return [target / p.name for p in written]


def price_sweep(folder: PathLike, archs: list[PathLike]) -> Priced:
    """Every run of a sweep folder priced in every organization (the report's tables)."""
    return price(folder, list(archs))


def figures(priced: Priced) -> list[str]:
    """The report figures that apply to the priced runs' task (names for :func:`draw`)."""
    return drawing.available(priced)


def draw(
    priced: Priced, name: str, ax=None, *, at: list[str] | None = None, point: str | None = None
):
    """Draw report figure ``name`` (see :func:`figures`) of :func:`price_sweep`'s result into
    ``ax``: one matplotlib Axes, or a pair of them for ``energy_vs_bits`` (per epoch, per
    inference), or a Figure/SubFigure for ``breakdown``; a new figure if None. ``at`` holds
    the other axes of a bitwidth figure (``["state=8"]``), ``point`` names the run of the
    breakdown. Returns the figure drawn into, exactly as ``qsnn-mem report`` saves it."""
    chosen = parse_at(at or [], priced.task)
    return drawing.draw(priced, name, ax=ax, chosen=chosen, point=point)


def report(
    sweep_dir: PathLike,
    archs: list[PathLike],
    out: PathLike | None = None,
    *,
    at: list[str] | None = None,
    point: str | None = None,
) -> Report:
    """``qsnn-mem report``: figures, summary.csv, report.md and report.html of a sweep
    (default folder ``SWEEP_DIR/report``); ``Report.figures`` holds the matplotlib figures."""
    return build_report(sweep_dir, list(archs), out, at=at, point=point)


__all__ = [
    "Arch",
    "Estimate",
    "Trace",
    "draw",
    "estimate",
    "evaluate",
    "export",
    "figures",
    "load_arch",
    "load_ert",
    "load_trace",
    "load_workload",
    "price_sweep",
    "report",
    "run",
    "save_estimate",
]
