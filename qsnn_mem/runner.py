"""Run a workload end to end (train, optionally trace, write the run folder): one call for the
CLI, sweeps and scripts alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import tasks
from .io import ensure_dir
from .runs import write_checkpoint, write_run
from .trace import SmileTracer
from .trace.output import write_trace
from .train import TrainResult, pick_device, train


def run_workload(
    cfg,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
):
    """Train ``cfg`` into ``run_dir``; with ``trace_mode`` count every access (training, then one
    inference with the trained weights if ``infer``). ``on_epoch(result, epoch_result)`` is
    called after every epoch (progress bars). The workload's task does the work."""
    task = tasks.get(getattr(cfg, "task", tasks.DEFAULT))
    return task.run(
        cfg, run_dir, trace_mode=trace_mode, infer=infer, on_epoch=on_epoch, command=command
    )


def run_smile(
    cfg,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
) -> TrainResult:
    """The smile task's run: checkpoints every ``cfg.checkpoint_every`` epochs. A traced run
    trains on the fused CPU kernels whatever ``device: auto`` would pick without tracing."""
    tracer = None
    train_cfg = cfg
    if trace_mode is not None:
        device, backend = pick_device(cfg, trace=True)  # refuses cuda/autograd before any writing
        # Pin what tracing resolved, so that train() does not pick CUDA on a GPU machine.
        train_cfg = cfg.model_copy(update={"device": device.type, "backend": backend})
        tracer = SmileTracer(cfg, trace_mode)
    ensure_dir(run_dir)  # fail before training, not after

    def hook(result, res):
        if tracer is not None:
            tracer.on_epoch(result, res)
        if len(result.metrics) % cfg.checkpoint_every == 0:
            write_checkpoint(run_dir, result)
        if on_epoch is not None:
            on_epoch(result, res)

    result = train(train_cfg, on_epoch=hook)
    result.cfg = cfg  # run.json keeps the workload as written; its device/backend say what ran
    if tracer is not None and infer and result.metrics:
        tracer.trace_inference(result.net, result.x)
    write_run(run_dir, result, command=command)
    if tracer is not None and tracer.train_epochs:
        write_trace(run_dir, tracer, result.net.forward_weights(), extra={"command": command})
    return result
