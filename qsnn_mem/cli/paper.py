"""``qsnn-mem paper iscas2020``: the ISCAS 2020 authors' energy comparison, reproduced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import QsnnError
from ..io import ensure_dir, write_csv, write_json
from ..memory import paper
from ..memory.arch import load_arch
from ..report.paper_figure import energy_vs_density
from .app import app

paper_app = typer.Typer(help="Reproduce the papers' comparisons.", no_args_is_help=True)
app.add_typer(paper_app, name="paper")
_out = Console(highlight=False)


@paper_app.command("iscas2020")
def iscas2020(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("reports/paper-iscas2020"),
    arch: Annotated[
        list[Path] | None,
        typer.Option(help="price with these organizations instead of the authors' design"),
    ] = None,
    force: Annotated[bool, typer.Option(help="overwrite results of other options")] = False,
) -> None:
    """Layer passes of the authors' tables (smile layers at the trained densities across weight
    bits 2-6, a 784x128 layer across density 0.05-1 at 2, 5 and 8 bits, a 3x3 convolution)
    priced per encoding, beside the authors' synthesized energies."""
    archs = [load_arch(a) for a in arch] if arch else None
    options = {"arch": [str(a) for a in arch or []]}
    _check_folder(out, options, force)
    folder = ensure_dir(out)
    ours = paper.comparison(folder, archs)
    beside = paper.beside_authors(ours)
    head = paper.headline(ours)
    write_csv(folder / "layer_passes.csv", ours)
    write_csv(folder / "authors_vs_ours.csv", beside)
    write_csv(folder / "headline.csv", head)
    energy_vs_density(ours, folder)
    write_json(folder / "paper.json", {"command": "paper iscas2020", "options": options})
    _print(head)
    _out.print(f"wrote {folder}/layer_passes.csv, authors_vs_ours.csv, headline.csv, "
               "energy_vs_density.png")  # fmt: skip


def _check_folder(out: Path, options: dict, force: bool) -> None:
    """Refuse to mix results of different options in one folder (unless --force)."""
    marker = out / "paper.json"
    if force or not marker.is_file():
        return
    try:
        before = json.loads(marker.read_text()).get("options")
    except (OSError, ValueError, AttributeError):
        before = None
    if before != options:
        raise QsnnError(
            f"{out} holds results of other options ({marker}); choose another --out or "
            "pass --force to overwrite"
        )


def _print(head) -> None:
    table = Table(title="ISCAS 2020 comparison (layer passes, 45 nm)")
    for col in ("quantity", "authors", "ours", "target"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for _, row in head.iterrows():
        fmt = "{:.0%}" if "saving" in row["quantity"] else "{:.2f}"
        target = (
            "" if row["tolerance"] != row["tolerance"]
            else f"{row['target']:.2f} ± {row['tolerance']:.2f} "
            + ("[green]ok[/]" if row["within"] else "[red]outside[/]")
        )  # fmt: skip
        table.add_row(row["quantity"], fmt.format(row["authors"]), fmt.format(row["ours"]), target)
    _out.print(table)
