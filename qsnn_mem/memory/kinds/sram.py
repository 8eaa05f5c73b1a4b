"""SRAM macros: CACTI 7, from the committed table or run live (rules in docs/sram.md)."""

from __future__ import annotations

import numpy as np

from ...errors import QsnnError
from .. import cacti, table

NAME = "sram"


def cost(backend, node_nm, capacity_bits, word_bits, banks, ports):
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
