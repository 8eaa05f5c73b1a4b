"""Run-length: a pointer per row, then per row (zero run, value) entries in two arrays of equal
depth; a run longer than ``2^r − 1`` zeros needs filler entries.

With zeros placed independently (gaps geometric, ``q = 1 − d``) the expected fillers per
non-zero are ``f = q^L / (1 − q^L)``, ``L = 2^r``; a row holds ``n̄(1 + f)`` entries.

* Row walk: the pointer, then every entry of the row (run and value), one add per entry to
  advance the position.
* Column walk: a cursor per row, as in PB-CSR: per position a cursor read and a compare; every
  entry passed is decoded (run read, add, cursor write), the value read on a match.
* Element access: the pointer and half a row decoded on average.
* Writes store values only.
"""

from __future__ import annotations

import numpy as np

from .base import (
    POINTERS,
    RUNS,
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

NAME = "rle"
ROLES_USED = (VALUES, RUNS, POINTERS)


def fillers(g: Layout) -> np.ndarray:
    """Expected filler entries per non-zero."""
    q = 1.0 - g.density
    run = 2.0**g.run_bits
    q_l = q**run
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(g.density > 0, q_l / np.maximum(1.0 - q_l, 1e-300), 0.0)
    return np.where(g.cols < run, 0.0, f)  # no zero run in a row can reach 2^r


def storage_words(g: Layout) -> np.ndarray:
    entries = g.nbar * (1.0 + fillers(g))
    out = empty_storage(len(g.rows))
    out[:, VALUES] = g.rows * entries / g.k(VALUES)
    out[:, RUNS] = g.rows * entries / g.k(RUNS)
    out[:, POINTERS] = ceil(g.rows / g.k(POINTERS))
    return out


def access(g: Layout, w: Walk) -> Cost:
    cost = Cost.zeros(len(w.n))
    f = 1.0 + fillers(g)
    half_row = np.maximum(1.0, row_words(g.nbar * f, g.k(RUNS)) / 2.0)  # run words per element
    row_entries = w.zper * f
    reads = np.zeros_like(cost.reads)
    reads[:, POINTERS] = by_pattern(w, w.n, w.e, w.n)
    reads[:, RUNS] = by_pattern(w, w.n * row_words(row_entries, g.k(RUNS)), w.z * f, w.n * half_row)
    reads[:, VALUES] = by_pattern(w, w.n * row_words(row_entries, g.k(VALUES)), w.z, w.z)
    writes = np.zeros_like(cost.reads)
    writes[:, VALUES] = by_pattern(w, w.n * row_words(w.zper, g.k(VALUES)), w.z, w.z)
    cost.reads, cost.writes = split_rw(w, reads, writes)
    read = ~w.is_write.astype(bool)
    cost.writes[:, POINTERS] = np.where(read & (w.pattern == 1), w.z * f, 0.0)  # cursors
    cost.values = w.z
    cost.compares = np.where(read & (w.pattern == 1), w.e, 0.0)
    decoded = by_pattern(w, w.z * f, w.z * f, w.n * half_row * g.k(RUNS))
    cost.adds = np.where(read, decoded, 0.0)
    return cost
