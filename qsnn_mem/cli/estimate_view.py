"""How ``qsnn-mem estimate`` shows a :class:`~qsnn_mem.memory.breakdown.Breakdown`: rich tables
(``--format table``) or the same breakdowns as CSV, JSON or Markdown on stdout; and the files
it writes beside energy.csv."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..memory.breakdown import LEAKAGE, TOTAL, Breakdown, as_dict, divisors

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)
PER_TEXT = {
    ("train", "epoch"): "training epoch", ("infer", "inference"): "inference",
    ("train", "trace"): "training trace (no whole epoch)", ("infer", "trace"): "inference trace",
}  # fmt: skip


class Format(StrEnum):
    """What ``qsnn-mem estimate`` prints."""

    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def si(value: float, unit: str) -> str:
    """``3.2e-12, 'J'`` -> ``3.20 pJ``: the largest prefix that keeps the number >= 1."""
    if value is None or value != value:  # NaN: e.g. no inference samples
        return "-"
    for factor, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value / 1e-15:.3g} f{unit}" if value else f"0 {unit}"


def _num(value: float, unit: str = "") -> str:
    if value is None or value != value:
        return "-"
    return f"{value:.3g}{' ' + unit if unit else ''}"


def _share(value: float) -> str:
    return "-" if value != value else f"{value:.1%}"


def show(report: Breakdown, fmt: Format, top: int, folder: Path, written: list[str]) -> None:
    """Print the breakdown in ``fmt``; the line naming the files goes to stdout only in
    ``table`` format (stderr otherwise, so that stdout holds the data alone)."""
    if fmt == Format.table:
        _tables(report, top)
    elif fmt == Format.json:
        sys.stdout.write(json.dumps(as_dict(report, top), indent=2) + "\n")
    elif fmt == Format.csv:
        sys.stdout.write(csv_text(report, top))
    else:
        sys.stdout.write(markdown_text(report, top))
    console = _out if fmt == Format.table else _err
    console.print(f"wrote {folder}/{', '.join(written)}", soft_wrap=True, markup=False)


def _organization_lines(report: Breakdown) -> list[str]:
    org, trace = report.organization, report.trace
    backend = f"{org['backend_text']} (backend: {org['backend']})"
    if org["regfile_text"]:
        backend += f"; register files: {org['regfile_text']}"
    narrow = ", ".join(org["narrow_arrays"]) or "no array here is narrower than 8 bits"
    memories = "; ".join(_memory_text(m) for m in org["memories"])
    return [
        org["name"] + (f": {org['description']}" if org["description"] else ""),
        f"  technology {org['tech_node_nm']:g} nm, clock {org['clock_hz'] / 1e6:g} MHz",
        f"  per-access costs: {backend}; array sources: {', '.join(org['sources'])}",
        f"  narrow words: {org['narrow_words']} ({org['narrow_words_text']}): {narrow}",
        f"  memories: {memories}",
        f"  error propagation: {_propagation_text(report.propagation)}",
        f"  trace: {trace['workload']} ({trace['folder']}), {trace['mode']} accounting, "
        f"{_count(trace.get('train_epochs', 0), 'training epoch')}, "
        f"{_count(trace.get('infer_samples', 0), 'inference')}",
    ]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _memory_text(m: dict) -> str:
    if "encoding" in m:
        p = m["synapses_per_access"]
        what = f"{m['encoding']}, {p} synapse{'s' if p != 1 else ''} per access"
    else:
        what = f"{m['word_bits']}-bit words"
    return f"{m['name']} ({m['kind']}, {what}): {', '.join(m['holds'])}"


def _propagation_text(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "none (no weight tensor in the trace)"
    if (frame["used"] == "none").all():
        return "none: no error is propagated through any weight (local learning, or one layer)"
    parts = []
    for tensor, setting, used in zip(frame["tensor"], frame["setting"], frame["used"], strict=True):
        if used == "none":
            parts.append(f"{tensor} none (no error propagated through it)")
        elif setting == "auto":
            parts.append(f"{tensor} {used} (auto picked the cheaper)")
        else:
            parts.append(f"{tensor} {used} (set)")
    return ", ".join(parts) + " [row: gather, col: scatter]"


@dataclass
class _View:
    """One table, rendered by rich or as Markdown: cells already formatted, with units."""

    title: str
    header: list[str]
    right: tuple[str, ...] = ()  # columns aligned right (numbers)
    rows: list[list[str]] = field(default_factory=list)
    bold: list[bool] = field(default_factory=list)

    def add(self, *cells: str, bold: bool = False) -> None:
        self.rows.append(list(cells))
        self.bold.append(bold)

    def rich(self) -> Table:
        table = Table(title=Text(self.title, style="italic"))
        for col in self.header:
            table.add_column(col, justify="right" if col in self.right else "left")
        for row, bold in zip(self.rows, self.bold, strict=True):
            table.add_row(*map(Text, row), style="bold" if bold else None)
        return table

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return f"### {self.title}\n\n" + "\n".join(lines) + "\n"


def _views(report: Breakdown, top: int) -> list[_View]:
    phases = list(report.stages["phase"].unique())
    return [
        _totals_view(report),
        *(_stage_view(report, p) for p in phases),
        *(_top_view(report, p, top) for p in phases),
        _sizes_view(report),
        _access_view(report),
    ]


def _closing(report: Breakdown) -> list[str]:
    t = report.totals
    split = ", ".join(f"{k} {si(v, 'J')}" for k, v in t["train_split_J"].items())
    return [
        f"per training {t['train_per']}: {split}",
        "modelled: " + "; ".join(report.scope["modelled"]),
        "not modelled: " + "; ".join(report.scope["not_modelled"]),
    ]


def _tables(report: Breakdown, top: int) -> None:
    head, *lines = _organization_lines(report)
    _out.print(head, style="bold", markup=False)
    for line in lines:
        _out.print(line, markup=False)
    for view in _views(report, top):
        _out.print(view.rich())
    for line in _closing(report):
        _out.print(line, markup=False)


def _per(report: Breakdown, phase: str) -> tuple[str, str]:
    """``('epoch', 'training epoch')``: the unit of the phase's energies, and in words."""
    per = divisors(report.trace)[phase][0]
    return per, PER_TEXT[phase, per]


def _totals_view(report: Breakdown) -> _View:
    arrays, t = report.arrays, report.totals
    per = [f"per {_per(report, p)[0]}" for p in ("train", "infer")]
    header = ["memory", "capacity", "area", "leakage", *per]
    view = _View("per memory: capacity, area, leakage power, energy", header, (*header[1:],))
    stages = report.stages.set_index(["phase", "memory"])["total_J"]
    for memory, rows in arrays.groupby("memory", sort=False):
        view.add(
            memory, f"{rows['capacity_bits'].sum() / 1024:.1f} kibit",
            f"{rows['area_m2'].sum() * 1e6:.4f} mm²", si(rows["leakage_W"].sum(), "W"),
            si(stages.get(("train", memory), float("nan")), "J"),
            si(stages.get(("infer", memory), float("nan")), "J"),
        )  # fmt: skip
    view.add(
        TOTAL, f"{t['capacity_bits'] / 1024:.1f} kibit", f"{t['area_m2'] * 1e6:.4f} mm²",
        si(t["leakage_W"], "W"), si(stages.get(("train", TOTAL), float("nan")), "J"),
        si(stages.get(("infer", TOTAL), float("nan")), "J"), bold=True,
    )  # fmt: skip
    return view


def _stage_view(report: Breakdown, phase: str) -> _View:
    rows = report.stages[report.stages["phase"] == phase]
    stages = [c for c in rows.columns if c.endswith("_J") and c != "total_J"]
    header = ["memory", *(c.removesuffix("_J") for c in stages), "total", "share"]
    title = f"energy per {_per(report, phase)[1]} by memory and stage"
    view = _View(title, header, (*header[1:],))
    for _, r in rows.iterrows():
        view.add(
            r["memory"], *(si(r[c], "J") for c in stages), si(r["total_J"], "J"),
            _share(r["share"]), bold=r["memory"] == TOTAL,
        )  # fmt: skip
    return view


def _top_view(report: Breakdown, phase: str, top: int) -> _View:
    ranked = report.contributors[report.contributors["phase"] == phase]
    shown = ranked[ranked["rank"] <= top]
    per, text = _per(report, phase)
    title = (
        f"top {len(shown)} of {len(ranked)} contributors per {text}, memory + controller + "
        f"datapath ({_share(shown['share'].sum())} of the total)"
    )
    header = ["#", "layer", "tensor", "stage", "op", "memory", f"energy/{per}", "share"]
    view = _View(title, header, ("#", header[-2], "share"))
    for _, r in shown.iterrows():
        stage = LEAKAGE if r["op"] == "leak" else r["stage"]
        view.add(
            str(r["rank"]), r["layer"], r["tensor"], stage, r["op"], r["memory"],
            si(r["energy_J"], "J"), _share(r["share"]),
        )  # fmt: skip
    return view


def _sizes_view(report: Breakdown) -> _View:
    header = ["array", "kind", "words × bits", "capacity", "area", "leakage"]
    view = _View("per array: size, area, leakage power", header, (*header[2:],))
    for _, r in report.arrays.iterrows():
        view.add(
            f"{r['memory']}.{r['array']}", r["kind"], f"{r['depth']:,} × {r['word_bits']}",
            f"{r['capacity_bits'] / 1024:.1f} kibit", f"{r['area_m2'] * 1e6:.4f} mm²",
            si(r["leakage_W"], "W"),
        )  # fmt: skip
    return view


def _access_view(report: Breakdown) -> _View:
    header = ["array", "read", "write", "words/read", "words/write"]
    title = "per array: energy per word read, written; words per read, write access of the trace"
    view = _View(title, header, (*header[1:],))
    for _, r in report.arrays.iterrows():
        view.add(
            f"{r['memory']}.{r['array']}", _num(r["read_pJ"], "pJ"), _num(r["write_pJ"], "pJ"),
            _num(r["words_per_read"]), _num(r["words_per_write"]),
        )  # fmt: skip
    return view


def _flat(data: dict) -> dict:
    """One CSV row: nested mappings flattened (``train_split_J.memory``), lists joined."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in _flat(value).items()})
        elif isinstance(value, list):
            out[key] = "; ".join(v if isinstance(v, str) else json.dumps(v) for v in value)
        else:
            out[key] = value
    return out


def csv_text(report: Breakdown, top: int) -> str:
    """Every section as rows of one CSV, told apart by its first column, ``section``."""
    data = as_dict(report, top)
    org = data.pop("organization")
    data = {"organization": org, "memories": org.pop("memories"), **data}
    frames = []
    for section, value in data.items():
        rows = [_flat(r) for r in value] if isinstance(value, list) else [_flat(value)]
        frame = pd.DataFrame(rows)
        frame.insert(0, "section", section)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).to_csv(index=False)


def markdown_text(report: Breakdown, top: int) -> str:
    """The tables of ``--format table`` as Markdown, the organization as a list."""
    head, *lines = _organization_lines(report)
    name = report.organization["name"]
    org = ["## Organization", "", f"- **{name}**{head[len(name) :]}"]
    org += [f"- {x.strip()}" for x in lines]
    body = ["", "## Breakdown", "", *(v.markdown() for v in _views(report, top))]
    scope = ["## Scope", "", *(f"- {line}" for line in _closing(report))]
    return "\n".join([*org, *body, *scope]) + "\n"
