"""PB-BMP: a row pointer per row, a bitmap of ``C`` bits per row, the non-zero values.

* Row walk (a spike reads its row): the row pointer, the row's bitmap words, the non-zero
  values; one popcount per bitmap word steps the value address.
* Column walk (an error reads its column): one bitmap entry per position; for a set bit the
  row pointer and the value, the value's offset in its row from a popcount in logic (no scan of
  the prefix words).
* Element access: a one-position column walk.
* Writes store values only (the metadata that located them was paid by the read).
"""

from __future__ import annotations

import numpy as np

from .base import (
    BITMAP,
    POINTERS,
    VALUES,
    Cost,
    Layout,
    Walk,
    by_pattern,
    ceil,
    empty_storage,
    row_words,
    split_rw,
)  # fmt: skip

NAME = "pb-bmp"
ROLES_USED = (VALUES, BITMAP, POINTERS)


def storage_words(g: Layout) -> np.ndarray:
    out = empty_storage(len(g.rows))
    out[:, VALUES] = g.nnz / g.k(VALUES)
    out[:, BITMAP] = g.rows * ceil(g.cols / g.k(BITMAP))
    out[:, POINTERS] = ceil(g.rows / g.k(POINTERS))
    return out


def access(g: Layout, w: Walk) -> Cost:
    cost = Cost.zeros(len(w.n))
    masks = w.n * ceil(w.v / g.k(BITMAP))  # bitmap words of the rows walked
    row_values = w.n * row_words(w.zper, g.k(VALUES))
    reads = np.zeros_like(cost.reads)
    reads[:, POINTERS] = by_pattern(w, w.n, w.z, w.z)
    reads[:, BITMAP] = by_pattern(w, masks, w.e, w.n)
    reads[:, VALUES] = by_pattern(w, row_values, w.z, w.z)
    writes = np.zeros_like(cost.reads)
    writes[:, VALUES] = by_pattern(w, row_values, w.z, w.z)
    cost.reads, cost.writes = split_rw(w, reads, writes)
    cost.values = w.z
    read = ~w.is_write.astype(bool)
    cost.popcounts = np.where(read, by_pattern(w, masks, w.z, w.z), 0.0)
    cost.adds = np.where(read, by_pattern(w, masks, w.z, w.z), 0.0)
    return cost
