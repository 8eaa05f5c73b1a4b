"""Functional: a convolution kernel stored once (``I`` rows of ``O·KH·KW`` values); address
generators compute which synapse a spike or an error reaches, so the transposed pass reads the
same kernel and no index is stored.

Per synapse reached: one kernel value, one address add and two bounds compares (the image
borders). A fully connected weight has no kernel to share: it is an error to hold one here.
"""

from __future__ import annotations

import numpy as np

from .base import VALUES, Cost, Layout, Walk, by_pattern, ceil, row_major_words, value_words_only

NAME = "functional"
ROLES_USED = (VALUES,)
KERNELS_ONLY = True


storage_words = row_major_words


def access(g: Layout, w: Walk) -> Cost:
    k = g.k(VALUES)
    k2 = g.kernel_k2
    # A spike's outgoing synapses are contiguous in its channel's kernel row; an error's
    # incoming synapses come as one KH·KW block per input channel.
    words = by_pattern(w, w.n * ceil(w.v / k), (w.e / k2) * ceil(k2 / k), w.n)
    cost = value_words_only(w, words)
    read = ~w.is_write.astype(bool)
    synapses = by_pattern(w, w.e, w.e, w.n)
    cost.adds = np.where(read, synapses, 0.0)
    cost.compares = np.where(read, 2.0 * synapses, 0.0)
    return cost
