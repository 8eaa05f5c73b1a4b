"""Crossbar: every synapse stored, row-major, no metadata.

A row access reads ``⌈C/k⌉`` words; a column access one word per row (``E`` words); an element
access one word. Zeros are read and written like any other value.
"""

from __future__ import annotations

from .base import VALUES, Cost, Layout, Walk, by_pattern, ceil, row_major_words, value_words_only

NAME = "crossbar"
ROLES_USED = (VALUES,)


storage_words = row_major_words


def access(g: Layout, w: Walk) -> Cost:
    words = by_pattern(w, w.n * ceil(w.v / g.k(VALUES)), w.e, w.n)
    return value_words_only(w, words)
