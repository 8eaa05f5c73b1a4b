"""``qsnn-mem cacti build|query|table``: the real CACTI 7 memory model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import QsnnError
from ..memory import cacti, cacti_build
from ..memory import table as tab
from ..memory.arch import NODE_RANGE_NM
from .app import app
from .common import QuietOption, progress_bar

cacti_app = typer.Typer(
    help="Build and query the real CACTI 7; regenerate the SRAM table.", no_args_is_help=True
)
app.add_typer(cacti_app, name="cacti")
_out = Console(highlight=False)


@cacti_app.command("build")
def build(
    wheel: Annotated[
        Path | None,
        typer.Option(help="a downloaded hwcomponents_cacti wheel (default: pip downloads it)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="rebuild even if already built")] = False,
) -> None:
    """Build CACTI 7 from the hwcomponents-cacti wheel's sources into the user cache."""
    path = cacti_build.build(wheel=wheel, force=force)
    _out.print(f"CACTI 7 ready: {path}")


@cacti_app.command("query")
def query(
    node: Annotated[float, typer.Option(help="technology node in nm (22-90)")],
    capacity_bits: Annotated[int, typer.Option(help="capacity in bits")],
    word_bits: Annotated[int, typer.Option(help="bits per access")],
    banks: Annotated[int, typer.Option(help="banks")] = 1,
    ports: Annotated[int, typer.Option(help="read-write ports")] = 1,
    table: Annotated[bool, typer.Option(help="use the committed table, not live CACTI")] = False,
) -> None:
    """Per-access energy, leakage, area and cycle time of one SRAM."""
    _check_query(node, capacity_bits, word_bits, banks, ports)
    if table:
        values = tab.lookup(node, capacity_bits, word_bits, banks, ports)[0]
        source = "cacti7 table"
    else:
        cost = cacti.query(cacti.SramConfig(node, capacity_bits, word_bits, banks, ports))
        values = cost.values()
        source = cost.source
    read, write, leak, area, cycle = values
    _out.print(
        f"read {read * 1e12:.4g} pJ, write {write * 1e12:.4g} pJ, leakage "
        f"{leak * 1e6:.4g} µW, area {area * 1e6:.4g} mm², cycle {cycle * 1e9:.4g} ns "
        f"[{source}]",
        markup=False,
    )


def _check_query(node: float, capacity_bits: int, word_bits: int, banks: int, ports: int) -> None:
    """The options of ``cacti query`` within what an arch YAML allows."""
    lo, hi = NODE_RANGE_NM
    if not (math.isfinite(node) and lo <= node <= hi):
        raise QsnnError(
            f"--node {node:g}: not a technology node of CACTI 7 (allowed: {lo:g}-{hi:g} nm)"
        )
    if not 1 <= word_bits <= 1024:
        raise QsnnError(f"--word-bits {word_bits}: allowed 1-1024")
    if not 1 <= capacity_bits <= 2**40:
        raise QsnnError(f"--capacity-bits {capacity_bits}: allowed 1 to 2^40")
    if banks not in (1, 2, 4, 8):
        raise QsnnError(f"--banks {banks}: allowed 1, 2, 4 or 8")
    if ports not in (1, 2):
        raise QsnnError(f"--ports {ports}: allowed 1 or 2")


@cacti_app.command("table")
def table_cmd(
    out: Annotated[
        Path | None,
        typer.Option(help="output folder (default: the package's qsnn_mem/memory/data)"),
    ] = None,
    workers: Annotated[int, typer.Option(help="CACTI runs in parallel")] = 2,
    quiet: QuietOption = False,
) -> None:
    """Regenerate the SRAM table: CACTI 7's optimum at every power-of-two capacity of the grid
    (about 20 minutes with 2 workers from an empty cache; cached runs are reused)."""
    with progress_bar(quiet) as bar:
        task = bar.add_task("CACTI series", total=None, status="")

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        frame = tab.generate(out_dir=out, workers=workers, progress=progress)
    _out.print(f"wrote {len(frame)} rows to {out or tab.data_path('')}")
