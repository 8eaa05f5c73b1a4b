"""A tracer's trace folder: its tables and metadata, written through the trace contract."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..contract import write_trace as write_files
from ..run_folder import RunKey


def write_trace(
    run_dir: Path,
    tracer: Any,
    final_weights=None,
    extra: dict | None = None,
    *,
    key: RunKey | None = None,
) -> None:
    """Write the trace files of a task's tracer: every tracer has ``cfg``, ``mode``,
    ``precision`` (the task's record), ``accesses()``, ``tensors(final_weights)``,
    ``normalisers()`` and ``workload_metrics()``. trace.json's ``precision`` is that record:
    tag, configured and stored bits. With the run's ``key``
    (:class:`~qsnn_mem.run_folder.RunKey`; every run passes it) trace.json records its
    ``config_hash``, ``phase`` and ``config``, the same as the run.json beside it, which is how
    ``qsnn-mem estimate`` knows the trace belongs to that run."""
    cfg = tracer.cfg
    record = asdict(tracer.precision)
    meta = {
        "workload": cfg.name,
        "task": cfg.task,
        "mode": tracer.mode,
        **({} if key is None else key.record()),
        "precision": record,
        "seed": cfg.seed,
        **(extra or {}),
    }
    meta.pop("trace_mode", None)  # trace.json's own name for it is "mode"
    if key is not None:
        meta["config"] = key.config  # a traced inference's folder has no run.json to say it
    write_files(
        run_dir,
        tracer.accesses(),
        tracer.tensors(final_weights),
        tracer.normalisers(),
        meta,
        neurobench=tracer.workload_metrics(),
    )
