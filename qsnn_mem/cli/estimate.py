"""``qsnn-mem estimate ARCH.yaml --trace RUN``: price a traced run in a memory organization."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..contract import load_trace
from ..contract.read import read_json
from ..errors import QsnnError
from ..estimate_folder import FILES
from ..memory import arch
from ..memory.accelergy.ert import load_ert
from .app import app
from .estimate_view import Format, show


class ExportFormat(StrEnum):
    """Formats ``--export`` writes (docs/accelergy.md)."""

    accelergy = "accelergy"


@app.command()
def estimate(
    arch_file: Annotated[Path, typer.Argument(help="memory organization YAML (see arch/)")],
    trace: Annotated[Path, typer.Option("--trace", help="trace folder written by qsnn-mem trace")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="output folder (default: reports/estimate/TRACE-ARCH-KEY, KEY a hash of the "
            "organization, the trace and the ERT)"
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace another estimate held in --out")
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override an arch field, e.g. --set memories.0.word_bits=32"),
    ] = None,
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            help="table: rich tables; csv, json, markdown: the same breakdowns on stdout alone",
        ),
    ] = Format.table,
    top: Annotated[
        int, typer.Option("--top", min=1, help="contributors listed per phase (all in files)")
    ] = 10,
    export: Annotated[
        ExportFormat | None,
        typer.Option(
            "--export",
            help="also write the priced run for another tool: accelergy (ERT, ART, action "
            "counts per phase, v0.4 architecture; docs/accelergy.md)",
        ),
    ] = None,
    export_dir: Annotated[
        Path | None, typer.Option("--export-dir", help="folder of --export (default: OUT/FORMAT)")
    ] = None,
    ert: Annotated[
        Path | None,
        typer.Option(
            "--ert",
            help="price with your Accelergy ERT.yaml: the components it names (memory.array, "
            "memory.controller) replace the built-in costs",
        ),
    ] = None,
) -> None:
    """Energy per training epoch and per inference, and area, of a traced run."""
    if export_dir is not None and export is None:
        raise QsnnError(f"--export-dir {export_dir} needs a format: --export accelergy")
    spec = arch.load_arch(arch_file, set_ or [])
    counted = load_trace(trace)
    check_trace_of_run(Path(trace))
    result = api.estimate(spec, counted, ert=load_ert(ert) if ert else None)
    info = {"arch_file": str(arch_file), "overrides": set_ or []}
    inside = export.value if export is not None and export_dir is None else None
    folder = api.save_estimate(result, out, info=info, overwrite=overwrite, export=inside)
    report = result.evaluation.ert_report
    for line in report.lines() if report else []:
        typer.echo(line, err=True)
    if export_dir is not None:
        api.export(result, export_dir, export.value)
    if export is not None:
        where = export_dir or folder / export.value
        typer.echo(f"{export.value}: wrote {where}/ (ERT.yaml, ART.yaml, action counts, "
                   "architecture.yaml)", err=True)  # fmt: skip
    written = [*FILES, *([f"{inside}/"] if inside else [])]
    show(result.breakdown, format_, top, folder, written)


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
