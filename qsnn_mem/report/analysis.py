"""The numbers behind the figures: a slice of the grid, means over trials, the Pareto front and
the energy breakdown of one point. Pure pandas, no plotting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from pydantic import BaseModel

from ..errors import QsnnError
from ..memory import tables
from ..tasks import Task
from .collect import Priced


def parse_at(texts: list[str], task: Task) -> dict[str, str]:
    """``--at state_bits=8`` (the task's short names work, e.g. state, error, grad; a nested
    field by its dotted name) -> {field: value as text}."""
    out: dict[str, str] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep:
            raise QsnnError(f"--at {text!r}: expected FIELD=VALUE (e.g. state=8)")
        for part in (p.strip() for p in name.split(",")):
            out[_field(part, task)] = value.strip()
    return out


def _field(name: str, task: Task) -> str:
    """A short or seed option name as the task's field name; an unknown name passes through
    (choose_slice lists the fields that vary)."""
    return task.axis_aliases.get(name, task.seed_names.get(name, name))


def choose_slice(priced: Priced, at: dict[str, str]) -> dict[str, str]:
    """The values of the non-weight axes the bitwidth figures hold fixed: those given with
    ``--at``, the others at their most frequent combination (ties: the first in order)."""
    runs = priced.runs
    unknown = sorted(set(at) - set(priced.axes))
    if unknown:
        allowed = ", ".join(priced.axes) or "none: only weight_bits and seed vary"
        raise QsnnError(f"--at: '{unknown[0]}' does not vary in these runs (allowed: {allowed})")
    free = [a for a in priced.axes if a not in at]
    sel = _match(runs, at)
    if not sel.any():
        raise QsnnError(f"--at {_fmt(at)}: no run has these values")
    chosen = dict(at)
    if free:
        combos = runs[sel][free].astype(str).value_counts(sort=False)
        tied = [c if isinstance(c, tuple) else (c,) for c in combos[combos == combos.max()].index]
        defaults = [_default(priced.task.schema, f) for f in free]
        best = max(tied, key=lambda c: sum(v == d for v, d in zip(c, defaults, strict=True)))
        chosen.update(dict(zip(free, best, strict=True)))
    return chosen


def _default(schema: type[BaseModel], field: str) -> str:
    """The schema's default of a (dotted) field, as text: ties go to the reference setup."""
    head, _, rest = field.partition(".")
    info = schema.model_fields.get(head)
    if info is None:
        return ""
    value = info.get_default(call_default_factory=True)
    for part in rest.split(".") if rest else ():
        value = getattr(value, part, None)
    return json.dumps(value) if isinstance(value, list) else str(value)


def _match(frame: pd.DataFrame, values: dict[str, str]) -> pd.Series:
    sel = pd.Series(True, index=frame.index)
    for field, value in values.items():
        sel &= frame[field].astype(str) == value
    return sel


def _fmt(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "all runs"


def slice_of(priced: Priced, chosen: dict[str, str]) -> pd.DataFrame:
    """Rows of summary.csv in the slice."""
    return priced.summary[_match(priced.summary, chosen)]


def _bits(frame: pd.DataFrame) -> list[str]:
    """The weight bits columns: configured, and stored (the priced width) where known."""
    return [c for c in ("weight_bits", "stored_weight_bits") if c in frame]


def by_bits(frame: pd.DataFrame, column: str, keys: tuple[str, ...] = ("arch",)) -> pd.DataFrame:
    """Mean, standard deviation (over trials) and count of ``column`` per keys × weight bits
    (configured, with the stored bits alongside)."""
    grouped = frame.groupby([*keys, *_bits(frame)], sort=True)[column]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def point_means(summary: pd.DataFrame, axes: list[str], quality: str) -> pd.DataFrame:
    """Means over trials per (arch, weight bits, other axes): one row per design point, with
    the standard deviations over its trials of the energy per epoch and of the quality metric
    (``energy_per_epoch_J_std``, ``<quality>_std``: 0 for one trial) for error bars."""
    keys = ["arch", *_bits(summary), *axes]
    cols = ["energy_per_epoch_J", "energy_per_inference_J", "area_m2", quality]
    groups = summary.groupby(keys, sort=True, dropna=False)
    out = groups[cols].mean().reset_index()
    for col in ("energy_per_epoch_J", quality):
        out[f"{col}_std"] = groups[col].std().fillna(0.0).to_numpy()
    out["config"] = groups["point"].first().str.replace(r"_seed\d+$", "", regex=True).to_numpy()
    out["trials"] = groups.size().to_numpy()
    return out


def pareto(points: pd.DataFrame, y: str, lower_is_better: bool, x: str = "energy_per_epoch_J"):
    """Boolean mask of the points no other point beats on both ``x`` (lower wins) and ``y``
    (lower or higher wins, as the quality metric says)."""
    cost = points[y].to_numpy(float) * (1.0 if lower_is_better else -1.0)
    order = np.lexsort((cost, points[x].to_numpy()))
    mask = np.zeros(len(points), bool)
    best = np.inf
    for i in order:
        if cost[i] < best:
            mask[i], best = True, cost[i]
    return mask


def breakdown(priced: Priced, point: str) -> pd.DataFrame:
    """Energy per training epoch of one run, by arch, stage and tensor kind (plus controller,
    datapath and leakage), from the estimator's detailed table."""
    names = list(priced.runs["point"])
    if point not in names:
        raise QsnnError(f"--point {point!r}: no such run (e.g. {', '.join(names[:3])})")
    run = names.index(point)
    epochs = max(priced.traces[run].normalisers["train_epochs"], 1)
    parts = []
    for k, arch in enumerate(priced.archs):
        table = tables.energy_table(priced.evaluation, run * len(priced.archs) + k)
        table = table[table["phase"] == "train"].copy()
        kind = table["tensor"].str.rsplit(".", n=1).str[-1]
        kind = np.where(table["component"] != "memory", table["component"], kind)
        kind = np.where(table["op"] == "leak", "leakage", kind)
        stage = np.where(table["op"] == "leak", "leakage", table["stage"])
        frame = pd.DataFrame(
            {"arch": arch.name, "stage": stage, "kind": kind, "energy_J": table["energy_J"]}
        )
        parts.append(frame.groupby(["arch", "stage", "kind"], as_index=False)["energy_J"].sum())
    out = pd.concat(parts, ignore_index=True)
    out["energy_per_epoch_J"] = out.pop("energy_J") / epochs
    return out


def default_point(priced: Priced, chosen: dict[str, str]) -> str:
    """The run the breakdown shows by default: the lowest weight bits of the slice, first seed."""
    runs = priced.runs[_match(priced.runs, chosen)]
    return str(runs.sort_values(["weight_bits", "seed", "point"])["point"].iloc[0])


def winners(table: pd.DataFrame) -> pd.DataFrame:
    """From :func:`by_bits` output: per weight bits, each arch's mean and the winner."""
    wide = table.pivot(index="weight_bits", columns="arch", values="mean")
    wide["best"] = wide.idxmin(axis=1)
    return wide.reset_index()


def slice_of_runs(priced: Priced, chosen: dict[str, str]) -> pd.DataFrame:
    """Rows of the run table (one per run, not per arch) in the slice."""
    return priced.runs[_match(priced.runs, chosen)]
