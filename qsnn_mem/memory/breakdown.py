"""What an estimate is made of: energy by memory × stage, the largest contributors, each
array's cost per access, and the organization that produced them.

The functions take one pair's :class:`~.estimate.Evaluation` or its energy.csv and area.csv
frames (:mod:`.tables`) and return DataFrames. Units are SI and named by the column's suffix
(``_J``, ``_W``, ``_m2``, ``_bits``, ``_hz``, ``_nm``) except energy per array access, in pJ
(``_pJ``). Training energies are per epoch (train energy / ``train_epochs``), inference
energies per inference (infer energy / ``infer_samples``); a trace of part of an epoch
(``train_epochs`` 0, e.g. ``qsnn-mem synth``) is reported per trace (column ``per``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import plan, tables
from .accelergy.ert import ErtReport
from .arch import Arch
from .encodings.base import ROLES
from .estimate import N_ROLES, Evaluation

LEAKAGE = "leakage"
TOTAL = "total"
BACKENDS = {
    "table": "CACTI 7 table (a committed grid of real CACTI 7 runs, interpolated)",
    "cacti": "live CACTI 7 (qsnn-mem cacti build)",
    "ert": "user energy reference table (ERT)",
}
NARROW_WORDS = {
    "same-depth": "an SRAM array narrower than 8 bits is the byte-wide macro of the same depth",
    "same-capacity": "an SRAM array narrower than 8 bits is the column-muxed array of exactly "
    "depth x width cells",
}
SCOPE = {
    "modelled": [
        "on-chip memory arrays (SRAM from CACTI 7, register files from flip-flops): energy "
        "per word read and written, area, leakage",
        "controller: one cycle per array access",
        "datapath: accumulates, multiplies, compares, popcounts and address adds of the walks",
        "leakage of every array over the run time of the cycle model",
    ],
    "not_modelled": [
        "DRAM and other off-chip memory", "interconnect (wires, buses, network on chip)",
        "neuron arithmetic (decay, threshold, reset, surrogate gradient, quantizers)",
        "clock tree and I/O",
    ],
}  # fmt: skip
PROPAGATION_COLUMNS = ["tensor", "memory", "setting", "used"]
STAGES_KEYS = ["phase", "per", "memory"]
TOP_KEYS = ["phase", "per", "rank", "memory", "layer", "tensor", "stage", "op"]
ARRAY_COLUMNS = [
    "memory", "array", "kind", "word_bits", "depth", "banks", "capacity_bits", "area_m2",
    "leakage_W", "read_pJ", "write_pJ", "words_per_read", "words_per_write",
]  # fmt: skip


@dataclass
class Breakdown:
    """Everything ``qsnn-mem estimate`` explains, for one (arch, trace) pair."""

    organization: dict
    trace: dict
    propagation: pd.DataFrame
    totals: dict
    stages: pd.DataFrame
    contributors: pd.DataFrame  # every (memory, layer, tensor, stage, op), ranked per phase
    arrays: pd.DataFrame
    scope: dict


def divisors(normalisers: Mapping[str, int]) -> dict[str, tuple[str, float]]:
    """Per phase, what its energy is divided by: ``{'train': ('epoch', epochs), ...}``."""
    epochs = int(normalisers.get("train_epochs", 0))
    infers = int(normalisers.get("infer_samples", 0))
    return {
        "train": ("epoch", float(epochs)) if epochs > 0 else ("trace", 1.0),
        "infer": ("inference", float(infers)) if infers > 0 else ("trace", 1.0),
    }


def _stage_of(energy: pd.DataFrame) -> pd.Series:
    """Each row's stage, leakage rows (stage ``*``) as ``leakage``."""
    return energy["stage"].where(energy["op"] != "leak", LEAKAGE)


def _phases(energy: pd.DataFrame) -> list[str]:
    """The phases with energy (leakage rows of a phase that never ran are all zero)."""
    totals = energy.groupby("phase")["energy_J"].sum()
    return [p for p in plan.PHASES if totals.get(p, 0.0) > 0]


def stage_breakdown(energy: pd.DataFrame, normalisers: Mapping[str, int]) -> pd.DataFrame:
    """Energy per epoch (train) and per inference (infer) of each memory by stage, leakage
    apart, with the memory's total and its share of the phase; a ``total`` row per phase."""
    per = divisors(normalisers)
    grouped = energy.assign(stage=_stage_of(energy)).pivot_table(
        index=["phase", "memory"], columns="stage", values="energy_J", aggfunc="sum",
        fill_value=0.0, sort=False,
    )  # fmt: skip
    stages = [*plan.STAGES, *sorted(set(grouped.columns) - {*plan.STAGES, LEAKAGE}), LEAKAGE]
    grouped = grouped.reindex(columns=stages, fill_value=0.0)
    grouped.columns = [f"{s}_J" for s in stages]
    # The arch's order: leakage rows come array by array.
    order = energy.sort_values("op", key=lambda op: op != "leak", kind="stable")["memory"]
    memories = list(dict.fromkeys(order))
    frames = []
    for phase in _phases(energy):
        unit, divisor = per[phase]
        block = grouped.loc[phase].reindex(memories, fill_value=0.0) / divisor
        block = pd.concat([block, block.sum().to_frame(TOTAL).T]).rename_axis("memory")
        block["total_J"] = block.sum(axis=1)
        block["share"] = block["total_J"] / block["total_J"].iloc[-1]
        block = block.reset_index()
        block.insert(0, "per", unit)
        block.insert(0, "phase", phase)
        frames.append(block)
    columns = [*STAGES_KEYS, *grouped.columns, "total_J", "share"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def contributors(
    energy: pd.DataFrame, normalisers: Mapping[str, int], top: int | None = None
) -> pd.DataFrame:
    """Energy per epoch / inference of each (memory, layer, tensor, stage, op), memory,
    controller and datapath together, largest first within each phase, with its share of the
    phase's total (leakage: one row per memory, layer, tensor and stage ``*``); the first
    ``top`` of each phase, or all."""
    per = divisors(normalisers)
    keys = ["phase", "memory", "tensor", "stage", "op"]
    grouped = energy.groupby(keys, sort=False, as_index=False)["energy_J"].sum()
    named = grouped["tensor"].where(grouped["op"] != "leak", "*.*")
    grouped[["layer", "tensor"]] = named.str.rsplit(".", n=1, expand=True)
    frames = []
    for phase in _phases(energy):
        unit, divisor = per[phase]
        block = grouped[grouped["phase"] == phase].copy()
        total = block["energy_J"].sum()
        block = block.sort_values("energy_J", ascending=False, kind="stable")
        block["energy_J"] = block["energy_J"] / divisor
        block["share"] = block["energy_J"] / (total / divisor)
        block.insert(1, "per", unit)
        block.insert(2, "rank", np.arange(1, len(block) + 1))
        frames.append(block.head(top) if top is not None else block)
    columns = [*TOP_KEYS, "energy_J", "share"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def words_per_access(ev: Evaluation, pair: int = 0) -> pd.DataFrame:
    """Per array, its word reads and writes and the access-table accesses (row, column or
    element accesses of the trace) that caused them, over both phases."""
    arch, trace = ev.pairs[pair]
    sel = np.flatnonzero((ev.acc_pair == pair) & (ev.keep > 0))
    logical = plan.trace_arrays(trace).a_accesses[ev.acc_row[sel]].astype(float)
    rows = []
    mem_of = np.arange(len(ev.width)) // N_ROLES
    for i in np.flatnonzero((ev.mem_pair[mem_of] == pair) & ev.used):
        mem, role = i // N_ROLES, i % N_ROLES
        mine = ev.acc_mem[sel] == mem
        reads, writes = ev.reads[sel, role] * mine, ev.writes[sel, role] * mine
        rows.append(
            {
                "memory": arch.memories[ev.mem_local[mem]].name, "array": ROLES[role],
                "reads": reads.sum(), "read_accesses": logical[reads > 0].sum(),
                "writes": writes.sum(), "write_accesses": logical[writes > 0].sum(),
            }
        )  # fmt: skip
    columns = ["memory", "array", "reads", "read_accesses", "writes", "write_accesses"]
    return pd.DataFrame(rows, columns=columns)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def array_costs(area: pd.DataFrame, energy: pd.DataFrame, words: pd.DataFrame) -> pd.DataFrame:
    """area.csv's arrays with their energy per word read and written (pJ: the memory rows'
    energy / accesses) and words per trace access (``words``: :func:`words_per_access`)."""
    memory = energy[energy["component"] == "memory"]
    sums = memory.groupby(["memory", "array", "op"])[["accesses", "energy_J"]].sum()
    out = area.drop(columns=["source"]).copy()
    index = pd.MultiIndex.from_frame(out[["memory", "array"]])
    for op in ("read", "write"):
        got = sums.xs(op, level="op") if op in sums.index.get_level_values("op") else sums[:0]
        got = got.reindex(index)
        out[f"{op}_pJ"] = _ratio(got["energy_J"], got["accesses"]).to_numpy() * 1e12
    w = words.set_index(["memory", "array"]).reindex(index)
    out["words_per_read"] = _ratio(w["reads"], w["read_accesses"]).to_numpy()
    out["words_per_write"] = _ratio(w["writes"], w["write_accesses"]).to_numpy()
    return out[ARRAY_COLUMNS]


def propagation(arch: Arch, traversal: pd.DataFrame, energy: pd.DataFrame) -> pd.DataFrame:
    """Per weight tensor: its memory, the arch's ``propagation`` setting and the traversal
    priced (``row`` gather, ``col`` scatter, or ``none``: no error propagated through it)."""
    used = dict(zip(traversal["tensor"], traversal["propagation"], strict=True))
    weights = [t for t in dict.fromkeys(energy["tensor"]) if t.endswith(".weight")]
    rows = []
    for name in dict.fromkeys([*weights, *used]):
        layer, tensor = name.rsplit(".", 1)
        owner = arch.owner_of(layer, tensor)
        memory = arch.memories[owner] if owner is not None else None
        rows.append(
            {
                "tensor": name, "memory": memory.name if memory else "",
                "setting": memory.propagation if memory else "", "used": used.get(name, "none"),
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=PROPAGATION_COLUMNS)


def organization(arch: Arch, area: pd.DataFrame, ert: ErtReport | None = None) -> dict:
    """Name, node, clock, cost backend (a user's ERT, ``ert``, over the arch's), the
    narrow-word rule and which arrays it applies to, and the memories."""
    key = "ert" if ert else arch.backend
    narrow = area[(area["kind"] == "sram") & (area["word_bits"] < 8)]
    regfile = (area["kind"] == "regfile").any()
    text = BACKENDS[arch.backend]
    if ert:
        applied = "; ".join(ert.applied) or "nothing applied"
        text = f"{BACKENDS[key]} {ert.path} ({applied}), other costs: {text}"
    return {
        "name": arch.name, "description": arch.description,
        "tech_node_nm": arch.tech_node_nm, "clock_hz": arch.clock_hz,
        "backend": key, "backend_text": text,
        "regfile_text": "Aladdin 40 nm flip-flop per bit, scaled to the node" if regfile else "",
        "sources": list(dict.fromkeys(area["source"])),
        "narrow_words": arch.narrow_words, "narrow_words_text": NARROW_WORDS[arch.narrow_words],
        "narrow_arrays": (narrow["memory"] + "." + narrow["array"]).tolist(),
        "memories": [_memory(m) for m in arch.memories],
    }  # fmt: skip


def _memory(m) -> dict:
    out = {"name": m.name, "kind": m.kind, "holds": list(m.holds), "banks": m.banks,
           "ports": m.ports}  # fmt: skip
    if m.holds_weights:
        out.update(encoding=m.encoding, synapses_per_access=m.synapses_per_access)
    if m.word_bits is not None:
        out["word_bits"] = m.word_bits
    return out


def totals(summary: Mapping, normalisers: Mapping[str, int]) -> dict:
    """The summary row of :meth:`Evaluation.summary`, training split per epoch."""
    unit, divisor = divisors(normalisers)["train"]
    keys = (
        "energy_per_epoch_J", "energy_per_inference_J", "train_J", "infer_J", "area_m2",
        "leakage_W", "capacity_bits", "train_time_s", "infer_time_s",
    )  # fmt: skip
    out: dict = {key: float(summary[key]) for key in keys}
    out["train_per"] = unit
    out["train_split_J"] = {
        part: float(summary[f"train_{part}_J"]) / divisor
        for part in ("memory", "controller", "datapath", LEAKAGE)
    }
    return out


def breakdown(
    ev: Evaluation,
    pair: int = 0,
    energy: pd.DataFrame | None = None,
    area: pd.DataFrame | None = None,
    summary: Mapping | None = None,
) -> Breakdown:
    """Every breakdown of one pair (energy.csv, area.csv, summary row: built unless given)."""
    arch, trace = ev.pairs[pair]
    energy = tables.energy_table(ev, pair) if energy is None else energy
    area = tables.area_table(ev, pair) if area is None else area
    norm = trace.normalisers
    return Breakdown(
        organization=organization(arch, area, ev.ert_report),
        trace={"folder": trace.folder, "workload": trace.workload, "mode": trace.mode, **norm},
        propagation=propagation(arch, tables.traversal_table(ev, pair), energy),
        totals=totals(ev.summary().iloc[pair] if summary is None else summary, norm),
        stages=stage_breakdown(energy, norm),
        contributors=contributors(energy, norm),
        arrays=array_costs(area, energy, words_per_access(ev, pair)),
        scope=SCOPE,
    )


def as_dict(report: Breakdown, top: int | None = None) -> dict:
    """The breakdown as plain JSON-ready data (NaN as None), contributors cut to ``top``."""
    ranked = report.contributors
    ranked = ranked if top is None else ranked[ranked["rank"] <= top]
    return _plain({
        "organization": report.organization, "trace": report.trace,
        "propagation": report.propagation.to_dict("records"), "totals": report.totals,
        "stages": report.stages.to_dict("records"), "top": ranked.to_dict("records"),
        "arrays": report.arrays.to_dict("records"), "scope": report.scope,
    })  # fmt: skip


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
