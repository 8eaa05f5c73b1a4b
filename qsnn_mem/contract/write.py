"""Writing a trace folder: the only writer of accesses.csv, tensors.csv and trace.json.

What it is handed goes through the reader's checks first, so an invalid trace is refused with
the message the reader would give (naming the file it was to be written to) and never reaches
the disk. Each file is written atomically; trace.json, the mark of a complete trace, is removed
first and written last, so a folder interrupted half-way never passes for a trace.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..io import ensure_dir, write_csv, write_json
from .checks import check_tables
from .meta import check_meta
from .table import AccessTable
from .vocabulary import (
    ACCESS_COLUMNS,
    ACCESSES_FILE,
    FORMAT_VERSION,
    META_FILE,
    NEUROBENCH_FILE,
    TENSOR_COLUMNS,
    TENSORS_FILE,
)

RESERVED = ("format_version", "normalisers")  # trace.json fields the writer sets itself


def write_trace(
    folder: str | os.PathLike,
    accesses: pd.DataFrame | AccessTable,
    tensors: pd.DataFrame,
    normalisers: dict[str, int],
    meta: dict,
    neurobench: dict | None = None,
) -> Path:
    """Check and write a trace; ``meta`` holds trace.json's other fields (workload, mode, ...).

    Returns the folder. ``neurobench`` (workload metrics) goes to neurobench.json when given.
    """
    out = Path(folder)
    clash = [key for key in RESERVED if key in meta]
    if clash:
        raise ValueError(f"meta must not set {', '.join(clash)}: the trace writer sets them")
    if isinstance(accesses, AccessTable):
        accesses = accesses.to_frame()
    info = {"format_version": FORMAT_VERSION, **meta, "normalisers": dict(normalisers)}
    norm = check_meta(info, out / META_FILE)
    raw = (_table(accesses, ACCESS_COLUMNS), _table(tensors, TENSOR_COLUMNS))
    acc, ten = check_tables(out, *raw, norm)
    ensure_dir(out)
    (out / META_FILE).unlink(missing_ok=True)
    write_csv(out / ACCESSES_FILE, acc)
    write_csv(out / TENSORS_FILE, ten)
    if neurobench is not None:
        write_json(out / NEUROBENCH_FILE, neurobench)
    write_json(out / META_FILE, info)
    return out


def _table(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """A tracer that traced nothing hands an empty frame without columns: give it the columns."""
    if frame.empty and len(frame.columns) == 0:
        return pd.DataFrame(columns=list(columns))
    return frame
