"""The typer application every command module registers with."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="qsnn-mem",
    help="Memory energy and area of on-chip learning in quantized spiking neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Memory energy and area of on-chip learning in quantized spiking neural networks.

    Typical use: ``qsnn-mem trace workloads/smile.yaml`` counts every memory access of training
    and inference; ``qsnn-mem estimate arch/banked.yaml --trace RUN`` prices them.
    """
