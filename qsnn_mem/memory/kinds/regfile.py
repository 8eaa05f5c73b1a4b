"""Register files: flip-flop arrays priced per bit from the Aladdin 40 nm standard cells.

Aladdin (Shao et al., ISCA 2014), as tabulated by hwcomponents-library: 0.009 pJ per bit read
or written, 7.4e-5 mW leakage and 5.98 µm² per bit stored. One access per cycle (no cycle-time
limit). Scaled to the node as docs/memory.md says: energy and leakage ∝ node, area ∝ node².
"""

from __future__ import annotations

import numpy as np

from ..scaling import ALADDIN_NODE_NM, area_scale, energy_scale

NAME = "regfile"
BIT_J = 0.009e-12
BIT_LEAK_W = 7.4e-8
BIT_AREA_M2 = 5.98e-12
SOURCE = "regfile: Aladdin 40nm flip-flop 0.009 pJ/bit, scaled by node"


def cost(backend, node_nm, capacity_bits, word_bits, banks, ports, narrow="same-depth"):
    del backend, banks, ports, narrow  # a flip-flop array is priced per bit, any width
    e = BIT_J * np.asarray(word_bits, float) * energy_scale(node_nm, ALADDIN_NODE_NM)
    leak = BIT_LEAK_W * np.asarray(capacity_bits, float) * energy_scale(node_nm, ALADDIN_NODE_NM)
    area = BIT_AREA_M2 * np.asarray(capacity_bits, float) * area_scale(node_nm, ALADDIN_NODE_NM)
    values = np.stack([e, e, leak, area, np.zeros_like(e)], axis=1)
    return values, [SOURCE] * len(e)
