"""``qsnn-mem sweep WORKLOAD.yaml --grid weight=2,3 --trials 5``: a resumable precision sweep."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import sweep as sw
from .. import tasks
from ..sweep.executors import check_executor, check_scheduler
from ..sweep.spec import Sweep, check_grid, is_sweep_file, workload_task
from .app import app
from .common import Mode, ModeOption, OutOption, QuietOption, SetOption, console, progress_bar


class Executor(StrEnum):
    local = "local"
    dask = "dask"


# Short axis names of all tasks; each task maps them to its own fields (axis_aliases).
SHORT_AXES = ", ".join(dict.fromkeys(a for t in tasks.REGISTRY.values() for a in t.axis_aliases))
GridOption = Annotated[
    list[str] | None,
    typer.Option(
        "--grid",
        help=f"AXIS=V1,V2,...: {SHORT_AXES}, any workload field or seed "
        "name; tie axes with a comma (state,error=6,8). Several --grid: cross product. "
        "Replaces the grids of a sweep file.",
        metavar="AXIS=VALUES",
    ),
]


@app.command("sweep")
def sweep_command(
    file: Annotated[
        Path, typer.Argument(help="Workload YAML, or a sweep file (workload: + sweep: section).")
    ],
    grid: GridOption = None,
    trials: Annotated[
        int | None,
        typer.Option(min=1, help="Seeds per point: seed .. seed+N-1 (default 1, or the file's)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("-j", "--jobs", min=1, help="Points in parallel (default: 1; dask: cores)."),
    ] = None,
    executor: Annotated[
        Executor, typer.Option(help="local: process pool; dask: a new local Dask cluster.")
    ] = Executor.local,
    scheduler: Annotated[
        str | None, typer.Option(help="tcp://HOST:PORT of a running Dask scheduler (implies dask).")
    ] = None,
    mode: ModeOption = Mode.event,
    set_: SetOption = None,
    out: OutOption = None,
    quiet: QuietOption = False,
) -> None:
    """Train and trace every point of a grid of precisions (and seeds), skipping finished ones.

    Everything is checked (grids, workload, options, the folder's lock and its finished points)
    before any file is written: a refused sweep leaves the folder as it was."""
    spec = sw.read_sweep_file(file) if is_sweep_file(file) else Sweep(file, [], 1, {})
    spec.overrides = [*spec.overrides, *(set_ or [])]
    if grid:
        task = workload_task(spec.workload, spec.overrides)
        axes = [sw.parse_grid_option(g, task) for g in grid]
        check_grid(axes, "--grid")
        spec.grids, spec.source = {"grid": axes}, "--grid"
    if trials is not None:
        spec.trials = trials
    check_executor(executor.value, scheduler)
    if scheduler is not None:
        check_scheduler(scheduler)
    dask = scheduler is not None or executor is Executor.dask
    workers = jobs or (os.cpu_count() or 1 if dask else 1)
    command = shlex.join(["qsnn-mem", *sys.argv[1:]])
    # More points in parallel than cores: one torch thread each.
    threads = 1 if workers > 1 or dask else None
    pl = sw.plan(spec, out, trace_mode=mode.value, threads=threads, command=command)
    where = f"Dask at {scheduler}" if scheduler else ("a local Dask cluster" if dask else "")
    where = where or (f"{workers} processes" if workers > 1 else "this process")
    summary = _run_with_progress(pl, executor.value, workers, scheduler, quiet, where)
    _print_summary(summary)
    if not summary.ok:
        raise typer.Exit(1)


def _run_with_progress(
    pl, executor: str, workers: int, scheduler: str | None, quiet: bool, where: str
):
    with progress_bar(quiet or not pl.jobs) as bar:
        task = bar.add_task(f"sweep {pl.folder.name}", total=len(pl.jobs), status="")

        def start(pl) -> None:  # under the folder's lock, with the final list of jobs
            bar.console.print(
                f"sweep {pl.folder}: {len(pl.points)} points, {len(pl.summary.skipped)} "
                f"already done, {len(pl.jobs)} to run on {where}"
            )
            bar.update(task, total=len(pl.jobs))

        def hook(outcome, summary) -> None:
            failed = len(summary.failed) + len(summary.interrupted)
            bar.update(task, advance=1, status=f"{failed} failed, last {outcome.id}")
            if outcome.status != "ran":
                bar.console.print(f"[red]{outcome.status}[/] {outcome.id}: {outcome.error}")

        # SLURM and kill send SIGTERM: stop like Ctrl-C, so the summary and index are written.
        signal.signal(signal.SIGTERM, _as_interrupt)
        try:
            return sw.run(
                pl,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                on_outcome=hook,
                on_start=start,
            )
        except KeyboardInterrupt:
            pl.summary.stopped = True
            return pl.summary


def _as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _print_summary(summary) -> None:
    console.print(
        f"{len(summary.ran)} ran, {len(summary.skipped)} skipped (already done), "
        f"{len(summary.failed)} failed, {len(summary.interrupted)} interrupted, of "
        f"{summary.total} points in {summary.wall_s:.1f} s"
    )
    for pid, error in summary.failed.items():
        first = error.splitlines()[0] if error else ""
        console.print(f"  failed {pid}: {first}")
    console.print(f"index: {summary.folder / 'sweep.csv'}")
    if summary.stopped:
        console.print("stopped by Ctrl-C or SIGTERM")
    if not summary.ok:
        console.print("rerun the same command to retry what did not finish")
