"""What a sweep is: a base workload, overrides, grids of field values, and a number of trials.

A sweep comes from the command line (``--grid weight=2,3 --grid state,error=6,8 --trials 5``)
or from a sweep file (a ``workload:`` path, optional ``set:`` and a ``sweep:`` section), and
expands into :class:`Point`\\ s: one validated workload each, with a folder name of its own.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from .. import tasks
from ..errors import QsnnError
from ..schema import Schema, parse_override, read_yaml, validate
from ..workload import load_workload

# Axis names: the task's short names (axis_aliases), its field names and its seed names.
# Fields a grid may not vary: seeds come from --trials, the name picks the sweep folder.
RESERVED = {"seed": "seeds come from --trials (seed .. seed+N-1)", "name": "", "task": ""}

Scalar = int | float | str | bool | None


class SweepSection(Schema):
    """The ``sweep:`` section of a sweep file (finite numbers, bounded integers: ``Schema``)."""

    trials: int = Field(1, ge=1, le=1000)
    """Seeds per grid point: the workload's seed, seed+1, ..., seed+trials-1."""
    grids: dict[str, dict[str, list[Scalar]]] = Field(min_length=1)
    """Named grids, each a mapping axis -> values; the points of one grid are the cross product
    of its axes, the points of several grids their union. Tie axes with a comma
    (``state,error: [6, 8]`` sets both fields to the same value)."""


class SweepFile(Schema):
    """A sweep file: which workload, what to override, and the grids."""

    workload: str = Field(min_length=1)
    """Base workload YAML, relative to the sweep file's folder."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Overrides applied to every point (as ``--set key=value``)."""
    sweep: SweepSection
    """Trials and grids."""


@dataclass(frozen=True)
class Axis:
    """One (possibly tied) axis: the fields it sets and their values."""

    name: str
    fields: tuple[str, ...]
    values: tuple[Scalar, ...]


@dataclass
class Sweep:
    """A parsed sweep, before expansion."""

    workload: Path
    overrides: list[str]
    trials: int
    grids: dict[str, list[Axis]]
    source: str = "command line"


@dataclass
class Point:
    """One run of the sweep: a validated workload and where it goes."""

    id: str
    grids: list[str]
    values: dict[str, Scalar]  # field -> value set by the grid
    seed: int
    cfg: Any = field(repr=False)


def workload_task(path: str | os.PathLike, overrides: list[str]) -> str:
    """The ``task`` of a workload file (axes are checked against that task's schema)."""
    return load_workload(path, overrides).task


def resolve_axis(name: str, source: str, task: str = tasks.DEFAULT) -> tuple[str, ...]:
    """An axis name (``state,error`` ties two) -> the task's fields it sets, through the task's
    short names, seed names or field names; unknown names are a QsnnError."""
    t = tasks.get(task)
    out = []
    for part in (p.strip() for p in name.split(",")):
        canonical = t.axis_aliases.get(part, t.seed_names.get(part, part))
        if canonical in RESERVED:
            why = RESERVED[canonical] or "it is fixed for the whole sweep"
            raise QsnnError(f"{source}: grid axis '{part}' cannot be swept ({why})")
        if canonical not in t.schema.model_fields:
            raise QsnnError(f"{source}: unknown grid axis '{part}' ({_allowed_axes(t)})")
        if canonical in out:
            raise QsnnError(f"{source}: axis '{name}' names field '{canonical}' twice")
        out.append(canonical)
    return tuple(out)


def _allowed_axes(task: tasks.Task) -> str:
    """``allowed: error, grad, ..., or a seed name such as global_wb``."""
    fields = task.schema.model_fields
    aliases = {a for a, f in task.axis_aliases.items() if f in fields}
    allowed = ", ".join(sorted(aliases | set(fields) - set(RESERVED)))
    # A seed name of a precision field is the example users of the reference scripts know.
    seed = next((s for s, f in task.seed_names.items() if f in task.precision_fields), None)
    return f"allowed: {allowed}" + (f", or a seed name such as {seed}" if seed else "")


def make_axis(name: str, values: list[Scalar], source: str, task: str = tasks.DEFAULT) -> Axis:
    fields = resolve_axis(name, source, task)
    if not values:
        raise QsnnError(f"{source}: grid axis '{name}' has no values (give e.g. {name}=2,3,4)")
    unique = tuple(dict.fromkeys(values))
    return Axis(name, fields, unique)


def parse_grid_option(text: str, task: str = tasks.DEFAULT) -> Axis:
    """``weight=2,3,4`` or ``state,error=6,8`` (values read as YAML scalars)."""
    source = f"--grid {text!r}"
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise QsnnError(f"{source}: expected AXIS=V1,V2,... (e.g. weight=2,3,4)")
    values = [parse_override(f"v={v.strip()}")[1] for v in raw.split(",") if v.strip()]
    return make_axis(name.strip(), values, source, task)


def check_grid(axes: list[Axis], source: str) -> None:
    seen: dict[str, str] = {}
    for axis in axes:
        for f in axis.fields:
            if f in seen:
                raise QsnnError(
                    f"{source}: field '{f}' is set by both axis '{seen[f]}' and '{axis.name}'"
                )
            seen[f] = axis.name


def read_sweep_file(path: str | os.PathLike) -> Sweep:
    """Parse a sweep file (``workload:``, ``set:``, ``sweep:``)."""
    file = Path(path)
    spec = validate(SweepFile, read_yaml(file), str(file))
    overrides = [f"{k}={json.dumps(v)}" for k, v in spec.set.items()]
    workload = Path(spec.workload)
    if not workload.is_absolute():
        workload = file.parent / workload
    task = workload_task(workload, overrides)
    grids = {}
    for gname, axes in spec.sweep.grids.items():
        source = f"{file}: grid '{gname}'"
        grids[gname] = [make_axis(a, list(v), source, task) for a, v in axes.items()]
        check_grid(grids[gname], source)
    return Sweep(workload, overrides, spec.sweep.trials, grids, str(file))


def is_sweep_file(path: str | os.PathLike) -> bool:
    """A file with a top-level ``sweep:`` section is a sweep file; otherwise a workload."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: file not found (give a workload or sweep YAML)")
    return "sweep" in read_yaml(file)


def _override(f: str, value: Scalar) -> str:
    return f"{f}={json.dumps(value)}"


def _check_values(sweep: Sweep, task: tasks.Task) -> None:
    """Validate every axis value on its own, so a bad value is named with its axis."""
    seed_names = task.seed_names
    set_fields = {seed_names.get(k, k) for k in (parse_override(o)[0] for o in sweep.overrides)}
    for gname, axes in sweep.grids.items():
        for axis in axes:
            clash = set_fields & set(axis.fields)
            if clash:
                raise QsnnError(
                    f"{sweep.source}: field '{sorted(clash)[0]}' is both set (--set/set:) and "
                    f"swept by grid '{gname}' axis '{axis.name}'; give it in one place"
                )
            for value in axis.values:
                over = [_override(f, value) for f in axis.fields]
                try:
                    load_workload(sweep.workload, [*sweep.overrides, *over])
                except QsnnError as exc:
                    raise QsnnError(
                        f"{sweep.source}: grid '{gname}' axis '{axis.name}' value {value!r} is "
                        f"not allowed:\n{exc}"
                    ) from None


def point_id(task: tasks.Task, cfg: Any, values: dict[str, Scalar]) -> str:
    """``<precision tag>_seed<seed>``; axes beyond the task's precision fields add
    ``_<field><value>`` before the seed."""
    extra = "".join(
        f"_{f}{'null' if v is None else v}"
        for f, v in sorted(values.items())
        if f not in task.precision_fields
    )
    return f"{task.precision_tag(cfg)}{extra}_seed{cfg.seed}"


def expand(sweep: Sweep) -> list[Point]:
    """All points of all grids × trials, in order, each once (grids may overlap)."""
    base = load_workload(sweep.workload, sweep.overrides)
    task = tasks.get(base.task)
    _check_values(sweep, task)
    points: dict[str, Point] = {}
    grids = sweep.grids or {"single": []}
    for gname, axes in grids.items():
        combos = itertools.product(*(axis.values for axis in axes))
        for combo in combos:
            values = {f: v for axis, v in zip(axes, combo, strict=True) for f in axis.fields}
            for trial in range(sweep.trials):
                over = [_override(f, v) for f, v in values.items()]
                over.append(f"seed={base.seed + trial}")
                cfg = load_workload(sweep.workload, [*sweep.overrides, *over])
                pid = point_id(task, cfg, values)
                if pid in points:
                    if gname not in points[pid].grids:
                        points[pid].grids.append(gname)
                    continue
                points[pid] = Point(pid, [gname], values, cfg.seed, cfg)
    return list(points.values())


def describe(sweep: Sweep) -> dict[str, Any]:
    """A JSON-able description for sweep.json."""
    return {
        "source": sweep.source,
        "workload": str(sweep.workload),
        "set": sweep.overrides,
        "trials": sweep.trials,
        "grids": {g: {a.name: list(a.values) for a in axes} for g, axes in sweep.grids.items()},
    }


def dump_yaml(sweep: Sweep) -> str:
    """The sweep as a sweep file (written beside the results, so it can be rerun)."""
    data = {
        "workload": str(Path(sweep.workload).resolve()),
        "set": {k: v for k, v in (parse_override(o) for o in sweep.overrides)},
        "sweep": {
            "trials": sweep.trials,
            "grids": {g: {a.name: list(a.values) for a in axes} for g, axes in sweep.grids.items()},
        },
    }
    return yaml.safe_dump(data, sort_keys=False)
