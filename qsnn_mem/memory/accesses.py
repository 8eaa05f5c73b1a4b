"""Reading a trace folder (written by ``qsnn-mem trace``) into checked, typed tables.

The contract (format version 2): ``accesses.csv`` (phase, stage, layer, tensor, op, pattern,
traversal, bits, accesses, elements, nonzero), ``tensors.csv`` (layer, tensor, shape, rows, cols,
bits, elements, nonzero, kernel, unrolled_rows, unrolled_cols, unrolled_nonzero) and
``trace.json`` (format_version, workload, mode, normalisers). Only these are read; other files
and keys are ignored. ``traversal`` ``row`` / ``col`` rows are the two alternative counts of one
error propagation (backward weight reads, as a gather or a scatter); a trace has both or neither
for each (phase, layer). Kept torch-free: the estimator imports it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import QsnnError
from .arch import TENSORS

ACCESS_COLUMNS = (
    "phase",
    "stage",
    "layer",
    "tensor",
    "op",
    "pattern",
    "traversal",
    "bits",
    "accesses",
    "elements",
    "nonzero",
)
TENSOR_COLUMNS = (
    "layer",
    "tensor",
    "shape",
    "rows",
    "cols",
    "bits",
    "elements",
    "nonzero",
    "kernel",
    "unrolled_rows",
    "unrolled_cols",
    "unrolled_nonzero",
)
ALLOWED = {
    "phase": ("train", "infer"),
    "stage": ("forward", "backward", "update"),
    "op": ("read", "write"),
    "pattern": ("row", "col", "elem"),
    "traversal": ("any", "row", "col"),
    "tensor": TENSORS,
}
# Version of the trace files this reader understands (trace.json's "format_version").
FORMAT_VERSION = 2
VERSION_HINT = (
    "traces written before the traversal column lack the row-gather counts, re-run qsnn-mem trace"
)
# The one kind of row a traversal variant may be: (stage, tensor, op), pattern = traversal.
VARIANT_ROW = ("backward", "weight", "read")
INT_COLUMNS = ("bits", "accesses", "elements", "nonzero")
TENSOR_INT_COLUMNS = (
    "rows",
    "cols",
    "bits",
    "elements",
    "nonzero",
    "unrolled_rows",
    "unrolled_cols",
    "unrolled_nonzero",
)
NORMALISERS = ("train_epochs", "train_samples", "infer_samples", "time_steps")


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
    """Read and check a trace folder; any problem is a QsnnError naming file, field and value."""
    root = Path(folder)
    if not root.is_dir():
        raise QsnnError(f"trace folder {root} not found (expected the output of qsnn-mem trace)")
    # trace.json first: an old version is named as such, not as a missing column.
    meta, norm = _read_meta(root / "trace.json")
    acc = _read_csv(root / "accesses.csv", ACCESS_COLUMNS, INT_COLUMNS)
    ten = _read_csv(root / "tensors.csv", TENSOR_COLUMNS, TENSOR_INT_COLUMNS)
    _check_values(root / "accesses.csv", acc)
    _check_variants(root / "accesses.csv", acc)
    _check_values(root / "tensors.csv", ten[["tensor"]])
    ten["kernel"] = ten["kernel"].map(_as_bool(root / "tensors.csv"))
    _check_consistency(root, acc, ten)
    return Trace(
        str(root),
        str(meta.get("workload", root.name)),
        str(meta.get("mode", "event")),
        acc,
        ten,
        norm,
    )


def _read_meta(file: Path) -> tuple[dict, dict[str, int]]:
    """trace.json, checked: its format version and normalisers."""
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        meta = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise QsnnError(f"{file}: not valid JSON: {exc}") from None
    _check_version(file, meta)
    norm = meta.get("normalisers")
    if not isinstance(norm, dict):
        raise QsnnError(f"{file}: missing field 'normalisers'")
    for key in NORMALISERS:
        value = norm.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise QsnnError(
                f"{file}: field 'normalisers.{key}' = {value!r} (allowed: an integer >= 0)"
            )
    return meta, {k: int(norm[k]) for k in NORMALISERS}


def _check_version(file: Path, meta) -> None:
    if not isinstance(meta, dict):
        raise QsnnError(f"{file}: not a JSON object")
    version = meta.get("format_version", 1)  # version 1 had no such field
    if type(version) is not int or version != FORMAT_VERSION:
        raise QsnnError(
            f"{file}: field 'format_version' = {version!r} "
            f"(allowed: {FORMAT_VERSION}; {VERSION_HINT})"
        )


def _check_variants(file: Path, acc: pd.DataFrame) -> None:
    """Row/col variants only on backward weight reads of that pattern, and always in pairs."""
    variant = acc["traversal"] != "any"
    stage, tensor, op = VARIANT_ROW
    allowed = (
        (acc["stage"] == stage)
        & (acc["tensor"] == tensor)
        & (acc["op"] == op)
        & (acc["pattern"] == acc["traversal"])
    )
    misplaced = variant & ~allowed
    if misplaced.any():
        row = int(np.flatnonzero(misplaced)[0])
        raise QsnnError(
            f"{file}: column 'traversal' = {acc['traversal'].iloc[row]!r} in row {row + 2} "
            "(allowed: any; row and col only on backward weight reads of that pattern)"
        )
    present = acc[variant].groupby(["phase", "layer"])["traversal"].agg(frozenset)
    for (phase, layer), kinds in present.items():
        if len(kinds) < 2:
            (have,) = kinds
            lacking = "col" if have == "row" else "row"
            raise QsnnError(
                f"{file}: layer '{layer}' ({phase}) has a traversal '{have}' row but no "
                f"'{lacking}' row (both variants of an error propagation are needed)"
            )


def _read_csv(file: Path, columns: tuple[str, ...], ints: tuple[str, ...]) -> pd.DataFrame:
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        frame = pd.read_csv(file, dtype={"layer": str, "shape": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise QsnnError(f"{file}: not a readable CSV: {exc}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise QsnnError(
            f"{file}: missing column(s) {', '.join(missing)} (expected: {', '.join(columns)})"
        )
    for col in ints:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values != values.round())
        if bad.any():
            raise QsnnError(
                f"{file}: column '{col}' = {frame[col][bad].iloc[0]!r} in row "
                f"{int(np.flatnonzero(bad)[0]) + 2} (allowed: an integer >= 0)"
            )
        frame[col] = values.astype(np.int64)
    return frame


def _check_values(file: Path, frame: pd.DataFrame) -> None:
    for col, allowed in ALLOWED.items():
        if col not in frame.columns:
            continue
        bad = ~frame[col].isin(allowed)
        if bad.any():
            raise QsnnError(
                f"{file}: column '{col}' = {frame[col][bad].iloc[0]!r} in row "
                f"{int(np.flatnonzero(bad)[0]) + 2} (allowed: {', '.join(allowed)})"
            )


def _as_bool(file: Path):
    def convert(value) -> bool:
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise QsnnError(f"{file}: column 'kernel' = {value!r} (allowed: true, false)")

    return convert


def _check_consistency(root: Path, acc: pd.DataFrame, ten: pd.DataFrame) -> None:
    keys = set(zip(ten["layer"], ten["tensor"], strict=True))
    if len(keys) != len(ten):
        raise QsnnError(f"{root / 'tensors.csv'}: a (layer, tensor) pair is listed twice")
    for layer, tensor in zip(acc["layer"], acc["tensor"], strict=True):
        if (layer, tensor) not in keys:
            raise QsnnError(
                f"{root / 'accesses.csv'}: tensor '{layer}.{tensor}' has accesses but "
                "no row in tensors.csv"
            )
    over = acc["nonzero"] > acc["elements"]
    if over.any():
        raise QsnnError(
            f"{root / 'accesses.csv'}: nonzero > elements in row {int(np.flatnonzero(over)[0]) + 2}"
        )
    if (
        (ten["nonzero"] > ten["elements"])
        | (ten["unrolled_nonzero"] > ten["unrolled_rows"] * ten["unrolled_cols"])
    ).any():
        raise QsnnError(f"{root / 'tensors.csv'}: nonzero exceeds the tensor's size")
    for col in ("bits",):
        bad = (ten[col] < 1) | (ten[col] > 64)
        if bad.any():
            raise QsnnError(
                f"{root / 'tensors.csv'}: column 'bits' = {ten[col][bad].iloc[0]} (allowed: 1-64)"
            )
