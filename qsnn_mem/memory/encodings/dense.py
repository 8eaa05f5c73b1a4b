"""Packed values without metadata: every tensor that is not a weight matrix (states, errors,
gradients, spikes, the input raster).

A tensor is stored as ``tensors.csv`` lists it, row by row (a state: one row per time step or
per sample, its neurons in order), ``k`` values to a word and each row starting a word. Words
are shared only by the values an access walks in storage order (docs/memory.md, "Non-weight
tensors"):

* ``row``: a whole row of ``v`` adjacent values, ``⌈v/k⌉`` words per access;
* ``col``: runs of ``r`` adjacent values (``Layout.col_run``: a kernel row of a convolution
  layer's receptive field, else 1, a column having one value per row), each run touching
  ``(r + k − 1)/k`` words on average (:func:`~.base.row_words`);
* ``elem``: one value at its own address, one word (``⌈b/W⌉`` for a value wider than a word).
"""

from __future__ import annotations

import numpy as np

from .base import (
    VALUES,
    Cost,
    Layout,
    Walk,
    by_pattern,
    ceil,
    row_major_words,
    row_words,
    value_words_only,
)  # fmt: skip

NAME = "dense"
ROLES_USED = (VALUES,)


storage_words = row_major_words


def access(g: Layout, w: Walk) -> Cost:
    k = g.k(VALUES)
    run = np.maximum(g.col_run, 1.0)
    col = w.e * row_words(run, k) / run
    words = by_pattern(w, w.n * ceil(w.v / k), col, w.n / np.minimum(k, 1.0))
    return value_words_only(w, words)
