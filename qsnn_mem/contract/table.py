"""The access table accumulator that tracers count into.

One row per (phase, stage, layer, tensor, op, pattern, traversal, bits) with exact counts:
``accesses`` (row, column or element accesses), ``elements`` (logical values touched, dense
semantics) and ``nonzero`` (of those, how many were non-zero at access time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .vocabulary import (
    ACCESS_COLUMNS,
    BITS_RANGE,
    COUNT_COLUMNS,
    OPS,
    PATTERNS,
    PHASES,
    STAGES,
    STORED_FLOAT_BITS,
    TENSORS,
    TRAVERSALS,
    VARIANT_ROW,
)


class AccessTable:
    """Accumulates exact counts per key; cheap enough to update every epoch."""

    def __init__(self) -> None:
        # Python integers: exact at any size, and cheaper to add to than numpy scalars.
        self._counts: dict[tuple, list[int]] = {}

    def add(
        self, phase: str, stage: str, layer: str, tensor: str, op: str, pattern: str,
        bits: int | None, accesses: int, elements: int, nonzero: int, *, traversal: str = "any",
    ) -> None:  # fmt: skip
        bits = STORED_FLOAT_BITS if bits is None else bits
        key = (phase, stage, layer, tensor, op, pattern, traversal, bits)
        counts = self._counts.get(key)
        if counts is None:
            _check_key(key)
            counts = self._counts[key] = [0, 0, 0]
        counts[0] += int(accesses)
        counts[1] += int(elements)
        counts[2] += int(nonzero)

    def merge(self, other: AccessTable) -> None:
        for key, counts in other._counts.items():
            *head, traversal, bits = key
            self.add(*head, bits, *counts, traversal=traversal)

    def rows(self) -> Iterable[tuple]:
        for key, counts in self._counts.items():
            yield (*key, *counts)

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self.rows()), columns=list(ACCESS_COLUMNS))
        for col in ("bits", *COUNT_COLUMNS):
            # A count beyond int64 stays a Python int here; the trace writer names it.
            with contextlib.suppress(OverflowError):
                frame[col] = frame[col].astype(np.int64)
        order = {"phase": PHASES, "stage": STAGES, "op": OPS}
        for col, values in order.items():
            frame[col] = pd.Categorical(frame[col], categories=values, ordered=True)
        frame = frame.sort_values(
            ["phase", "stage", "layer", "tensor", "op", "pattern", "traversal"]
        )
        for col in order:
            frame[col] = frame[col].astype(str)
        return frame.reset_index(drop=True)


def _check_key(key: tuple) -> None:
    """A tracer bug is caught where it happens, not when the trace is written."""
    phase, stage, _, tensor, op, pattern, traversal, bits = key
    for value, allowed in (
        (phase, PHASES), (stage, STAGES), (tensor, TENSORS), (op, OPS), (pattern, PATTERNS),
        (traversal, TRAVERSALS),
    ):  # fmt: skip
        if value not in allowed:
            raise ValueError(f"access-table value {value!r} is not one of {allowed}")
    low, high = BITS_RANGE
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not low <= bits <= high:
        raise ValueError(f"access-table bits {bits!r} is not an integer {low}-{high}")
    # A variant is one way of propagating errors through a weight matrix, nothing else.
    if traversal != "any" and (stage, tensor, op, pattern) != (*VARIANT_ROW, traversal):
        raise ValueError(
            f"traversal {traversal!r} is only for backward weight reads of pattern {traversal!r}"
        )
