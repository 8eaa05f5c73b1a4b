"""``qsnn-mem train WORKLOAD.yaml``: train the quantized network and write a run folder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .. import interrupts, tasks
from ..errors import Interrupted
from ..run_folder import default_run_dir, run_key
from ..runner import run_workload
from ..workload import load_workload
from .app import app
from .common import OutOption, QuietOption, SetOption, console, progress_bar

OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace a run the output folder already holds (its files are removed first); "
        "without it such a folder is refused.",
    ),
]


@app.command("train")
def train_command(
    workload: Annotated[Path, typer.Argument(help="Workload YAML, e.g. workloads/smile.yaml.")],
    set_: SetOption = None,
    out: OutOption = None,
    overwrite: OverwriteOption = False,
    quiet: QuietOption = False,
) -> None:
    """Train the quantized spiking network of a workload (no access counting)."""
    cfg = load_workload(workload, set_ or [])
    run_dir = out or default_run_dir(cfg, run_key(cfg, trace_mode=None))
    command = shlex.join(["qsnn-mem", *sys.argv[1:]])
    result = run_with_progress(
        cfg, run_dir, quiet, trace_mode=None, command=command, overwrite=overwrite
    )
    report_finish(result, run_dir)


def run_with_progress(cfg, run_dir: Path, quiet: bool, **kwargs):
    """:func:`run_workload` with a progress bar (epoch, loss, ETA). Ctrl-C or SIGTERM stops
    training between steps (:mod:`..interrupts`); one after training lets the inference trace
    and the writing finish. Either way the result says ``interrupted``: the command exits 130."""
    with progress_bar(quiet) as bar, interrupts.deferred():
        task = bar.add_task(f"{cfg.name} {cfg.precision_tag}", total=cfg.nb_epochs, status="")

        def hook(result, res):
            bar.update(task, advance=1, status=f"loss {result.metrics[-1]['loss']:.1f}")

        result = run_workload(cfg, run_dir, on_epoch=hook, **kwargs)
        result.interrupted = result.interrupted or interrupts.requested()
        return result


def report_finish(result, run_dir: Path) -> None:
    m = result.metrics
    if result.interrupted:
        console.print(f"interrupted after {len(m)} epochs; results so far kept in {run_dir}")
    if m:
        console.print(
            f"{result.cfg.name} {result.cfg.precision_tag}: {len(m)} epochs in "
            f"{result.wall_s:.1f} s, loss {m[0]['loss']:.1f} -> {m[-1]['loss']:.1f} "
            f"(min {min(r['loss'] for r in m):.1f}){quality_text(result.cfg, m)}"
        )
    console.print(f"wrote {run_dir}")
    if result.interrupted:
        raise Interrupted  # exit 130, with the run folder written


def quality_text(cfg, metrics: list[dict]) -> str:
    """``, best accuracy of the last layer 0.81``: the task's own quality metric, which for
    some tasks (accuracy) says more than the loss."""
    task = tasks.get(cfg.task)
    value = task.summarize(pd.DataFrame(metrics)).get(task.quality.column, float("nan"))
    return "" if pd.isna(value) else f", {task.quality.label} {value:.3g}"
