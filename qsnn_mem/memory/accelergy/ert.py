"""A user's Accelergy energy reference table (ERT) as the costs of our arrays.

Read (docs/accelergy.md): what Accelergy writes, ``ERT: {version, tables: [{name, actions:
[{name, arguments, energy}]}]}`` (v0.3 and v0.4), and the per-component form ``{component:
{action: energy | {energy, arguments} | [{arguments, energy}]}}`` (at the top level or under
``ERT: tables:``). Energies are pJ per action; a leak (or idle) entry is pJ per cycle of
``global_cycle_seconds`` (its argument; else the arch's clock period).

A table names a component by its last parts, ``memory.array`` (``weights.values``) or
``memory.controller``; a prefix (``system.``, the arch name) and instance ranges (``[1..1]``)
are ignored. An array takes ``read``, ``write`` (else ``update``, else ``fill``) and ``leak``
(else ``idle``); a controller ``access``. A read or write entry with a ``bits_per_action``
argument other than the array's word width is pro-rated as hwcomponents does (× width /
bits_per_action). ``memory.datapath`` tables are accepted and not applied (the datapath is
priced per operation from operand widths). Components the ERT does not name keep their
built-in (CACTI, register-file, controller) costs; the :class:`ErtReport` lists both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from ...errors import QsnnError
from ...schema import read_yaml, shown
from ..encodings.base import ROLES

PJ = 1e-12
# Our cost columns (read J, write J, leakage W) and the ERT actions that give each, preferred
# first.
ARRAY_ACTIONS = {0: ("read",), 1: ("write", "update", "fill"), 2: ("leak", "idle")}
ALLOWED = {
    "array": ("read", "write", "update", "fill", "leak", "idle"),
    "controller": ("access",),
    "datapath": None,  # any: not applied
}
_RANGE = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Entry:
    """One ERT row: an action, its arguments and its energy (pJ)."""

    action: str
    arguments: dict[str, Any]
    energy_pJ: float


@dataclass
class ErtReport:
    """What an ERT replaced, what kept its built-in cost, what was not applied."""

    path: str
    applied: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"ERT {self.path}: " + ("; ".join(self.applied) or "nothing applied")]
        if self.kept:
            out.append("built-in costs kept (not in the ERT): " + ", ".join(self.kept))
        if self.ignored:
            out.append(
                "not applied (datapath priced per operation from operand widths): "
                + ", ".join(self.ignored)
            )
        return out + list(dict.fromkeys(self.notes))


@dataclass
class Ert:
    """A loaded ERT: table name (instance ranges removed) → entries."""

    path: str
    tables: dict[str, list[Entry]]

    def apply(self, pairs, mem_pair, mem_local, width, costs, sources, controller) -> ErtReport:
        """Replace in place the read J, write J and leakage W (``costs`` columns 0-2) of every
        array, and the controller energy per access (``controller``, per memory instance), of
        the components the ERT names; ``width`` is each array instance's word width (0:
        unused)."""
        targets = _targets(pairs, mem_pair, mem_local, width)
        report = ErtReport(self.path)
        named: set[str] = set()
        for name, entries in self.tables.items():
            key = _match(name, targets)
            if key is None:
                archs = ", ".join(sorted({f"'{a.name}'" for a, _ in pairs}))
                raise QsnnError(
                    f"{self.path}: table '{name}' names no component of arch {archs} (allowed: "
                    f"{', '.join(sorted(targets))}, after any prefix such as 'system.')"
                )
            if key in named:
                raise QsnnError(f"{self.path}: component '{key}' is named by two tables")
            named.add(key)
            kind, index = targets[key]
            allowed = ALLOWED[kind]
            bad = [e.action for e in entries if allowed and e.action not in allowed]
            if bad:
                raise QsnnError(
                    f"{self.path}: table '{name}': action '{bad[0]}' does not apply to a "
                    f"{kind} (allowed: {', '.join(allowed)})"
                )
            if kind == "datapath":
                report.ignored.append(key)
            elif kind == "controller":
                entry = _pick(name, entries, ("access",), report)
                if entry is not None:
                    controller[index] = entry.energy_pJ * PJ
                    report.applied.append(f"{key} (access)")
            else:
                done = self._arrays(name, entries, index, pairs, mem_pair, width, costs, report)
                for i in index:
                    kept = "" if len(done) == 3 else f"; the rest: {sources[i]}"
                    sources[i] = f"ERT {self.path} ({', '.join(done)}){kept}"
                report.applied.append(f"{key} ({', '.join(done) or 'no action applied'})")
        report.kept = sorted(
            k for k, (kind, _) in targets.items() if k not in named and kind != "datapath"
        )
        return report

    def _arrays(self, name, entries, index, pairs, mem_pair, width, costs, report) -> list[str]:
        done = []
        for column, actions in ARRAY_ACTIONS.items():
            entry = _pick(name, entries, actions, report)
            if entry is None:
                continue
            done.append(entry.action)
            for i in index:
                clock = pairs[mem_pair[i // len(ROLES)]][0].clock_hz
                if column == 2:
                    period = _positive(self.path, name, entry, "global_cycle_seconds", 1 / clock)
                    costs[i, column] = entry.energy_pJ * PJ / period
                    continue
                bits = _positive(self.path, name, entry, "bits_per_action", width[i])
                costs[i, column] = entry.energy_pJ * PJ * (width[i] / bits)
                if bits != width[i]:
                    report.notes.append(
                        f"{name} {entry.action}: {entry.energy_pJ:g} pJ per {bits:g} bits, "
                        f"pro-rated to the {width[i]:g}-bit word (x {width[i] / bits:g})"
                    )
        return done


def load_ert(path) -> Ert:
    """Read and check an ERT file (any of the formats in the module docstring)."""
    data = read_yaml(path)
    if "ERT_summary" in data and "ERT" not in data:
        raise QsnnError(
            f"{path}: an ERT summary (average, min and max energies); give the ERT.yaml that "
            "Accelergy writes beside it (top-level key 'ERT')"
        )
    other = sorted(set(data) & {"ART", "action_counts", "architecture", "compound_components"})
    if other and "ERT" not in data:
        raise QsnnError(
            f"{path}: holds '{other[0]}', not an energy reference table (allowed: top-level key "
            "'ERT', or a mapping of component names to actions)"
        )
    plain = {k: v for k, v in data.items() if k != "version" and not isinstance(v, dict)}
    if plain and "ERT" not in data:
        name, value = next(iter(plain.items()))
        raise QsnnError(
            f"{path}: not an energy reference table: field '{name}' = {shown(value)} (allowed: "
            "top-level key 'ERT' as Accelergy writes it, or a mapping of component names to "
            "actions)"
        )
    body: Any = data
    if "ERT" in data:
        body = data["ERT"]
        if not isinstance(body, dict) or "tables" not in body:
            raise QsnnError(
                f"{path}: field 'ERT' = {shown(body)} (allowed: a mapping with 'version' and "
                "'tables')"
            )
        body = body["tables"]
    if isinstance(body, list):
        raw = [_list_table(path, i, table) for i, table in enumerate(body)]
    elif isinstance(body, dict):
        items = [(name, v) for name, v in body.items() if name != "version"]
        raw = [(str(name), _component_actions(path, name, v)) for name, v in items]
    else:
        raise QsnnError(
            f"{path}: field 'ERT.tables' = {shown(body)} (allowed: a list of tables, each with "
            "'name' and 'actions', or a mapping of component names to actions)"
        )
    tables: dict[str, list[Entry]] = {}
    for name, entries in raw:
        plain = _RANGE.sub("", name)
        if plain in tables:
            raise QsnnError(f"{path}: table '{plain}' is listed twice")
        tables[plain] = entries
    if not tables:
        raise QsnnError(f"{path}: the ERT has no tables (allowed: at least one component)")
    return Ert(str(path), tables)


def _list_table(path, i: int, table: Any) -> tuple[str, list[Entry]]:
    where = f"{path}: ERT.tables.{i}"
    if not isinstance(table, dict) or not isinstance(table.get("name"), str):
        raise QsnnError(f"{where} = {shown(table)} (allowed: a mapping with 'name' and 'actions')")
    actions = table.get("actions")
    if not isinstance(actions, list):
        raise QsnnError(
            f"{where} ('{table['name']}'): field 'actions' = {shown(actions)} (allowed: a list "
            "of {name, arguments, energy})"
        )
    out = []
    for j, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("name"), str):
            raise QsnnError(
                f"{where}.actions.{j} = {shown(action)} (allowed: a mapping with 'name', "
                "'arguments' and 'energy')"
            )
        out.append(_entry(path, table["name"], action["name"], action))
    return table["name"], out


def _component_actions(path, name, actions: Any) -> list[Entry]:
    if not isinstance(actions, dict) or not actions:
        raise QsnnError(
            f"{path}: component '{name}' = {shown(actions)} (allowed: a mapping of action names "
            "to an energy, {energy, arguments} or a list of them)"
        )
    out = []
    for action, value in actions.items():
        for item in value if isinstance(value, list) else [value]:
            spec = item if isinstance(item, dict) else {"energy": item}
            out.append(_entry(path, name, str(action), spec))
    return out


def _entry(path, name, action: str, spec: dict) -> Entry:
    where = f"{path}: table '{name}', action '{action}'"
    energy = spec.get("energy")
    if not isinstance(energy, Real) or isinstance(energy, bool) or not math.isfinite(energy):
        raise QsnnError(f"{where}: field 'energy' = {shown(energy)} (allowed: a number of pJ)")
    if energy < 0:
        raise QsnnError(f"{where}: field 'energy' = {energy!r} (allowed: >= 0 pJ)")
    arguments = spec.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise QsnnError(f"{where}: field 'arguments' = {shown(arguments)} (allowed: a mapping)")
    return Entry(action, dict(arguments), float(energy))


def _targets(pairs, mem_pair, mem_local, width) -> dict[str, tuple[str, list[int]]]:
    """Component key → (kind, indices): array instances, or memory instances."""
    out: dict[str, tuple[str, list[int]]] = {}
    for m, (p, local) in enumerate(zip(mem_pair, mem_local, strict=True)):
        memory = pairs[p][0].memories[local].name
        arrays = [m * len(ROLES) + r for r in range(len(ROLES)) if width[m * len(ROLES) + r] > 0]
        for i in arrays:
            out.setdefault(f"{memory}.{ROLES[i % len(ROLES)]}", ("array", []))[1].append(i)
        if arrays:  # a memory the trace leaves empty has no arrays, controller or datapath
            out.setdefault(f"{memory}.controller", ("controller", []))[1].append(m)
            out.setdefault(f"{memory}.datapath", ("datapath", []))[1].append(m)
    return out


def _match(name: str, targets) -> str | None:
    hits = [k for k in targets if name == k or name.endswith("." + k)]
    return max(hits, key=len) if hits else None


def _pick(name, entries, actions, report) -> Entry | None:
    """The entry of the first of ``actions`` listed: a random access (address and data both
    changing) where the action is listed for several argument values, the costliest if still
    several."""
    for action in actions:
        found = [e for e in entries if e.action == action]
        if not found:
            continue
        random = [e for e in found if _changes(e)]
        found = random or found
        best = max(found, key=lambda e: e.energy_pJ)
        if len({e.energy_pJ for e in found}) > 1:
            report.notes.append(
                f"{name} {action}: listed for several arguments; priced at {best.energy_pJ:g} "
                f"pJ ({best.arguments or 'no arguments'})"
            )
        return best
    return None


def _changes(entry: Entry) -> bool:
    args = entry.arguments
    return bool(args.get("address_delta")) and bool(args.get("data_delta"))


def _positive(path, name, entry: Entry, argument: str, default: float) -> float:
    value = entry.arguments.get(argument, default)
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
        raise QsnnError(
            f"{path}: table '{name}', action '{entry.action}': argument '{argument}' = "
            f"{shown(value)} (allowed: a number > 0)"
        )
    return float(value)
