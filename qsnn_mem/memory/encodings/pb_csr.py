"""PB-CSR: row pointers, then per row the column indices and values of its non-zeros (two
arrays of equal depth).

* Row walk: the row's start and end pointers, its indices and values.
* Column walk: a cursor per row (kept in a copy of the pointer array) advances as the columns
  are visited in order: per position a cursor read, an index read and a compare; on a match the
  value is read and the cursor written back, advanced (no binary search).
* Element access: the row's pointers, then a binary search over its index words.
* Writes store values only.
"""

from __future__ import annotations

import numpy as np

from .base import (
    INDICES,
    POINTERS,
    VALUES,
    Cost,
    Layout,
    Walk,
    by_pattern,
    ceil,
    empty_storage,
    log2_ceil,
    row_words,
    split_rw,
)  # fmt: skip

NAME = "pb-csr"
ROLES_USED = (VALUES, INDICES, POINTERS)


def storage_words(g: Layout) -> np.ndarray:
    out = empty_storage(len(g.rows))
    out[:, VALUES] = g.nnz / g.k(VALUES)
    out[:, INDICES] = g.nnz / g.k(INDICES)
    out[:, POINTERS] = ceil((g.rows + 1) / g.k(POINTERS))
    return out


def access(g: Layout, w: Walk) -> Cost:
    cost = Cost.zeros(len(w.n))
    # Start and end pointer of a row; with several pointers per word the pair straddles a word
    # boundary 1/k of the time.
    pair = w.n * (1.0 + 1.0 / g.k(POINTERS))
    search = log2_ceil(row_words(g.nbar, g.k(INDICES)) + 1)  # index words probed per element
    row_values = w.n * row_words(w.zper, g.k(VALUES))
    reads = np.zeros_like(cost.reads)
    reads[:, POINTERS] = by_pattern(w, pair, w.e, pair)
    reads[:, INDICES] = by_pattern(w, w.n * row_words(w.zper, g.k(INDICES)), w.e, w.n * search)
    reads[:, VALUES] = by_pattern(w, row_values, w.z, w.z)
    writes = np.zeros_like(cost.reads)
    writes[:, VALUES] = by_pattern(w, row_values, w.z, w.z)
    read = ~w.is_write.astype(bool)
    cursor_advances = np.where(read & (w.pattern == 1), w.z, 0.0)
    cost.reads, cost.writes = split_rw(w, reads, writes)
    cost.writes[:, POINTERS] = cursor_advances  # on read rows: the column walk's cursors
    cost.values = w.z
    cost.compares = np.where(read, by_pattern(w, 0.0, w.e, w.n * search * g.k(INDICES)), 0.0)
    cost.adds = np.where(read, by_pattern(w, w.n, w.z, w.n * search), 0.0)
    return cost
