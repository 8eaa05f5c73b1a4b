"""``qsnn-mem trace WORKLOAD.yaml``: train (and infer) while counting every memory access."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import QsnnError
from ..io import ensure_dir
from ..runs import default_run_dir, load_weights
from ..workload import load_workload
from .app import app
from .common import Mode, ModeOption, OutOption, QuietOption, SetOption, console
from .train import report_finish, run_with_progress


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
    quiet: QuietOption = False,
) -> None:
    """Count every read and write of weights, states, spikes, errors and gradients."""
    cfg = load_workload(workload, set_ or [])
    command = shlex.join(["qsnn-mem", *sys.argv[1:]])
    if phase is Phase.infer:
        if cfg.task != "smile":
            raise QsnnError(f"--phase infer is available for smile workloads only, not {cfg.task}")
        if weights is None:
            raise QsnnError("--phase infer needs --weights RUN (a run folder or its weights.npz)")
        run_dir = out or default_run_dir(cfg).with_name(default_run_dir(cfg).name + "_infer")
        trace_inference_only(cfg, mode.value, weights, run_dir)
        console.print(f"traced one inference of {weights}; wrote {run_dir}")
        return
    if weights is not None:
        raise QsnnError("--weights is only used with --phase infer")
    run_dir = out or default_run_dir(cfg)
    result = run_with_progress(
        cfg, run_dir, quiet, trace_mode=mode.value, infer=phase is Phase.both, command=command
    )
    report_finish(result, run_dir)


def trace_inference_only(cfg, mode: str, weights: Path, run_dir: Path) -> None:
    """One inference of the smile network with saved weights, counted."""
    import torch

    from ..data.smile_data import smile_input
    from ..models.smile import SmileNet
    from ..trace import SmileTracer
    from ..trace.output import write_trace

    loaded = load_weights(weights, cfg)
    ensure_dir(run_dir)
    net = SmileNet(cfg, torch.device("cpu"), "fused")
    with torch.no_grad():
        for w, (shadow, _) in zip(net.weights, loaded, strict=True):
            w.copy_(torch.from_numpy(shadow))
        net.scales = [scale for _, scale in loaded]
    tracer = SmileTracer(cfg, mode)
    tracer.trace_inference(net, torch.from_numpy(smile_input(cfg)))
    write_trace(run_dir, tracer, extra={"weights": str(weights), "command": shlex.join(sys.argv)})
