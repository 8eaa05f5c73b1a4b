"""A tracer's trace folder: its tables and metadata, written through the trace contract."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..contract import write_trace as write_files


def write_trace(run_dir: Path, tracer: Any, final_weights=None, extra=None) -> None:
    """Write the trace files of a task's tracer: every tracer has ``cfg``, ``mode``,
    ``precision`` (the task's record), ``accesses()``, ``tensors(final_weights)``,
    ``normalisers()`` and ``workload_metrics()``. trace.json's ``precision`` is that record:
    tag, configured and stored bits."""
    cfg = tracer.cfg
    record = asdict(tracer.precision)
    meta = {
        "workload": cfg.name,
        "task": cfg.task,
        "mode": tracer.mode,
        "precision": record,
        **(extra or {}),
    }
    write_files(
        run_dir,
        tracer.accesses(),
        tracer.tensors(final_weights),
        tracer.normalisers(),
        meta,
        neurobench=tracer.workload_metrics(),
    )
