"""Per-access costs of the components: SRAM (CACTI 7 table or live), register files, logic.

All functions take and return numpy arrays in SI units (J, W, m², s). Register-file and logic
numbers are published 40 nm figures, scaled to the node to first order: dynamic energy ∝ node
(capacitance ∝ feature size at roughly constant supply in 22-90 nm), area ∝ node², leakage
∝ node (per-device leakage current roughly constant, width ∝ node).
"""

from __future__ import annotations

import numpy as np

from ..errors import QsnnError
from . import cacti, table

REF_NODE_NM = 40.0

# Aladdin (Shao et al., ISCA 2014) 40 nm standard-cell characterisation, as tabulated by
# hwcomponents-library and pm-tech-lib (cmos40_aladdin_*): one flip-flop bit.
REG_BIT_J = 0.009e-12  # J per bit read or written
REG_BIT_LEAK_W = 7.4e-8  # W per bit (7.40e-05 mW)
REG_BIT_AREA_M2 = 5.98e-12  # m² per bit (5.98 µm²)
# Aladdin 40 nm 32-bit adder: 0.21 pJ, 278 µm²; 32-bit comparator 0.0295 pJ (hwcomponents-library).
ADD32_J = 0.21e-12
CMP32_J = 0.0295e-12
# Controller datapaths are 16 bits wide (addresses of memories up to 64 k words); energy scales
# linearly with width. A popcount of a W-bit word is an adder tree of W-1 one-bit additions,
# which we price as one W-bit addition.
CTRL_BITS = 16
ADD_J = ADD32_J * CTRL_BITS / 32
CMP_J = CMP32_J * CTRL_BITS / 32

SOURCE_REG = "regfile: Aladdin 40nm flip-flop 0.009 pJ/bit, scaled by node"
SOURCE_LOGIC = "logic: Aladdin 40nm adder 0.21 pJ / comparator 0.0295 pJ (32b), scaled by node"


def energy_scale(node_nm: np.ndarray) -> np.ndarray:
    return np.asarray(node_nm, dtype=float) / REF_NODE_NM


def area_scale(node_nm: np.ndarray) -> np.ndarray:
    return (np.asarray(node_nm, dtype=float) / REF_NODE_NM) ** 2


def regfile_cost(
    node_nm: np.ndarray, capacity_bits: np.ndarray, word_bits: np.ndarray
) -> np.ndarray:
    """[read_J, write_J, leak_W, area_m2, cycle_s] per register file (one access per cycle)."""
    e = REG_BIT_J * word_bits * energy_scale(node_nm)
    leak = REG_BIT_LEAK_W * capacity_bits * energy_scale(node_nm)
    area = REG_BIT_AREA_M2 * capacity_bits * area_scale(node_nm)
    return np.stack([e, e, leak, area, np.zeros_like(e)], axis=1)


def logic_energy(
    node_nm: np.ndarray,
    adds: np.ndarray,
    compares: np.ndarray,
    popcounts: np.ndarray,
    word_bits: np.ndarray,
) -> np.ndarray:
    """Energy (J) of the controller operations of an encoding."""
    pop_j = ADD32_J * np.asarray(word_bits, dtype=float) / 32
    return energy_scale(node_nm) * (adds * ADD_J + compares * CMP_J + popcounts * pop_j)


def sram_cost(
    backend: str,
    node_nm: np.ndarray,
    capacity_bits: np.ndarray,
    word_bits: np.ndarray,
    banks: np.ndarray,
    ports: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """[read_J, write_J, leak_W, area_m2, cycle_s] per SRAM, and where each number came from."""
    n = len(np.atleast_1d(capacity_bits))
    if backend == "table":
        return table.lookup(node_nm, capacity_bits, word_bits, banks, ports), ["cacti7 table"] * n
    if backend != "cacti":
        raise QsnnError(f"backend '{backend}' is not known (allowed: table, cacti)")
    out = np.zeros((n, len(table.QUANTITIES)))
    sources = []
    args = np.broadcast_arrays(node_nm, capacity_bits, word_bits, banks, ports)
    for i, (node, cap, word, bank, port) in enumerate(zip(*args, strict=True)):
        cost = cacti.query(cacti.SramConfig(float(node), int(cap), int(word), int(bank), int(port)))
        out[i] = cost.values()
        sources.append(cost.source)
    return out, sources
