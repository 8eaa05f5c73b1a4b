"""``qsnn-mem train WORKLOAD.yaml``: train the quantized network and write a run folder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..config import load_workload
from ..io import ensure_dir
from ..runs import default_run_dir, write_checkpoint, write_run
from ..train import train
from .app import app
from .common import OutOption, QuietOption, SetOption, console, progress_bar


@app.command("train")
def train_command(
    workload: Annotated[Path, typer.Argument(help="Workload YAML, e.g. workloads/smile.yaml.")],
    set_: SetOption = None,
    out: OutOption = None,
    quiet: QuietOption = False,
) -> None:
    """Train the quantized spiking network of a workload (no access counting)."""
    cfg = load_workload(workload, set_ or [])
    run_dir = out or default_run_dir(cfg)
    result = run_training(cfg, run_dir, quiet)
    write_run(run_dir, result, command=shlex.join(["qsnn-mem", *sys.argv[1:]]))
    report_finish(result, run_dir)


def run_training(cfg, run_dir: Path, quiet: bool, on_epoch=None):
    """Train with a progress bar, writing a checkpoint every ``cfg.checkpoint_every`` epochs."""
    ensure_dir(run_dir)  # fail before training, not after
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"{cfg.name} {cfg.precision_tag}", total=cfg.nb_epochs, status="")

        def hook(result, res):
            bar.update(task, advance=1, status=f"loss {result.metrics[-1]['loss']:.1f}")
            if len(result.metrics) % cfg.checkpoint_every == 0:
                write_checkpoint(run_dir, result)
            if on_epoch is not None:
                on_epoch(result, res)

        return train(cfg, on_epoch=hook)


def report_finish(result, run_dir: Path) -> None:
    m = result.metrics
    if result.interrupted:
        console.print(f"interrupted after {len(m)} epochs; results so far kept in {run_dir}")
    if m:
        console.print(
            f"{result.cfg.name} {result.cfg.precision_tag}: {len(m)} epochs in "
            f"{result.wall_s:.1f} s, loss {m[0]['loss']:.1f} -> {m[-1]['loss']:.1f} "
            f"(min {min(r['loss'] for r in m):.1f})"
        )
    console.print(f"wrote {run_dir}")
