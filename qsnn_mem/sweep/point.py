"""One sweep point in a worker: run it into its folder, and the marker that says it is done.

A point's folder is a normal run folder (as ``qsnn-mem trace`` writes it) plus ``point.json``,
written atomically and last. A folder without it, or whose marker holds another configuration,
is not done; so a sweep killed at any moment never leaves a point that looks finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import runner, tasks
from ..errors import QsnnError
from ..io import write_json
from ..schema import validate

MARKER = "point.json"
RUN_FILES = ("metrics.csv", "run.json", "weights.npz", "accesses.csv", "tensors.csv", "trace.json")


@dataclass(frozen=True)
class Job:
    """What a worker needs: plain data only, so it pickles to any process or Dask worker."""

    id: str
    folder: str
    task: str
    config: dict[str, Any]
    values: dict[str, Any]
    grids: list[str]
    trace_mode: str = "event"
    threads: int | None = 1
    command: str = ""


@dataclass
class Outcome:
    """What came of a job: ``ran``, ``failed`` or ``interrupted``."""

    id: str
    status: str
    wall_s: float = 0.0
    error: str = ""
    worker: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")


def done_state(folder: Path, config: dict[str, Any]) -> tuple[bool, str]:
    """(done, why not): done means the marker and every run file exist for this config."""
    marker = folder / MARKER
    if not marker.is_file():
        return False, "no marker"
    try:
        info = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return False, "unreadable marker"
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        return False, f"missing {', '.join(missing)}"
    stored = info.get("config", {})
    if stored != config:
        diff = sorted(k for k in set(stored) | set(config) if stored.get(k) != config.get(k))
        shown = ", ".join(f"{k}: {stored.get(k)!r} != {config.get(k)!r}" for k in diff[:3])
        raise QsnnError(
            f"{folder}: holds a finished run of another configuration ({shown}); delete the "
            "folder or give the sweep another --out"
        )
    return True, ""


def _limit_threads(threads: int | None) -> None:
    """Several points share the machine: one thread each unless told otherwise."""
    if threads is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _clean(folder: Path) -> None:
    """Drop a stale marker and temporary files a killed run may have left."""
    with contextlib.suppress(FileNotFoundError):
        (folder / MARKER).unlink()
    for tmp in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def run_point(job: Job) -> Outcome:
    """Train and trace one point; every error becomes a ``failed`` outcome, never a raise."""
    start = time.perf_counter()
    try:
        _limit_threads(job.threads)
        cfg = validate(tasks.get(job.task).schema, job.config, f"point {job.id}")
        folder = Path(job.folder)
        if folder.is_dir():
            _clean(folder)
        result = runner.run_workload(cfg, folder, trace_mode=job.trace_mode, command=job.command)
        wall = time.perf_counter() - start
        if result.interrupted:
            return Outcome(job.id, "interrupted", wall, "stopped by an interrupt")
        marker = {
            "point": job.id,
            "grids": job.grids,
            "values": job.values,
            "seed": cfg.seed,
            "trace_mode": job.trace_mode,
            "config": job.config,
            "wall_s": round(wall, 3),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_json(folder / MARKER, marker)
        return Outcome(job.id, "ran", wall)
    except KeyboardInterrupt:
        return Outcome(job.id, "interrupted", time.perf_counter() - start, "stopped by Ctrl-C")
    except QsnnError as exc:
        return Outcome(job.id, "failed", time.perf_counter() - start, str(exc))
    except Exception as exc:
        return Outcome(job.id, "failed", time.perf_counter() - start, _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
