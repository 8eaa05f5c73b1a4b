"""Counter of a layer's input reads: the spikes it reads from the layer below (or the network
input), before its reshapes. Flatten and pooling (sum or average over a window) happen in the
datapath as the spikes stream in; the pooled values are not stored, so they cost no access of
their own: a stored spike is read once per pass however many windows it falls in. numpy only.
"""

from __future__ import annotations

import numpy as np

from ..contract import AccessTable


def input_reads(
    table: AccessTable, phase: str, stage: str, mode: str, owner: str, tensor: str, bits: int,
    raw_in: np.ndarray,
) -> None:  # fmt: skip
    """One element read per non-zero input value (event) or one row per step (dense).
    ``raw_in`` (T, n): the values the owner stored (spikes, or an LI membrane)."""
    steps, n = raw_in.shape
    s = int(np.count_nonzero(raw_in))
    if mode == "event":
        table.add(phase, stage, owner, tensor, "read", "elem", bits, s, s, s)
    else:
        table.add(phase, stage, owner, tensor, "read", "row", bits, steps, steps * n, s)
