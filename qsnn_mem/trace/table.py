"""The access table: the contract between the tracer and the energy estimator.

One row per (phase, stage, layer, tensor, op, pattern, bits) with exact int64 counts:
``accesses`` (row, column or element accesses), ``elements`` (logical values touched, dense
semantics) and ``nonzero`` (of those, how many were non-zero at access time).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

# The one vocabulary of the project; extend it here.
PHASES = ("train", "infer")
STAGES = ("forward", "backward", "update")
TENSORS = (
    "weight", "syn", "mem", "spk", "refrac", "trace_p", "trace_q", "err", "grad", "readout",
    "feedback", "input",
)  # fmt: skip
OPS = ("read", "write")
PATTERNS = ("row", "col", "elem")
KEY_COLUMNS = ("phase", "stage", "layer", "tensor", "op", "pattern", "bits")
COUNT_COLUMNS = ("accesses", "elements", "nonzero")
STORED_FLOAT_BITS = 32  # an unquantized value is stored as float32


class AccessTable:
    """Accumulates exact counts per key; cheap enough to update every epoch."""

    def __init__(self) -> None:
        self._index: dict[tuple, int] = {}
        self._counts = np.zeros((64, 3), np.int64)

    def add(
        self, phase: str, stage: str, layer: str, tensor: str, op: str, pattern: str,
        bits: int | None, accesses: int, elements: int, nonzero: int,
    ) -> None:  # fmt: skip
        key = (
            phase,
            stage,
            layer,
            tensor,
            op,
            pattern,
            STORED_FLOAT_BITS if bits is None else bits,
        )
        row = self._index.get(key)
        if row is None:
            _check_key(key)
            row = len(self._index)
            self._index[key] = row
            if row == len(self._counts):
                self._counts = np.vstack([self._counts, np.zeros_like(self._counts)])
        counts = self._counts[row]
        counts[0] += accesses
        counts[1] += elements
        counts[2] += nonzero

    def merge(self, other: AccessTable) -> None:
        for key, row in other._index.items():
            self.add(*key, *(int(v) for v in other._counts[row]))

    def rows(self) -> Iterable[tuple]:
        for key, row in self._index.items():
            yield (*key, *(int(v) for v in self._counts[row]))

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self.rows()), columns=[*KEY_COLUMNS, *COUNT_COLUMNS])
        for col in ("bits", *COUNT_COLUMNS):
            frame[col] = frame[col].astype(np.int64)
        order = {"phase": PHASES, "stage": STAGES, "op": OPS}
        for col, values in order.items():
            frame[col] = pd.Categorical(frame[col], categories=values, ordered=True)
        frame = frame.sort_values(["phase", "stage", "layer", "tensor", "op", "pattern"])
        for col in order:
            frame[col] = frame[col].astype(str)
        return frame.reset_index(drop=True)


def _check_key(key: tuple) -> None:
    phase, stage, _, tensor, op, pattern, _ = key
    for value, allowed in (
        (phase, PHASES), (stage, STAGES), (tensor, TENSORS), (op, OPS), (pattern, PATTERNS)
    ):  # fmt: skip
        if value not in allowed:
            raise ValueError(f"access-table value {value!r} is not one of {allowed}")
