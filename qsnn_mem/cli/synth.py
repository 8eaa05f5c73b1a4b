"""``qsnn-mem synth fc|conv``: trace folders of one layer pass, priced by ``qsnn-mem estimate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..memory import layer_pass
from .app import app

synth_app = typer.Typer(
    help="Trace folders of one pass of one layer (the ISCAS 2020 measurement), for estimate.",
    no_args_is_help=True,
)
app.add_typer(synth_app, name="synth")
_out = Console(highlight=False)

DensityOption = Annotated[
    float, typer.Option(help="fraction of non-zero weights, 0 < d <= 1 (exactly round(d·size))")
]
BitsOption = Annotated[int, typer.Option(help="bits per weight (1-32)")]
SeedOption = Annotated[int, typer.Option(help="seed of the zeros' positions")]
ForceOption = Annotated[bool, typer.Option(help="overwrite a folder holding a different trace")]


def _out_help(example: str) -> str:
    return f"output folder (default: reports/synth/{example}, with -sSEED for a seed other than 0)"


def _report(folder: Path, params: dict) -> None:
    _out.print(f"wrote layer pass {layer_pass.pass_name(params)} to {folder}", markup=False)


@synth_app.command("fc")
def fc(
    rows: Annotated[int, typer.Option(help="pre-synaptic neurons (weight rows)")],
    cols: Annotated[int, typer.Option(help="post-synaptic neurons (weight columns)")],
    density: DensityOption,
    weight_bits: BitsOption,
    out: Annotated[Path | None, typer.Option(help=_out_help("fc-784x128-d0.5-w8"))] = None,
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """One pass through a fully connected rows×cols layer: forward, backward and update."""
    params = layer_pass.fc_params(rows, cols, density, weight_bits, seed)
    folder = out or Path("reports") / "synth" / layer_pass.pass_name(params)
    _report(layer_pass.fc_pass(folder, rows, cols, density, weight_bits, seed, force=force), params)


@synth_app.command("conv")
def conv(
    in_channels: Annotated[int, typer.Option(help="input channels")],
    out_channels: Annotated[int, typer.Option(help="output channels")],
    kernel: Annotated[int, typer.Option(help="kernel size K (odd; K×K, stride 1, 'same')")],
    image: Annotated[int, typer.Option(help="image side H = W in pixels")],
    density: DensityOption,
    weight_bits: BitsOption,
    out: Annotated[Path | None, typer.Option(help=_out_help("conv-1x32-k3-i28-d1-w8"))] = None,
    seed: SeedOption = 0,
    force: ForceOption = False,
) -> None:
    """One pass of a convolution layer over one image: forward, backward and update."""
    params = layer_pass.conv_params(
        in_channels, out_channels, kernel, image, density, weight_bits, seed
    )
    folder = out or Path("reports") / "synth" / layer_pass.pass_name(params)
    written = layer_pass.conv_pass(
        folder, in_channels, out_channels, kernel, image, density, weight_bits, seed, force=force
    )
    _report(written, params)
