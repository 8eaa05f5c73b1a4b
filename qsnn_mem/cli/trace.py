"""``qsnn-mem trace WORKLOAD.yaml``: train (and infer) while counting every memory access."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import tasks
from ..errors import QsnnError
from ..run_folder import default_run_dir, run_key
from ..workload import load_workload
from .app import app
from .common import Mode, ModeOption, OutOption, QuietOption, SetOption, console
from .train import OverwriteOption, report_finish, run_with_progress


class Phase(StrEnum):
    both = "both"
    train = "train"
    infer = "infer"


@app.command("trace")
def trace_command(
    workload: Annotated[Path, typer.Argument(help="Workload YAML, e.g. workloads/smile.yaml.")],
    mode: ModeOption = Mode.event,
    phase: Annotated[
        Phase, typer.Option(help="both: train, then one inference with the trained weights.")
    ] = Phase.both,
    weights: Annotated[
        Path | None, typer.Option(help="Run folder (or weights.npz) for --phase infer.")
    ] = None,
    set_: SetOption = None,
    out: OutOption = None,
    overwrite: OverwriteOption = False,
    quiet: QuietOption = False,
) -> None:
    """Count every read and write of weights, states, spikes, errors and gradients."""
    cfg = load_workload(workload, set_ or [])
    command = shlex.join(["qsnn-mem", *sys.argv[1:]])
    if phase is Phase.infer:
        trace_saved_weights = tasks.get(cfg.task).trace_saved_weights
        if trace_saved_weights is None:
            raise QsnnError(
                f"--phase infer (one traced inference with saved weights) is not available for "
                f"{cfg.task} workloads; use --phase both (train, then one inference)"
            )
        if weights is None:
            raise QsnnError("--phase infer needs --weights RUN (a run folder or its weights.npz)")
        key = run_key(cfg, trace_mode=mode.value, weights=weights)
        run_dir = out or default_run_dir(cfg, key)
        trace_saved_weights(
            cfg, weights, run_dir, trace_mode=mode.value, command=command, overwrite=overwrite
        )
        console.print(f"traced one inference of {weights}; wrote {run_dir}")
        return
    if weights is not None:
        raise QsnnError("--weights is only used with --phase infer")
    infer = phase is Phase.both
    run_dir = out or default_run_dir(cfg, run_key(cfg, trace_mode=mode.value, infer=infer))
    result = run_with_progress(
        cfg,
        run_dir,
        quiet,
        trace_mode=mode.value,
        infer=infer,
        command=command,
        overwrite=overwrite,
    )
    report_finish(result, run_dir)
