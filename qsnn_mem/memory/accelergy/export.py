"""A priced pair as the files an Accelergy or Timeloop user reads (docs/accelergy.md).

* ``ERT.yaml``: energy reference table (pJ per action), one table per component: each physical
  array of each memory (``ARCH.MEMORY.ARRAY``: ``read`` and ``write`` of one word, argument
  ``bits_per_action`` = the word width; ``leak`` per cycle, argument ``global_cycle_seconds``),
  each memory's controller (``access``: one cycle of the walk per array access) and datapath
  (``add``, ``multiply``, ``register_read``, ``popcount``, ``compare``, arguments: operand bits).
* ``ART.yaml``: area reference table, µm² per array (controller and datapath have none here).
* ``action_counts_train.yaml``, ``action_counts_infer.yaml``: the trace's counts of those
  actions in each phase, in Accelergy's action-count layout (``leak`` counts cycles).
* ``architecture.yaml``: the organization in Accelergy v0.4 form (``!Container``,
  ``!Component``), with the field's attribute names.

Σ counts × ERT energies gives energy.csv's total of each phase (tests/test_accelergy.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ...errors import QsnnError
from ...io import ensure_dir, write_text
from .. import datapath, kinds, plan
from ..encodings.base import ROLES
from ..estimate import N_ROLES, Evaluation

VERSION = "0.4"
TO_PJ = 1e12  # J → pJ
TO_UM2 = 1e12  # m² → µm²
CLASSES = {"sram": "SRAM", "regfile": "regfile"}
COUNT_FILES = {"train": "action_counts_train.yaml", "infer": "action_counts_infer.yaml"}


class _Table:
    """One component: its ERT rows (pJ) and its counts per phase, keyed by action and
    arguments."""

    def __init__(self, name: str, area_um2: float | None = None) -> None:
        self.name = name
        self.area_um2 = None if area_um2 is None else float(area_um2)
        self.rows: dict[tuple, tuple[str, dict, float, np.ndarray]] = {}

    def add(self, action: str, arguments: dict, energy_pJ: float, counts) -> None:
        key = (action, tuple(sorted(arguments.items())))
        if key not in self.rows:
            self.rows[key] = (action, arguments, float(energy_pJ), np.zeros(len(plan.PHASES)))
        self.rows[key][3][:] += counts

    def ert(self) -> dict:
        actions = [
            {"name": a, "arguments": args, "energy": e} for a, args, e, _ in self.rows.values()
        ]
        return {"name": self.name, "actions": actions}

    def counts(self, phase: int) -> dict:
        rows = [
            {"name": a, **({"arguments": args} if args else {}), "counts": _number(c[phase])}
            for a, args, _, c in self.rows.values()
        ]
        return {"name": self.name, "action_counts": rows}


def export_accelergy(ev: Evaluation, pair: int, folder: str | Path) -> list[Path]:
    """Write ERT.yaml, ART.yaml, the action counts of both phases and architecture.yaml of
    ``ev``'s pair ``pair`` into ``folder``; the paths written."""
    arch, trace = ev.pairs[pair]
    folder = ensure_dir(folder)
    tables = _tables(ev, pair)
    head = (
        f"# qsnn-mem export of arch '{arch.name}' priced on trace {trace.folder}\n"
        "# energies in pJ per action, areas in um^2 (docs/accelergy.md)\n"
    )
    areas = [{"name": t.name, "area": t.area_um2} for t in tables if t.area_um2 is not None]
    texts = {
        "ERT.yaml": _yaml({"ERT": {"version": VERSION, "tables": [t.ert() for t in tables]}}),
        "ART.yaml": _yaml({"ART": {"version": VERSION, "tables": areas}}),
    }
    for p, (phase, name) in enumerate(COUNT_FILES.items()):
        counts = {"action_counts": {"version": VERSION, "local": [t.counts(p) for t in tables]}}
        texts[name] = f"# phase '{phase}': {_normaliser(trace, phase)}\n" + _yaml(counts)
    texts["architecture.yaml"] = _architecture(ev, pair)
    for name, text in texts.items():
        write_text(folder / name, head + text)
    return [folder / name for name in texts]


def _yaml(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)


def _normaliser(trace, phase: str) -> str:
    norm = trace.normalisers
    if phase == "train":
        return f"{norm.get('train_epochs', 0)} training epoch(s)"
    return f"{norm.get('infer_samples', 0)} inference sample(s)"


def _tables(ev: Evaluation, pair: int) -> list[_Table]:
    arch, trace = ev.pairs[pair]
    sel = np.flatnonzero(ev.acc_pair == pair)
    phase = plan.trace_arrays(trace).a_phase[ev.acc_row[sel]]
    reads, writes = _per_array(ev, sel, phase, ev.reads), _per_array(ev, sel, phase, ev.writes)
    cycles = ev.phase_time_s[pair] * arch.clock_hz
    steps = (reads + writes).reshape(-1, N_ROLES, len(plan.PHASES)).sum(1)
    ops = _datapath(ev, sel, phase)
    out = []
    for m in np.flatnonzero(ev.mem_pair == pair):
        memory = arch.memories[ev.mem_local[m]].name
        prefix = f"{arch.name}.{memory}"
        for r, role in enumerate(ROLES):
            i = m * N_ROLES + r
            if ev.width[i] * ev.depth[i] <= 0:
                continue
            table = _Table(f"{prefix}.{role}", ev.costs[i, 3] * TO_UM2)
            word = {"bits_per_action": _number(ev.width[i])}
            table.add("read", word, ev.costs[i, 0] * TO_PJ, reads[i])
            table.add("write", word, ev.costs[i, 1] * TO_PJ, writes[i])
            period = {"global_cycle_seconds": 1.0 / arch.clock_hz}
            table.add("leak", period, ev.costs[i, 2] / arch.clock_hz * TO_PJ, cycles)
            out.append(table)
        if not (ev.width[m * N_ROLES : (m + 1) * N_ROLES] > 0).any():
            continue  # the trace leaves this memory empty: no arrays, nothing to control
        controller = _Table(f"{prefix}.controller")
        controller.add("access", {}, _controller_J(ev, m, arch) * TO_PJ, steps[m])
        out.append(controller)
        unit = _Table(f"{prefix}.datapath")
        groups = ops[m].groupby(["action", "bits", "bits_b"], sort=False) if m in ops else []
        for (action, bits, bits_b), group in groups:
            args = {"n_bits": _number(bits)} if bits_b < 0 else {"n_bits_a": _number(bits)}
            if bits_b >= 0:
                args["n_bits_b"] = _number(bits_b)
            counts = np.bincount(group["phase"], group["count"], minlength=len(plan.PHASES))
            unit.add(action, args, group["energy"].iloc[0] * TO_PJ, counts)
        if unit.rows:  # a memory without datapath operations has no datapath table
            out.append(unit)
    return out


def _per_array(ev: Evaluation, sel, phase, counts) -> np.ndarray:
    """Per array instance and phase: the kept accesses of the rows ``sel``."""
    out = np.zeros((len(ev.width), len(plan.PHASES)))
    index = (ev.acc_mem[sel, None] * N_ROLES + np.arange(N_ROLES)).ravel()
    np.add.at(out, (index, np.repeat(phase, N_ROLES)), counts[sel].ravel())
    return out


def _controller_J(ev: Evaluation, m: int, arch) -> float:
    if ev.controller_per_access is not None:
        return float(ev.controller_per_access[m])
    return float(datapath.controller_J(arch.tech_node_nm))


def _datapath(ev: Evaluation, sel, phase) -> dict[int, pd.DataFrame]:
    """Datapath operations of the kept rows ``sel``, per memory instance: action, operand bits
    (bits_b −1 where the action has one operand), phase, count and energy of one (J)."""
    if ev.operands is None or ev.access is None:
        raise QsnnError("this evaluation keeps no datapath operands (evaluate() writes them)")
    frames = []
    keep = ev.keep[sel]
    for op in datapath.operations(ev.operands, ev.access):
        count = op.count[sel] * keep
        hit = count > 0
        bits_b = op.bits_b[sel][hit] if op.bits_b is not None else np.full(hit.sum(), -1.0)
        frames.append(
            pd.DataFrame(
                {
                    "mem": ev.acc_mem[sel][hit], "action": op.action, "bits": op.bits[sel][hit],
                    "bits_b": bits_b, "phase": phase[hit], "count": count[hit],
                    "energy": op.energy_J[sel][hit],
                }
            )
        )  # fmt: skip
    table = pd.concat(frames, ignore_index=True)
    return {int(m): group for m, group in table.groupby("mem")}


def _number(x) -> int | float:
    """A count or width as YAML writes it best: an int where it is whole."""
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


class _Tagged:
    """A mapping written with a YAML tag (``!Container``, ``!Component``, ``!Parallel``)."""

    def __init__(self, tag: str, mapping: dict) -> None:
        self.tag, self.mapping = tag, mapping


class _Dumper(yaml.SafeDumper):
    """Safe YAML with tagged mappings and every value written out (no ``&id``/``*id``
    aliases: Accelergy's files have none, and :func:`.ert.load_ert` refuses them)."""

    def ignore_aliases(self, data) -> bool:
        return True


_Dumper.add_representer(_Tagged, lambda d, node: d.represent_mapping(node.tag, node.mapping))


def _architecture(ev: Evaluation, pair: int) -> str:
    """Accelergy v0.4 architecture: the arch as a container, each memory a container of its
    arrays (SRAM or regfile components), controller and datapath."""
    arch, _ = ev.pairs[pair]
    common = {
        "technology": f"{arch.tech_node_nm:g}nm",
        "tech_node": arch.tech_node_nm / 1e9,
        "global_cycle_seconds": 1.0 / arch.clock_hz,
    }
    branches = []
    for m in np.flatnonzero(ev.mem_pair == pair):
        memory = arch.memories[ev.mem_local[m]]
        ports = {"n_banks": memory.banks, "n_rw_ports": memory.ports}
        parts = []
        for r, role in enumerate(ROLES):
            i = m * N_ROLES + r
            if ev.width[i] * ev.depth[i] <= 0:
                continue
            kind = kinds.KINDS[ev.kind[i]]
            width = _number(ev.width[i])
            attributes = {"width": width, "depth": _number(ev.depth[i]), "datawidth": width}
            attributes |= ports
            if kind == "sram" and ev.width[i] < 8:
                attributes["narrow_words"] = arch.narrow_words
            parts.append(
                _Tagged(
                    "!Component", {"name": role, "class": CLASSES[kind], "attributes": attributes}
                )
            )
        if not parts:
            continue  # the trace leaves this memory empty
        parts.append(
            _Tagged(
                "!Component",
                {
                    "name": "controller", "class": "controller",
                    "attributes": {"width": datapath.CONTROLLER_BITS},
                },
            )
        )  # fmt: skip
        parts.append(_Tagged("!Component", {"name": "datapath", "class": "datapath"}))
        holds = {"holds": list(memory.holds), "kind": memory.kind}
        if memory.encoding:
            holds["encoding"] = memory.encoding
        branches.append(
            _Tagged(
                "!Hierarchical",
                {
                    "nodes": [
                        _Tagged("!Container", {"name": memory.name, "attributes": holds | ports}),
                        _Tagged("!Parallel", {"nodes": parts}),
                    ]
                },
            )
        )
    nodes = [
        _Tagged("!Container", {"name": arch.name, "attributes": common}),
        _Tagged("!Parallel", {"nodes": branches}),
    ]
    data = {"architecture": {"version": VERSION, "nodes": nodes}}
    return _yaml(data)
