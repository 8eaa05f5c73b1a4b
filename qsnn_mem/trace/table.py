"""The access table: the contract between the tracer and the energy estimator.

One row per (phase, stage, layer, tensor, op, pattern, traversal, bits) with exact int64 counts:
``accesses`` (row, column or element accesses), ``elements`` (logical values touched, dense
semantics) and ``nonzero`` (of those, how many were non-zero at access time).

``traversal`` is ``any`` for what every architecture does; ``row`` and ``col`` are the two
alternative counts of one error propagation through a weight matrix (a gather and a scatter):
the estimator keeps the ``any`` rows plus the variant the architecture picks.
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
TRAVERSALS = ("any", "row", "col")
KEY_COLUMNS = ("phase", "stage", "layer", "tensor", "op", "pattern", "traversal", "bits")
COUNT_COLUMNS = ("accesses", "elements", "nonzero")
STORED_FLOAT_BITS = 32  # an unquantized value is stored as float32
# Version of the trace files (trace.json's "format_version"); 2 added the traversal column.
FORMAT_VERSION = 2


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
        frame = pd.DataFrame(list(self.rows()), columns=[*KEY_COLUMNS, *COUNT_COLUMNS])
        for col in ("bits", *COUNT_COLUMNS):
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
    phase, stage, _, tensor, op, pattern, traversal, _ = key
    for value, allowed in (
        (phase, PHASES), (stage, STAGES), (tensor, TENSORS), (op, OPS), (pattern, PATTERNS),
        (traversal, TRAVERSALS),
    ):  # fmt: skip
        if value not in allowed:
            raise ValueError(f"access-table value {value!r} is not one of {allowed}")
    # A variant is one way of propagating errors through a weight matrix, nothing else.
    variant_row = ("backward", "weight", "read", traversal)
    if traversal != "any" and (stage, tensor, op, pattern) != variant_row:
        raise ValueError(
            f"traversal {traversal!r} is only for backward weight reads of pattern {traversal!r}"
        )
