"""SRAM pricing from the real CACTI 7: :func:`query` and the rules it follows (docs/sram.md).

One SRAM is described by :class:`SramConfig`; :func:`query` returns its :class:`SramCost` (SI
units) by the rules in its docstring: CACTI at its calibrated nodes only, widths between powers
of two interpolated, words below 8 bits priced as 8-bit words of the same capacity, capacities
between powers of two interpolated between CACTI's own optima made non-decreasing in size, and
a fallback where CACTI finds no organisation. Building CACTI is
:mod:`qsnn_mem.memory.cacti_build`'s job, running it (and caching its results on disk)
:mod:`qsnn_mem.memory.cacti_run`'s.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..errors import QsnnError
from .cacti_run import QUANTITIES, CactiFailed, SramConfig, SramCost, cached_run

__all__ = [
    "MIN_CAPACITY_BITS",
    "MIN_EXP",
    "MIN_WORD_BITS",
    "MONOTONE",
    "NODES_NM",
    "QUANTITIES",
    "SMALL_ENERGY_EXP",
    "SramConfig",
    "SramCost",
    "capacity_cost",
    "envelope",
    "optimum",
    "query",
]

NODES_NM = (22, 32, 45, 65, 90)  # CACTI 7's technology files; query() interpolates between them
MAX_FALLBACK_DOUBLINGS = 6
MIN_CAPACITY_BITS = 1024  # smaller arrays are scaled from this size (query(), rule 3)
MIN_EXP = MIN_CAPACITY_BITS.bit_length() - 1  # the first power of two CACTI is run at
MIN_WORD_BITS = 8  # narrower words are priced as 8-bit words of the same capacity (rule 2)
SMALL_ENERGY_EXP = 0.78  # energy ∝ capacity^0.78 when scaling sizes (hwcomponents-cacti's rule)
# Made non-decreasing in capacity (rule 3); cycle time is left as CACTI gives it.
MONOTONE = ("read_J", "write_J", "leak_W", "area_m2")


def query(cfg: SramConfig) -> SramCost:
    """The cost of ``cfg`` from CACTI 7, following four documented rules (docs/sram.md).

    1. **Nodes.** CACTI is run only at its calibrated nodes (22, 32, 45, 65, 90 nm); between
       two, every output is interpolated linearly in the node (as hwcomponents-cacti does).
    2. **Widths.** A width between two powers of two is priced at both, at the same depth, and
       interpolated geometrically (log value linear in log width). A word below 8 bits is one
       column-muxed slice of a row: each access still drives a whole word line and swings
       every bitline on it, so a w-bit array of depth D costs what CACTI gives for the same
       capacity D·w in 8-bit words.
    3. **Capacities.** CACTI's own optima at the powers of two from 1 kibit up are made
       non-decreasing in capacity (a running maximum of read and write energy, leakage and
       area; its ED²-optimal choice is occasionally cheaper at a larger size), and a capacity
       between two powers of two is interpolated geometrically between them (log value linear
       in log capacity), so cost is continuous in capacity. Cycle time is interpolated the
       same way between CACTI's own values. Arrays below 1 kibit are priced from 1 kibit:
       energy ∝ capacity^0.78, area and leakage ∝ capacity (hwcomponents-cacti's rule).
    4. **Fallback.** Where CACTI finds no organisation at a power of two (small arrays in many
       banks) the capacity is doubled until it does (at most 6 times) and scaled back by rule
       3's exponents.
    """
    if not NODES_NM[0] <= cfg.node_nm <= NODES_NM[-1]:
        raise QsnnError(
            f"tech node {cfg.node_nm} nm is outside CACTI 7's range "
            f"({NODES_NM[0]}-{NODES_NM[-1]} nm)"
        )
    if cfg.node_nm in NODES_NM:
        return _query_at_node(cfg)
    hi = min(n for n in NODES_NM if n > cfg.node_nm)
    lo = max(n for n in NODES_NM if n < cfg.node_nm)
    t = (cfg.node_nm - lo) / (hi - lo)
    a = _query_at_node(replace(cfg, node_nm=lo))
    b = _query_at_node(replace(cfg, node_nm=hi))
    mixed = {f: (1 - t) * getattr(a, f) + t * getattr(b, f) for f in QUANTITIES}
    return SramCost(**mixed, source=_joined(a.source, b.source))


def _query_at_node(cfg: SramConfig) -> SramCost:
    """Rule 2 at a calibrated node."""
    depth = max(1, -(-cfg.capacity_bits // cfg.word_bits))

    def at_width(word: int, capacity: int) -> SramCost:
        return capacity_cost(cfg.node_nm, capacity, word, cfg.banks, cfg.ports)

    if cfg.word_bits < MIN_WORD_BITS:
        return at_width(MIN_WORD_BITS, depth * cfg.word_bits)
    lo = 1 << (cfg.word_bits.bit_length() - 1)
    low = at_width(lo, depth * lo)
    if lo == cfg.word_bits:
        return low
    high = at_width(2 * lo, depth * 2 * lo)
    return _geometric(low, high, math.log2(cfg.word_bits / lo))


def capacity_cost(
    node_nm: float, capacity_bits: int, word_bits: int, banks: int, ports: int
) -> SramCost:
    """Rule 3 at a calibrated node and power-of-two width of at least 8 bits."""
    capacity = max(capacity_bits, MIN_CAPACITY_BITS)
    x = math.log2(capacity)
    k = math.floor(x)
    sizes = envelope(node_nm, word_bits, banks, ports, math.ceil(x))
    low = sizes[k - MIN_EXP]
    cost = low if x == k else _geometric(low, sizes[k + 1 - MIN_EXP], x - k)
    if capacity_bits >= MIN_CAPACITY_BITS:
        return cost
    source = cost.source if cost.source != "cacti7" else f"cacti7 scaled from {capacity} bits"
    return _size_scaled(cost, capacity_bits / capacity, source)


def envelope(
    node_nm: float, word_bits: int, banks: int, ports: int, top_exp: int
) -> list[SramCost]:
    """CACTI's optima at 2^MIN_EXP..2^top_exp bits, each :data:`MONOTONE` quantity raised to
    the largest value at any smaller power of two (a running maximum), cycle time as it is."""
    sizes: list[SramCost] = []
    for k in range(MIN_EXP, top_exp + 1):
        cost = optimum(node_nm, 1 << k, word_bits, banks, ports)
        if sizes:
            least = {q: max(getattr(cost, q), getattr(sizes[-1], q)) for q in MONOTONE}
            raised = any(least[q] > getattr(cost, q) for q in MONOTONE)
            source = f"{cost.source}, raised to a smaller size's" if raised else cost.source
            cost = replace(cost, **least, source=source)
        sizes.append(cost)
    return sizes


def optimum(node_nm: float, capacity: int, word_bits: int, banks: int, ports: int) -> SramCost:
    """CACTI's own choice at ``capacity`` bits (a power of two), doubled per rule 4 until CACTI
    finds one and scaled back by rule 3's exponents: one row of the committed table."""
    for doubling in range(MAX_FALLBACK_DOUBLINGS + 1):
        try:
            cost = cached_run(SramConfig(node_nm, capacity << doubling, word_bits, banks, ports))
        except CactiFailed:
            continue
        if not doubling:
            return cost
        return _size_scaled(cost, 0.5**doubling, f"cacti7 fallback x{1 << doubling}")
    raise QsnnError(
        f"CACTI found no valid organisation for {capacity} bits in {word_bits}-bit words, "
        f"{banks} banks, {ports} ports at {node_nm:g} nm even at "
        f"{2**MAX_FALLBACK_DOUBLINGS}x the capacity (try fewer banks)"
    )


def _geometric(low: SramCost, high: SramCost, t: float) -> SramCost:
    """log value linear in ``t`` from ``low`` (t = 0) to ``high`` (t = 1)."""
    mixed = {f: getattr(low, f) ** (1 - t) * getattr(high, f) ** t for f in QUANTITIES}
    return SramCost(**mixed, source=_joined(low.source, high.source))


def _joined(a: str, b: str) -> str:
    return a if a == b else f"{a}; {b}"


def _size_scaled(cost: SramCost, ratio: float, source: str) -> SramCost:
    """``cost`` scaled to ``ratio`` times the capacity: energy ∝ ratio^0.78, area and leakage ∝
    ratio, cycle time unchanged (hwcomponents-cacti's rule)."""
    energy = ratio**SMALL_ENERGY_EXP
    return SramCost(
        read_J=cost.read_J * energy,
        write_J=cost.write_J * energy,
        leak_W=cost.leak_W * ratio,
        area_m2=cost.area_m2 * ratio,
        cycle_s=cost.cycle_s,
        source=source,
    )
