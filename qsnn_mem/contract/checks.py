"""Checks of accesses.csv and tensors.csv, the same for the reader and the writer.

Each check takes a table as read from (or about to be written to) ``file`` and either returns
it typed (counts int64, ``kernel`` bool, the contract's columns only, in order) or raises a
QsnnError naming the file, the column, the value, the row (as numbered in the CSV file, the
header being row 1) and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import QsnnError
from .meta import check_normalisers
from .vocabulary import (
    ACCESS_COLUMNS,
    ACCESSES_FILE,
    BITS_RANGE,
    COUNT_COLUMNS,
    META_FILE,
    TENSOR_COLUMNS,
    TENSOR_COUNT_COLUMNS,
    TENSORS_FILE,
    VARIANT_ROW,
    VOCABULARY,
)

INT64_MAX = int(np.iinfo(np.int64).max)
COUNT_RANGE = (0, INT64_MAX)
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def accesses_table(frame: pd.DataFrame, file: Path) -> pd.DataFrame:
    """accesses.csv, typed and checked on its own."""
    frame = _columns(frame, file, ACCESS_COLUMNS)
    _words(frame, file)
    _layers(frame, file)
    frame["bits"] = _integers(frame, file, "bits", BITS_RANGE)
    for col in COUNT_COLUMNS:
        frame[col] = _integers(frame, file, col, COUNT_RANGE, total=True)
    _first_bad(file, frame["nonzero"] > frame["elements"], "nonzero > elements")
    _variants(frame, file)
    return frame


def tensors_table(frame: pd.DataFrame, file: Path) -> pd.DataFrame:
    """tensors.csv, typed and checked."""
    frame = _columns(frame, file, TENSOR_COLUMNS)
    _words(frame, file)
    _layers(frame, file)
    frame["bits"] = _integers(frame, file, "bits", BITS_RANGE)
    for col in TENSOR_COUNT_COLUMNS:
        frame[col] = _integers(frame, file, col, COUNT_RANGE)
    frame["kernel"] = [_boolean(file, v, i) for i, v in enumerate(frame["kernel"].tolist())]
    if frame.duplicated(["layer", "tensor"]).any():
        raise QsnnError(f"{file}: a (layer, tensor) pair is listed twice")
    # Python ints: rows × cols may exceed int64 where each factor does not.
    sizes = (frame[c].tolist() for c in ("unrolled_nonzero", "unrolled_rows", "unrolled_cols"))
    too_many = [n > r * c for n, r, c in zip(*sizes, strict=True)]
    over = (frame["nonzero"] > frame["elements"]).to_numpy() | np.array(too_many, dtype=bool)
    if over.any():
        raise QsnnError(f"{file}: nonzero exceeds the tensor's size in row {_row(over)}")
    return frame


def check_tables(
    folder: Path, accesses: pd.DataFrame, tensors: pd.DataFrame, normalisers: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables, typed and checked on their own, against each other and the normalisers."""
    acc = accesses_table(accesses, folder / ACCESSES_FILE)
    ten = tensors_table(tensors, folder / TENSORS_FILE)
    listed = set(zip(ten["layer"], ten["tensor"], strict=True))
    for layer, tensor in zip(acc["layer"], acc["tensor"], strict=True):
        if (layer, tensor) not in listed:
            raise QsnnError(
                f"{folder / ACCESSES_FILE}: tensor '{layer}.{tensor}' has accesses but no row "
                f"in {TENSORS_FILE}"
            )
    check_normalisers(folder / META_FILE, normalisers, set(acc["phase"]))
    return acc, ten


# --- helpers -----------------------------------------------------------------------------------


def _row(bad) -> int:
    return int(np.flatnonzero(np.asarray(bad))[0]) + 2


def _show(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_bad(file: Path, bad: pd.Series, what: str) -> None:
    if bad.any():
        raise QsnnError(f"{file}: {what} in row {_row(bad)}")


def _columns(frame: pd.DataFrame, file: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise QsnnError(
            f"{file}: missing column(s) {', '.join(missing)} (expected: {', '.join(columns)})"
        )
    return frame[list(columns)].reset_index(drop=True)


def _words(frame: pd.DataFrame, file: Path) -> None:
    for col, allowed in VOCABULARY.items():
        if col not in frame.columns:
            continue
        bad = ~frame[col].isin(allowed)
        if bad.any():
            raise QsnnError(
                f"{file}: column '{col}' = {_show(frame[col][bad].iloc[0])} in row {_row(bad)} "
                f"(allowed: {', '.join(allowed)})"
            )


def _layers(frame: pd.DataFrame, file: Path) -> None:
    bad = [not (isinstance(v, str) and v.strip()) for v in frame["layer"].tolist()]
    if any(bad):
        value = frame["layer"].iloc[bad.index(True)]
        raise QsnnError(
            f"{file}: column 'layer' = {_show(value)} in row {_row(bad)} (allowed: a layer name)"
        )


def _integers(
    frame: pd.DataFrame, file: Path, col: str, bounds: tuple[int, int], total: bool = False
) -> np.ndarray:
    """The column as int64; anything that is not an integer within ``bounds`` is refused.

    Values are compared as exact Python integers: a count past int64 (say 1e30) would otherwise
    wrap around to a negative number and price as negative energy.
    """
    low, high = bounds
    raw = frame[col]
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iu":
        values = raw.to_numpy()
        ok = (values >= low) & (values <= high)
    else:  # text from a CSV, floats, or Python ints beyond int64
        exact = [_exact(v) for v in raw.tolist()]
        ok = np.array([v is not None and low <= v <= high for v in exact], dtype=bool)
        values = [v if good else 0 for v, good in zip(exact, ok, strict=True)]
    if not ok.all():
        allowed = f"{low}-{high}" if high < INT64_MAX else f">= {low} and < 2**63"
        raise QsnnError(
            f"{file}: column '{col}' = {_show(raw[~ok].iloc[0])} in row {_row(~ok)} "
            f"(allowed: an integer {allowed})"
        )
    values = np.asarray(values, dtype=np.int64)
    # Estimates add counts over rows: their sum must be a count too.
    if total and sum(values.tolist()) > high:
        raise QsnnError(f"{file}: column '{col}' adds up to more than 2**63 - 1")
    return values


def _exact(value) -> int | None:
    """``value`` as an exact integer, or None (bools, fractions, NaN, text that is no number)."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def _boolean(file: Path, value, index: int) -> bool:
    text = str(value.item() if isinstance(value, np.generic) else value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise QsnnError(
        f"{file}: column 'kernel' = {_show(value)} in row {index + 2} (allowed: true, false)"
    )


def _variants(acc: pd.DataFrame, file: Path) -> None:
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
        raise QsnnError(
            f"{file}: column 'traversal' = {acc['traversal'][misplaced].iloc[0]!r} in row "
            f"{_row(misplaced)} (allowed: any; row and col only on backward weight reads of "
            "that pattern)"
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
