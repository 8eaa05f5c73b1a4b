"""Memory kinds: how one physical array is priced. One module each, registered here.

A kind module declares ``NAME`` and ``cost(backend, node_nm, capacity_bits, word_bits, banks,
ports, narrow) -> (values, sources)``: ``values`` is ``[n, 5]`` (read J, write J, leakage W,
area m², random cycle s) per array, vectorised; ``sources`` says where each number came from.
"""

from __future__ import annotations

from . import regfile, sram

REGISTRY = {m.NAME: m for m in (sram, regfile)}
KINDS = tuple(REGISTRY)
QUANTITIES = ("read_J", "write_J", "leak_W", "area_m2", "cycle_s")
