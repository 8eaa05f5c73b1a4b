"""``qsnn-mem prepare gesture|poker RAW_DIR``: read the original DVS recordings into ``.npz``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..tasks.decolle.data import prepare_gesture, prepare_poker
from .app import app
from .common import QuietOption, console, progress_bar


class DataSet(StrEnum):
    gesture = "gesture"
    poker = "poker"


class OnError(StrEnum):
    skip = "skip"
    refuse = "refuse"


@app.command("prepare")
def prepare_command(
    data_set: Annotated[DataSet, typer.Argument(help="gesture (DVS Gesture) or poker.")],
    raw_dir: Annotated[Path, typer.Argument(help="Folder of the original release.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: data/<set>).")
    ] = None,
    on_error: Annotated[
        OnError, typer.Option(help="skip: leave out and list unreadable recordings; refuse: stop.")
    ] = OnError.skip,
    window_ms: Annotated[int, typer.Option(help="Poker window length in ms.")] = 500,
    quiet: QuietOption = False,
) -> None:
    """Check and convert DVS recordings to <set>_train.npz and <set>_test.npz."""
    out_dir = out or Path("data") / data_set.value
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"prepare {data_set.value}", total=None, status="")

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, status=name)

        if data_set is DataSet.gesture:
            summary = prepare_gesture(raw_dir, out_dir, on_error=on_error.value, progress=progress)
        else:
            summary = prepare_poker(
                raw_dir, out_dir, window_ms=window_ms, on_error=on_error.value, progress=progress
            )
    for split, path in summary.outputs.items():
        console.print(
            f"{split}: {summary.samples[split]} samples, {summary.events[split]} events -> {path}"
        )
    console.print(f"{summary.recordings} recordings read, {len(summary.skipped)} skipped")
    for name, reason in summary.skipped:
        console.print(f"  skipped {name}: {reason}")
