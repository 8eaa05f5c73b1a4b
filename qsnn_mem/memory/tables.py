"""The detailed tables of one priced pair: energy.csv and area.csv (SI units), one row per
physical array."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import datapath, kinds, plan
from .encodings.base import ROLES
from .estimate import N_ROLES, Evaluation

ENERGY_COLUMNS = [
    "memory", "array", "tensor", "phase", "stage", "op", "component", "accesses", "energy_J",
    "source",
]  # fmt: skip
AREA_COLUMNS = [
    "memory", "array", "kind", "word_bits", "depth", "banks", "capacity_bits", "area_m2",
    "leakage_W", "source",
]  # fmt: skip
COMPONENTS = ("memory", "controller", "datapath")


def energy_table(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """Energy by memory, array, tensor, phase, stage and operation, split into memory,
    controller and datapath; plus leakage rows per array."""
    arch, trace = ev.pairs[pair]
    acc = trace.accesses
    sel = np.flatnonzero((ev.acc_pair == pair) & (ev.keep > 0))
    rows = ev.acc_row[sel]
    names = [m.name for m in arch.memories]
    memory = np.array(names, dtype=object)[ev.mem_local[ev.acc_mem[sel]]]
    tensor = (acc["layer"].astype(str) + "." + acc["tensor"].astype(str)).to_numpy()[rows]
    phase = acc["phase"].to_numpy()[rows]
    stage = acc["stage"].to_numpy()[rows]
    op = acc["op"].to_numpy()[rows]
    base = ev.acc_mem[sel] * N_ROLES
    parts = []
    for r, role in enumerate(ROLES):
        for name, counts in (("read", ev.reads), ("write", ev.writes)):
            hit = counts[sel, r] > 0
            if not hit.any():
                continue
            energy = np.where(
                name == "read", ev.reads[sel, r] * ev.costs[base + r, 0],
                ev.writes[sel, r] * ev.costs[base + r, 1],
            )  # fmt: skip
            parts.append(
                pd.DataFrame(
                    {
                        "memory": memory[hit], "array": role, "tensor": tensor[hit],
                        "phase": phase[hit], "stage": stage[hit], "op": name,
                        "component": "memory", "accesses": counts[sel, r][hit],
                        "energy_J": energy[hit],
                        "source": np.array(ev.sources, dtype=object)[base[hit] + r],
                    }
                )
            )  # fmt: skip
    cycles = (ev.reads[sel] + ev.writes[sel]).sum(1)
    for component, energy, source in (
        ("controller", ev.controller_J[sel], datapath.SOURCE_CONTROLLER),
        ("datapath", ev.datapath_J[sel], datapath.SOURCE_DATAPATH),
    ):
        hit = energy > 0
        parts.append(
            pd.DataFrame(
                {
                    "memory": memory[hit], "array": "*", "tensor": tensor[hit],
                    "phase": phase[hit], "stage": stage[hit], "op": op[hit],
                    "component": component,
                    "accesses": np.where(component == "controller", cycles, 0.0)[hit],
                    "energy_J": energy[hit], "source": source,
                }
            )
        )  # fmt: skip
    parts.append(_leak_rows(ev, pair, names))
    frame = pd.concat(parts, ignore_index=True)
    keys = ["memory", "array", "tensor", "phase", "stage", "op", "component", "source"]
    frame = frame.groupby(keys, sort=False, as_index=False)[["accesses", "energy_J"]].sum()
    frame["accesses"] = np.round(frame["accesses"]).astype(np.int64)
    return frame[ENERGY_COLUMNS]


def _leak_rows(ev: Evaluation, pair: int, names: list[str]) -> pd.DataFrame:
    rows = []
    for i in _arrays_of(ev, pair):
        for p, phase in enumerate(plan.PHASES):
            rows.append(
                {
                    "memory": names[ev.mem_local[i // N_ROLES]], "array": ROLES[i % N_ROLES],
                    "tensor": "*", "phase": phase, "stage": "*", "op": "leak",
                    "component": "memory", "accesses": 0.0, "energy_J": ev.leak_J[i, p],
                    "source": ev.sources[i] + "; leakage x run time of the cycle model",
                }
            )  # fmt: skip
    return pd.DataFrame(rows, columns=ENERGY_COLUMNS)


def _arrays_of(ev: Evaluation, pair: int) -> np.ndarray:
    mem = np.arange(len(ev.width)) // N_ROLES
    return np.flatnonzero((ev.mem_pair[mem] == pair) & ev.used)


def area_table(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """Width, depth, capacity, area and leakage power of each array of the pair."""
    arch, _ = ev.pairs[pair]
    out = []
    for i in _arrays_of(ev, pair):
        m = arch.memories[ev.mem_local[i // N_ROLES]]
        out.append(
            {
                "memory": m.name, "array": ROLES[i % N_ROLES], "kind": kinds.KINDS[ev.kind[i]],
                "word_bits": int(ev.width[i]), "depth": int(ev.depth[i]), "banks": m.banks,
                "capacity_bits": int(ev.width[i] * ev.depth[i]), "area_m2": ev.costs[i, 3],
                "leakage_W": ev.costs[i, 2], "source": ev.sources[i],
            }
        )  # fmt: skip
    return pd.DataFrame(out, columns=AREA_COLUMNS)


def traversal_table(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """The error propagation each weight tensor uses (row gather or column scatter)."""
    _, trace = ev.pairs[pair]
    keys = plan.trace_arrays(trace).keys
    start = sum(len(plan.trace_arrays(t).keys) for _, t in ev.pairs[:pair])
    chosen = ev.traversal[start : start + len(keys)]
    return pd.DataFrame(
        [
            {"tensor": f"{layer}.{tensor}", "propagation": ("", "row", "col")[c]}
            for (layer, tensor), c in zip(keys, chosen, strict=True)
            if c
        ],
        columns=["tensor", "propagation"],
    )
