"""First-order technology scaling of published per-operation numbers to the arch's node.

Dynamic energy ∝ node (capacitance ∝ feature size at roughly constant supply in 22-90 nm),
leakage ∝ node (per-device current roughly constant, width ∝ node), area ∝ node².
"""

from __future__ import annotations

import numpy as np

ALADDIN_NODE_NM = 40.0  # Aladdin / hwcomponents-library standard-cell figures
HOROWITZ_NODE_NM = 45.0  # Horowitz, ISSCC 2014


def energy_scale(node_nm, reference_nm: float) -> np.ndarray:
    return np.asarray(node_nm, dtype=float) / reference_nm


def area_scale(node_nm, reference_nm: float) -> np.ndarray:
    return (np.asarray(node_nm, dtype=float) / reference_nm) ** 2
