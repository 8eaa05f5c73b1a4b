"""Run a sweep into a folder, resumably: finished points are skipped, the rest are run.

The sweep folder holds one run folder per point, ``sweep.yaml`` (the sweep, rerunnable),
``sweep.json`` (how it was run) and ``sweep.csv``: one row per point with its status, rewritten
atomically after every point, so it is right even if the sweep is killed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .. import tasks
from ..errors import QsnnError
from ..io import ensure_dir, write_csv, write_json, write_text
from .executors import execute
from .point import MARKER, Job, Outcome, done_state
from .spec import Point, Sweep, describe, dump_yaml, expand

INDEX = "sweep.csv"


@dataclass
class Summary:
    """What a sweep invocation did."""

    folder: Path
    total: int
    skipped: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    stopped: bool = False  # by Ctrl-C or SIGTERM

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted and not self.stopped


@dataclass
class Plan:
    """The expanded sweep and what must run: made before anything runs, so bad input fails
    fast and the progress bar knows its total."""

    sweep: Sweep
    task: tasks.Task  # the workload's task: its precision fields head the index
    folder: Path
    points: list[Point]
    jobs: list[Job]
    summary: Summary


def default_folder(sweep: Sweep, points: list[Point]) -> Path:
    return Path("reports") / points[0].cfg.name


def plan(
    sweep: Sweep,
    out: str | os.PathLike | None = None,
    *,
    trace_mode: str = "event",
    threads: int | None = 1,
    command: str = "",
) -> Plan:
    """Expand the grid, check every point's folder, and list the jobs still to run."""
    points = expand(sweep)
    folder = ensure_dir(Path(out) if out is not None else default_folder(sweep, points))
    summary = Summary(folder, len(points))
    jobs = []
    for p in points:
        config = p.cfg.model_dump(mode="json")
        pfolder = folder / p.id
        try:
            done, _ = done_state(pfolder, config)
        except QsnnError as exc:
            summary.failed[p.id] = str(exc)
            continue
        if done:
            summary.skipped.append(p.id)
            continue
        jobs.append(
            Job(
                p.id,
                str(pfolder.resolve()),
                p.cfg.task,
                config,
                p.values,
                p.grids,
                trace_mode,
                threads,
                command,
            )
        )
    return Plan(sweep, tasks.get(points[0].cfg.task), folder, points, jobs, summary)


def index_frame(pl: Plan, outcomes: dict[str, Outcome]) -> pd.DataFrame:
    """One row per point: grids, the task's precision fields, other swept fields, seed,
    status, error."""
    precision = pl.task.precision_fields
    swept = sorted({f for p in pl.points for f in p.values} - set(precision))
    rows = []
    for p in pl.points:
        out = outcomes.get(p.id)
        if p.id in pl.summary.skipped:
            status, wall, error = "done", "", ""
        elif p.id in pl.summary.failed and out is None:
            status, wall, error = "failed", "", pl.summary.failed[p.id]
        elif out is None:
            status, wall, error = "pending", "", ""
        else:
            status = {"ran": "done"}.get(out.status, out.status)
            wall, error = round(out.wall_s, 3), out.error
        row = {"point": p.id, "grids": ";".join(p.grids), "seed": p.seed}
        row.update({f: getattr(p.cfg, f) for f in precision})
        row.update({f: getattr(p.cfg, f) for f in swept})
        row.update({"status": status, "wall_s": wall, "error": error, "folder": p.id})
        rows.append(row)
    return pd.DataFrame(rows)


def run(
    pl: Plan,
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    on_outcome: Callable[[Outcome, Summary], None] | None = None,
) -> Summary:
    """Run the plan's jobs; returns the summary (also when interrupted by Ctrl-C)."""
    summary, outcomes = pl.summary, {}
    write_text(pl.folder / "sweep.yaml", dump_yaml(pl.sweep))
    write_json(
        pl.folder / "sweep.json",
        {
            "sweep": describe(pl.sweep),
            "executor": "dask" if scheduler else executor,
            "workers": workers,
            "scheduler": scheduler,
            "points": len(pl.points),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "marker": MARKER,
        },
    )
    write_csv(pl.folder / INDEX, index_frame(pl, outcomes))
    start = time.perf_counter()

    def record(outcome: Outcome) -> None:
        outcomes[outcome.id] = outcome
        if outcome.status == "ran":
            summary.ran.append(outcome.id)
        elif outcome.status == "interrupted":
            summary.interrupted.append(outcome.id)
        else:
            summary.failed[outcome.id] = outcome.error
        write_csv(pl.folder / INDEX, index_frame(pl, outcomes))
        if on_outcome is not None:
            on_outcome(outcome, summary)

    try:
        execute(pl.jobs, record, executor=executor, workers=workers, scheduler=scheduler)
    finally:
        summary.wall_s = time.perf_counter() - start
        write_csv(pl.folder / INDEX, index_frame(pl, outcomes))
    return summary


def run_sweep(sweep: Sweep, out: str | os.PathLike | None = None, **kwargs) -> Summary:
    """:func:`plan` then :func:`run` (the library entry point)."""
    plan_keys = {"trace_mode", "threads", "command"}
    pl = plan(sweep, out, **{k: v for k, v in kwargs.items() if k in plan_keys})
    return run(pl, **{k: v for k, v in kwargs.items() if k not in plan_keys})
