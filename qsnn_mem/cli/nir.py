"""``qsnn-mem import MODEL.nir --out W.yaml`` and ``qsnn-mem export-nir SMILE --out M.nir``.

``import`` reads and checks a NIR graph (docs/nir.md: the nodes qsnn-mem reads and how) and
writes a ``task: nir`` workload that points at it, with a header naming its layers and shapes.
``export-nir`` writes the smile network of a workload (initial weights) or of a run folder (its
final weights) as a NIR graph.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import yaml

from .. import tasks
from ..errors import QsnnError
from ..io import atomic_path
from ..tasks.nir.nir_file import exported_dt, load_network, read_graph, save_network, summary_lines
from ..workload import load_workload
from .app import app
from .common import SetOption, console

DEFAULT_DT = 1e-3  # the nir workload's default time step (s)
YAML_SUFFIXES = (".yaml", ".yml")

OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace the output file if it exists.")
]


def _refuse_existing(out: Path, overwrite: bool) -> None:
    if out.is_dir():
        raise QsnnError(f"--out {out} is a folder (give a file name)")
    if out.exists() and not overwrite:
        raise QsnnError(f"{out} exists; add --overwrite to replace it")


def _relative(target: Path, folder: Path) -> str:
    """``target`` relative to ``folder`` (as the workload reads it), else absolute."""
    try:
        return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive
        return target.resolve().as_posix()


@app.command("import")
def import_command(
    model: Annotated[Path, typer.Argument(help="NIR graph file (.nir), e.g. from snnTorch.")],
    out: Annotated[Path, typer.Option("--out", help="Workload YAML to write.")],
    dt: Annotated[
        float | None,
        typer.Option(
            help="Time step in s the graph's time constants are discretised with (default: the "
            "one a qsnn-mem export records, else 1e-3)."
        ),
    ] = None,
    nb_steps: Annotated[
        int | None, typer.Option("--nb-steps", min=1, help="Time steps per sample.")
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Check a NIR graph and write a workload (task: nir) that trains and traces it."""
    if out.suffix.lower() not in YAML_SUFFIXES:
        raise QsnnError(f"--out {out}: a workload is a YAML file (allowed: .yaml, .yml)")
    _refuse_existing(out, overwrite)
    if model.suffix.lower() != ".nir":
        raise QsnnError(f"{model}: not a .nir file (allowed: a NIR graph file ending in .nir)")
    recorded = exported_dt(read_graph(model)[2])
    step = dt if dt is not None else (recorded or DEFAULT_DT)
    network = load_network(model, step)
    origin = "--dt" if dt is not None else ("the graph's qsnn_mem.dt" if recorded else "default")
    fields: dict = {"name": out.stem, "task": "nir", "graph": _relative(model, out.parent)}
    fields["dt"] = step
    if nb_steps is not None:
        fields["nb_steps"] = nb_steps
    header = [
        f"Workload for the NIR graph {model.name}, written by qsnn-mem import.",
        *summary_lines(network, step),
        f"dt ({origin}) discretises the graph's time constants (docs/nir.md); every other",
        "field has the nir task's default (docs/nir.md, docs/workloads.md).",
    ]
    text = "".join(f"# {line}\n" for line in header)
    text += yaml.safe_dump(fields, sort_keys=False, default_flow_style=False)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
        if "nir" in tasks.REGISTRY:  # the file must read back as a valid workload
            load_workload(tmp)
    console.print(f"wrote {out}: {len(network.layers)} layers from {model}")
    for line in summary_lines(network, step)[1:]:
        console.print(f"  {line}")


@app.command("export-nir")
def export_nir_command(
    source: Annotated[
        Path, typer.Argument(help="A smile workload YAML (initial weights) or a smile run folder.")
    ],
    out: Annotated[Path, typer.Option("--out", help="NIR file to write (.nir).")],
    set_: SetOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Write the smile network (two Linear + CubaLIF layers) as a NIR graph."""
    # The smile model (torch) is loaded only by this command: the CLI starts without torch.
    from ..tasks.nir.smile_export import smile_network, smile_source

    if out.suffix.lower() != ".nir":
        raise QsnnError(f"--out {out}: a NIR graph file ends in .nir")
    _refuse_existing(out, overwrite)
    if set_ and source.is_dir():
        raise QsnnError("--set changes a workload YAML; a run folder's configuration is fixed")
    cfg, weights = smile_source(source, set_ or [])
    network = smile_network(cfg, weights, source=str(out))
    save_network(network, out)
    load_network(out, cfg.time_step)  # what was written reads back through the importer's checks
    what = "final weights of the run" if weights is not None else "initial weights"
    console.print(f"wrote {out}: the smile network of {source} ({what})")
    for line in summary_lines(network, cfg.time_step)[1:]:
        console.print(f"  {line}")
