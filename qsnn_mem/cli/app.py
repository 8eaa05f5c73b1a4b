"""The typer application every command module registers with: ``-h`` works as ``--help`` for
the application and every command, and ``--version`` prints the version."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="qsnn-mem",
    help="Memory energy and area of on-chip learning in quantized spiking neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qsnn-mem {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Memory energy and area of on-chip learning in quantized spiking neural networks.

    Typical use: ``qsnn-mem trace workloads/smile.yaml`` counts every memory access of training
    and inference; ``qsnn-mem estimate arch/banked.yaml --trace RUN`` prices them.
    """
