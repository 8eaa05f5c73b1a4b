"""Crossbar: every synapse stored, row-major, no metadata.

A row access reads ``⌈C/k⌉`` words; a column access one word per row (``E`` words); an element
access one word. Zeros are read and written like any other value.
"""

from __future__ import annotations

import numpy as np

from .base import VALUES, Cost, Layout, Walk, by_pattern, ceil, empty_storage, value_words_only

NAME = "crossbar"
ROLES_USED = (VALUES,)


def storage_words(g: Layout) -> np.ndarray:
    out = empty_storage(len(g.rows))
    out[:, VALUES] = g.rows * ceil(g.cols / g.k(VALUES))
    return out


def access(g: Layout, w: Walk) -> Cost:
    words = by_pattern(w, w.n * ceil(w.v / g.k(VALUES)), w.e, w.n)
    return value_words_only(w, words)
