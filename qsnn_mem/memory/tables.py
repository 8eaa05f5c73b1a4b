"""The detailed tables of one priced pair: energy.csv and area.csv (SI units)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import components, plan
from .estimate import Evaluation

ENERGY_COLUMNS = ["memory", "tensor", "phase", "stage", "op", "words", "energy_J", "source"]
AREA_COLUMNS = [
    "memory",
    "kind",
    "word_bits",
    "banks",
    "capacity_bits",
    "area_m2",
    "leakage_W",
    "source",
]


def energy_table(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """Energy by memory, tensor, phase, stage and operation; plus logic and leakage rows."""
    arch, trace = ev.pairs[pair]
    acc = trace.accesses
    sel = np.flatnonzero(ev.acc_pair == pair)
    rows = ev.acc_row[sel]
    names = [m.name for m in arch.memories]
    mem = [names[ev.inst_mem[i]] for i in ev.acc_inst[sel]]
    tensor = (acc["layer"].astype(str) + "." + acc["tensor"].astype(str)).to_numpy()[rows]
    base = {
        "memory": mem,
        "tensor": tensor,
        "phase": acc["phase"].to_numpy()[rows],
        "stage": acc["stage"].to_numpy()[rows],
    }
    dynamic = pd.DataFrame(
        {
            **base,
            "op": acc["op"].to_numpy()[rows],
            "words": ev.words[sel],
            "energy_J": ev.dyn_J[sel],
            "source": [ev.sources[i] for i in ev.acc_inst[sel]],
        }
    )
    logic = pd.DataFrame(
        {
            **base,
            "op": "logic",
            "words": 0.0,
            "energy_J": ev.logic_J[sel],
            "source": components.SOURCE_LOGIC,
        }
    )
    logic = logic[logic["energy_J"] > 0]
    inst = np.flatnonzero(ev.inst_pair == pair)
    leak = pd.DataFrame(
        [
            {
                "memory": names[ev.inst_mem[i]],
                "tensor": "*",
                "phase": phase,
                "stage": "*",
                "op": "leak",
                "words": 0.0,
                "energy_J": ev.leak_J[i, p],
                "source": ev.sources[i] + "; leakage x run time of the cycle model",
            }
            for i in inst
            for p, phase in enumerate(plan.PHASES)
        ],
        columns=ENERGY_COLUMNS,
    )
    frame = pd.concat([dynamic, logic, leak], ignore_index=True)
    keys = ["memory", "tensor", "phase", "stage", "op", "source"]
    frame = frame.groupby(keys, sort=False, as_index=False)[["words", "energy_J"]].sum()
    frame["words"] = np.round(frame["words"]).astype(np.int64)
    return frame[ENERGY_COLUMNS]


def area_table(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """Capacity, area and leakage power of each memory of the pair."""
    arch, _ = ev.pairs[pair]
    inst = np.flatnonzero(ev.inst_pair == pair)
    return pd.DataFrame(
        [
            {
                "memory": m.name,
                "kind": m.kind,
                "word_bits": m.word_bits,
                "banks": m.banks,
                "capacity_bits": int(ev.capacity_bits[i]),
                "area_m2": ev.costs[i, 3],
                "leakage_W": ev.costs[i, 2],
                "source": ev.sources[i],
            }
            for i in inst
            for m in [arch.memories[ev.inst_mem[i]]]
        ],
        columns=AREA_COLUMNS,
    )
