"""Reading a trace folder into checked, typed tables: the estimator's only way in.

Only the contract's files, columns and trace.json fields are read; other files, columns and
keys are ignored. Any problem is a QsnnError naming the file, the field and the value.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import QsnnError
from .checks import check_tables
from .meta import check_meta
from .vocabulary import ACCESSES_FILE, META_FILE, MODES, TENSORS_FILE


@dataclass(frozen=True)
class Trace:
    """A loaded trace: the access table, the tensor table and the run's normalisers."""

    folder: str
    workload: str
    mode: str
    accesses: pd.DataFrame
    tensors: pd.DataFrame
    normalisers: dict[str, int]


def load_trace(folder: str | os.PathLike) -> Trace:
    """Read and check a trace folder (written by :func:`qsnn_mem.contract.write_trace`)."""
    root = Path(folder)
    if not root.is_dir():
        raise QsnnError(f"trace folder {root} not found (expected the output of qsnn-mem trace)")
    # trace.json first: an old version is named as such, not as a missing column.
    meta = read_json(root / META_FILE)
    norm = check_meta(meta, root / META_FILE)
    raw = (_read_csv(root / ACCESSES_FILE), _read_csv(root / TENSORS_FILE))
    acc, ten = check_tables(root, *raw, norm)
    return Trace(
        str(root), meta.get("workload", root.name), meta.get("mode", MODES[0]), acc, ten, norm
    )


def read_json(file: Path):
    """A JSON file's value; a missing, binary or malformed file is a QsnnError."""
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise QsnnError(f"{file}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise QsnnError(f"{file}: not UTF-8 text (is it a binary file?)") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise QsnnError(f"{file}: not valid JSON: {exc}") from None


def _read_csv(file: Path) -> pd.DataFrame:
    """Every cell as text: the checks parse counts exactly, so nothing is rounded on the way."""
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        return pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise QsnnError(f"{file}: not a readable CSV: {exc}") from None
