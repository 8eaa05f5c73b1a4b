"""The files of a trace: accesses.csv, tensors.csv, trace.json and neurobench.json."""

from __future__ import annotations

from pathlib import Path

from ..io import write_csv, write_json
from .table import FORMAT_VERSION
from .tracer import SmileTracer


def write_trace(run_dir: Path, tracer: SmileTracer, final_weights=None, extra=None) -> None:
    """Write the trace files of a smile or DECOLLE tracer (they share this interface)."""
    tensors = tracer.tensors(final_weights)
    write_csv(run_dir / "accesses.csv", tracer.accesses())
    write_csv(run_dir / "tensors.csv", tensors)
    write_json(run_dir / "neurobench.json", tracer.workload_metrics())
    info = {
        "format_version": FORMAT_VERSION,
        "workload": tracer.cfg.name,
        "task": tracer.cfg.task,
        "mode": tracer.mode,
        "precision": tracer.cfg.precision_tag,
        "normalisers": tracer.normalisers(),
    }
    info.update(extra or {})
    write_json(run_dir / "trace.json", info)
