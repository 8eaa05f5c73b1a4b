"""Run a workload end to end (train, optionally trace, write the run folder): one call for the
CLI, sweeps and scripts alike. The workload's task does the work (``tasks/<name>/run.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import tasks


def run_workload(
    cfg,
    run_dir: Path,
    *,
    trace_mode: str | None = "event",
    infer: bool = True,
    on_epoch: Callable | None = None,
    command: str = "",
    overwrite: bool = False,
):
    """Train ``cfg`` into ``run_dir``; with ``trace_mode`` count every access (training, then one
    inference with the trained weights if ``infer``). ``on_epoch(result, epoch_result)`` is
    called after every epoch (progress bars). The workload's task does the work.

    ``run_dir`` must not hold a run worth keeping (a finished run, or an unfinished one of
    another configuration: :func:`qsnn_mem.run_folder.claim`) unless ``overwrite``, which
    removes every file of that run first; callers with their own bookkeeping of what is done
    (a sweep resuming a point) pass ``overwrite=True``."""
    task = tasks.get(getattr(cfg, "task", tasks.DEFAULT))
    return task.run(
        cfg,
        run_dir,
        trace_mode=trace_mode,
        infer=infer,
        on_epoch=on_epoch,
        command=command,
        overwrite=overwrite,
    )
