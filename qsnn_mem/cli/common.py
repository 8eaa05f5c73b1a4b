"""Pieces shared by the command modules: option types, progress bars, output folders."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(highlight=False)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a field: key=value (seed names such as global_wb work too).",
        metavar="KEY=VALUE",
    ),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Output folder (default: under reports/).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


class Mode(StrEnum):
    """Access accounting (docs/accounting.md)."""

    event = "event"
    dense = "dense"


ModeOption = Annotated[
    Mode, typer.Option(help="event: spike/error-driven accesses; dense: every synapse every step.")
]


def progress_bar(quiet: bool = False) -> Progress:
    """Epoch/point progress with the latest loss and an ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )
