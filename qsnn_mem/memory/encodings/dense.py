"""Packed values without metadata: every tensor that is not a weight matrix (states, errors,
gradients, spikes). A state tensor (one row, its BPTT history) is streamed, so ``E`` values take
``⌈E/k⌉`` words whatever the pattern; a matrix is stored row by row like a crossbar."""

from __future__ import annotations

import numpy as np

from .base import VALUES, Cost, Layout, Walk, by_pattern, ceil, empty_storage, split_rw

NAME = "dense"
ROLES_USED = (VALUES,)


def storage_words(g: Layout) -> np.ndarray:
    k = g.k(VALUES)
    vector = g.rows == 1
    out = empty_storage(len(g.rows))
    out[:, VALUES] = np.where(vector, ceil(g.rows * g.cols / k), g.rows * ceil(g.cols / k))
    return out


def access(g: Layout, w: Walk) -> Cost:
    k = g.k(VALUES)
    words = by_pattern(w, w.n * ceil(w.v / k), w.e, w.n)
    words = np.where(g.rows == 1, ceil(w.e / k), words)
    cost = Cost.zeros(len(w.n))
    both = np.zeros_like(cost.reads)
    both[:, VALUES] = words
    cost.reads, cost.writes = split_rw(w, both, both)
    cost.values = by_pattern(w, w.e, w.e, w.n)
    return cost
