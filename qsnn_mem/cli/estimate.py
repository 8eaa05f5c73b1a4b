"""``qsnn-mem estimate ARCH.yaml --trace RUN``: price a traced run in a memory organization."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..contract import load_trace
from ..contract.read import read_json
from ..errors import QsnnError
from ..io import ensure_dir, write_csv, write_json
from ..memory import arch, tables
from ..memory import estimate as est
from .app import app

_out = Console(highlight=False)


def si(value: float, unit: str) -> str:
    """``3.2e-12, 'J'`` -> ``3.20 pJ``: the largest prefix that keeps the number >= 1."""
    if value != value:  # NaN: e.g. no inference samples
        return "-"
    for factor, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value / 1e-15:.3g} f{unit}" if value else f"0 {unit}"


@app.command()
def estimate(
    arch_file: Annotated[Path, typer.Argument(help="memory organization YAML (see arch/)")],
    trace: Annotated[Path, typer.Option("--trace", help="trace folder written by qsnn-mem trace")],
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: reports/estimate/TRACE-ARCH)")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override an arch field, e.g. --set memories.0.word_bits=32"),
    ] = None,
) -> None:
    """Energy per training epoch and per inference, and area, of a traced run."""
    spec = arch.load_arch(arch_file, set_ or [])
    counted = load_trace(trace)
    check_trace_of_run(Path(trace))
    ev = est.evaluate([(spec, counted)])
    energy = tables.energy_table(ev)
    area = tables.area_table(ev)
    summary = ev.summary().iloc[0].to_dict()
    folder = ensure_dir(out or Path("reports") / "estimate" / f"{Path(trace).name}-{spec.name}")
    write_csv(folder / "energy.csv", energy)
    write_csv(folder / "area.csv", area)
    write_json(
        folder / "run.json",
        {
            "command": "estimate",
            "arch_file": str(arch_file),
            "overrides": set_ or [],
            "arch": spec.model_dump(),
            "trace": str(trace),
            "summary": summary,
            "versions": {"qsnn_mem": __version__, "python": platform.python_version()},
        },
    )
    _print_summary(spec.name, counted, energy, area, summary, folder, tables.traversal_table(ev))


def check_trace_of_run(folder: Path) -> None:
    """A trace beside a run.json must be that run's: trace.json and run.json record the same
    ``config_hash`` (written by the same run). Folders written before the hash existed, with
    neither recording one, are not checked."""
    run_file, trace_file = folder / "run.json", folder / "trace.json"
    if not run_file.is_file():
        return  # a trace folder alone (qsnn-mem trace --phase infer, synth)
    run, meta = read_json(run_file), read_json(trace_file)
    if not isinstance(run, dict):
        raise QsnnError(f"{run_file}: not a JSON object (found a {type(run).__name__})")
    ran, traced = run.get("config_hash"), meta.get("config_hash")
    if ran is None and traced is None:
        return
    if ran != traced:
        raise QsnnError(
            f"{trace_file} (config {traced or 'not recorded'}) does not belong to the run in "
            f"{run_file} (config {ran or 'not recorded'}): the folder mixes two runs; trace "
            "the run again into its own folder (qsnn-mem trace ... --out DIR)"
        )


def _print_summary(name, counted, energy, area, summary, folder, traversal) -> None:
    epochs = max(counted.normalisers["train_epochs"], 1)
    infers = counted.normalisers["infer_samples"]
    table = Table(title=f"{name} on {counted.workload} ({counted.folder})")
    for col in ("memory", "capacity", "area", "leakage", "energy/epoch", "energy/inference"):
        table.add_column(col, justify="left" if col == "memory" else "right")
    by_phase = energy.groupby(["memory", "phase"])["energy_J"].sum()
    for memory, arrays in area.groupby("memory", sort=False):
        train = by_phase.get((memory, "train"), 0.0) / epochs
        infer = by_phase.get((memory, "infer"), 0.0) / infers if infers else float("nan")
        table.add_row(
            memory,
            f"{arrays['capacity_bits'].sum() / 1024:.1f} kibit",
            f"{arrays['area_m2'].sum() * 1e6:.4f} mm²",
            si(arrays["leakage_W"].sum(), "W"),
            si(train, "J"),
            si(infer, "J"),
        )  # fmt: skip
    table.add_row(
        "total",
        f"{summary['capacity_bits'] / 1024:.1f} kibit",
        f"{summary['area_m2'] * 1e6:.4f} mm²",
        si(summary["leakage_W"], "W"),
        si(summary["energy_per_epoch_J"], "J"),
        si(summary["energy_per_inference_J"], "J"),
        style="bold",
    )
    _out.print(table)
    for memory, arrays in area.groupby("memory", sort=False):
        shapes = zip(arrays["array"], arrays["word_bits"], arrays["depth"], strict=True)
        _out.print(f"{memory}: " + ", ".join(f"{a} {w} bit x {d}" for a, w, d in shapes))
    split = ", ".join(
        f"{part} {si(summary[f'train_{part}_J'] / epochs, 'J')}"
        for part in ("memory", "controller", "datapath", "leakage")
    )
    _out.print(f"per training epoch: {split}")
    if len(traversal):
        chosen = ", ".join(
            f"{t} {p}" for t, p in zip(traversal["tensor"], traversal["propagation"], strict=True)
        )
        _out.print(f"error propagation: {chosen}")
    _out.print(f"wrote {folder}/energy.csv, area.csv, run.json")
