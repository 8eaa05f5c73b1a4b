"""Packed values without metadata: every tensor that is not a weight matrix (states, errors,
gradients, spikes). A state tensor (one row, its BPTT history) is streamed, so ``E`` values take
``⌈E/k⌉`` words whatever the pattern; a matrix is stored row by row like a crossbar."""

from __future__ import annotations

import numpy as np

from .base import VALUES, Cost, Layout, Walk, by_pattern, ceil, empty_storage, value_words_only

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
    return value_words_only(w, words)
