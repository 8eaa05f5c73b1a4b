"""``qsnn-mem report SWEEP_DIR --arch arch/crossbar.yaml ...``: figures and tables of a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report import build_report
from ..report.figures import unit
from .app import app
from .common import console


@app.command("report")
def report_command(
    sweep_dir: Annotated[
        Path, typer.Argument(help="Sweep folder, e.g. reports/smile.", metavar="SWEEP_DIR")
    ],
    arch: Annotated[
        list[Path] | None,
        typer.Option("--arch", help="Memory organization YAML; repeat for several (arch/*.yaml)."),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            help="Hold an axis for the bitwidth figures, e.g. --at state=8 (default: the most "
            "frequent combination).",
            metavar="FIELD=VALUE",
        ),
    ] = None,
    point: Annotated[
        str | None, typer.Option(help="Run shown in the breakdown figure, e.g. w2a8g8e8_seed0.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: SWEEP_DIR/report).")
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace a report of other organizations, slice or point held in the folder.",
        ),
    ] = False,
) -> None:
    """Price every run on every organization; write figures, summary.csv, report.md and a
    self-contained report.html into SWEEP_DIR/report (or --out)."""

    rep = build_report(sweep_dir, list(arch or []), out or sweep_dir / "report", at=at or [],
                       point=point, overwrite=overwrite)  # fmt: skip
    runs, archs, task = len(rep.priced.runs), len(rep.priced.archs), rep.priced.task.name
    console.print(
        f"priced {runs} {task} runs on {archs} organizations; wrote {rep.folder}/report.md "
        "and report.html"
    )
    if rep.headline is not None:
        wide = rep.headline.pivot(index="weight_bits", columns="arch", values="epoch_mean_J")
        scale, label = unit(wide.to_numpy().ravel())
        console.print(f"energy per training epoch ({label}), lowest last:")
        for bits, row in wide.iterrows():
            cells = ", ".join(f"{a} {v / scale:.4g}" for a, v in row.items())
            console.print(f"  {bits}-bit weights: {cells} -> {row.idxmin()}", soft_wrap=True)
