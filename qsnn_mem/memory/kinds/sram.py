"""SRAM macros: CACTI 7, from the committed table or run live (rules in docs/sram.md).

Arrays narrower than CACTI's 8-bit words follow the arch's ``narrow_words``: ``same-depth``
builds a byte-wide macro of the same depth (one value per word: every bitline on the active
word line swings, so a narrow access costs a byte access, and the macro's area and leakage
are paid); ``same-capacity`` prices the column-muxed array of exactly ``depth × width`` cells
(an 8-bit access of the same capacity, docs/sram.md).
"""

from __future__ import annotations

import numpy as np

from ...errors import QsnnError
from .. import cacti, table

NAME = "sram"
NARROW = ("same-depth", "same-capacity")


def byte_wide(capacity_bits, word_bits) -> tuple[np.ndarray, np.ndarray]:
    """(capacity, width) of the byte-wide macro of the same depth for narrow arrays."""
    cap, word = np.asarray(capacity_bits, float), np.asarray(word_bits, float)
    wide = np.maximum(word, float(cacti.MIN_WORD_BITS))
    return np.ceil(cap / word) * wide, wide


def cost(backend, node_nm, capacity_bits, word_bits, banks, ports, narrow="same-depth"):
    if narrow == "same-depth":
        capacity_bits, word_bits = byte_wide(capacity_bits, word_bits)
    n = len(np.atleast_1d(capacity_bits))
    if backend == "table":
        return table.lookup(node_nm, capacity_bits, word_bits, banks, ports), ["cacti7 table"] * n
    if backend != "cacti":
        raise QsnnError(f"backend '{backend}' is not known (allowed: table, cacti)")
    out = np.zeros((n, len(cacti.QUANTITIES)))
    sources = []
    args = np.broadcast_arrays(node_nm, capacity_bits, word_bits, banks, ports)
    for i, (node, cap, word, bank, port) in enumerate(zip(*args, strict=True)):
        result = cacti.query(
            cacti.SramConfig(float(node), int(cap), int(word), int(bank), int(port))
        )
        out[i] = result.values()
        sources.append(result.source)
    return out, sources
