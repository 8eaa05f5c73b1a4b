"""Run a sweep into a folder, resumably: finished points are skipped, the rest are run.

The sweep folder holds one run folder per point, ``sweep.yaml`` (the sweep, rerunnable),
``sweep.json`` (how it was run) and ``sweep.csv``: one row per point with its status, rewritten
atomically after every point, so it is right even if the sweep is killed.

Nothing is written before everything is checked: :func:`plan` reads only; :func:`run` takes the
folder's lock (:mod:`.lock`), checks the points again under it, and only then writes the index
files. A refused sweep leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .. import tasks
from ..errors import QsnnError
from ..io import write_csv, write_json, write_text
from .executors import check_executor, execute
from .lock import SweepLock
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
    trace_mode: str = "event"
    threads: int | None = 1
    command: str = ""


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
    """Expand the grid, check every point's folder, and list the jobs still to run. Writes
    nothing; raises a QsnnError if a point of the folder was done under other options."""
    points = expand(sweep)
    folder = Path(out) if out is not None else default_folder(sweep, points)
    if folder.exists() and not folder.is_dir():
        raise QsnnError(f"{folder}: exists and is not a folder")
    task = tasks.get(points[0].cfg.task)
    pl = Plan(sweep, task, folder, points, [], Summary(folder, 0), trace_mode, threads, command)
    _schedule(pl)
    return pl


def _schedule(pl: Plan) -> None:
    """Fill the plan's jobs and skipped points from what the folder holds now."""
    summary = Summary(pl.folder, len(pl.points))
    jobs, other = [], {}
    for p in pl.points:
        config = p.cfg.model_dump(mode="json")
        pfolder = pl.folder / p.id
        state = done_state(pfolder, config, pl.trace_mode)
        if state.kind == "done":
            summary.skipped.append(p.id)
        elif state.kind == "other":
            other[p.id] = state.why
        else:
            where = str(pfolder.resolve())
            args = (pl.trace_mode, pl.threads, pl.command)
            jobs.append(Job(p.id, where, p.cfg.task, config, p.values, p.grids, *args))
    if other:
        raise QsnnError(_other_options(pl.folder, other, len(pl.points)))
    pl.jobs, pl.summary = jobs, summary


def _other_options(folder: Path, other: dict[str, str], total: int) -> str:
    first, why = next(iter(other.items()))
    names = ", ".join(list(other)[:5]) + (", ..." if len(other) > 5 else "")
    return (
        f"{folder}: {len(other)} of {total} points are done under other options "
        f"({first}: {why}; done != asked); a point counts as done only for its exact "
        "configuration and mode, and a sweep never overwrites a finished point. Run with the "
        "options it was made with, give another --out, or delete the point folders to rerun "
        f"them: {names}"
    )


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
    on_start: Callable[[Plan], None] | None = None,
) -> Summary:
    """Run the plan's jobs; returns the summary (also when interrupted by Ctrl-C).

    Holds the folder's lock throughout: a second sweep into the folder is refused with a
    message naming this one. The points are checked again under the lock (``on_start`` then
    sees the final plan) before any file is written."""
    check_executor(executor, scheduler)
    lock = SweepLock(pl.folder).acquire(pl.command)
    try:
        _schedule(pl)
    except BaseException:
        lock.abandon()
        raise
    try:
        lease = lock.lease()
        pl.jobs = [replace(job, lease=lease) for job in pl.jobs]
        if on_start is not None:
            on_start(pl)
        return _run_locked(pl, executor, workers, scheduler, on_outcome)
    finally:
        lock.release()


def _run_locked(pl, executor, workers, scheduler, on_outcome) -> Summary:
    summary, outcomes = pl.summary, {}
    for name in (INDEX, "sweep.json", "sweep.yaml"):  # a killed sweep's temporaries: ours now
        for tmp in pl.folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()
    write_text(pl.folder / "sweep.yaml", dump_yaml(pl.sweep))
    write_json(
        pl.folder / "sweep.json",
        {
            "sweep": describe(pl.sweep),
            "executor": "dask" if scheduler else executor,
            "workers": workers,
            "scheduler": scheduler,
            "points": len(pl.points),
            "trace_mode": pl.trace_mode,
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
