"""One sweep point in a worker: run it into its folder, and the marker that says it is done.

A point's folder is a normal run folder (as ``qsnn-mem trace`` writes it) plus ``point.json``,
written atomically and last. The marker records the point's key: a hash of everything that
changes its results (the full configuration and the trace mode). A folder without a marker is
not done; one whose marker has another key was done under other options, which the sweep
refuses (:func:`done_state`). So a sweep killed at any moment never leaves a point that looks
finished, and a point never counts as done for options it was not run with.
"""

from __future__ import annotations

import contextlib
import hashlib
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
from .lock import Lease, in_holder, lease_held, watch_lease

MARKER = "point.json"
KEY_VERSION = 1
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
    lease: Lease | None = None  # the sweep's lock: a worker elsewhere stops when it is lost

    @property
    def key(self) -> str:
        return point_key(self.config, self.trace_mode)


@dataclass
class Outcome:
    """What came of a job: ``ran``, ``failed`` or ``interrupted``."""

    id: str
    status: str
    wall_s: float = 0.0
    error: str = ""
    worker: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")


def point_key(config: dict[str, Any], trace_mode: str) -> str:
    """Hash of everything that changes a point's results: its full configuration (task, seed
    and every field, defaults included) and the trace mode."""
    data = {"v": KEY_VERSION, "config": config, "trace_mode": trace_mode}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class State:
    """A point folder as found: ``done``, ``todo`` (absent, unfinished, broken) or ``other``
    (finished under other options; ``why`` names them)."""

    kind: str
    why: str = ""


def done_state(folder: Path, config: dict[str, Any], trace_mode: str) -> State:
    """Whether ``folder`` holds this point finished: its marker, with this key, and every run
    file."""
    marker = folder / MARKER
    if not marker.is_file():
        return State("todo", "no marker")
    try:
        info = json.loads(marker.read_text())
        if not isinstance(info, dict):
            raise ValueError("not an object")
    except (OSError, UnicodeDecodeError, ValueError):
        return State("todo", "unreadable marker")
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        return State("todo", f"missing {', '.join(missing)}")
    stored_cfg = info.get("config") if isinstance(info.get("config"), dict) else {}
    stored_mode = info.get("trace_mode")
    # Markers written before keys existed: their key is that of what they record.
    stored = info.get("key") or point_key(stored_cfg, str(stored_mode))
    if stored == point_key(config, trace_mode):
        return State("done")
    return State("other", _differences(stored_cfg, stored_mode, config, trace_mode))


def _differences(stored: dict, stored_mode: Any, config: dict, trace_mode: str) -> str:
    """``mode: 'event' != 'dense', lr: 1.0 != 0.5`` (done != asked), at most four."""
    diff = []
    if stored_mode != trace_mode:
        diff.append(f"mode: {stored_mode!r} != {trace_mode!r}")
    missing = "(absent)"
    for k in sorted(set(stored) | set(config)):
        old, new = stored.get(k, missing), config.get(k, missing)
        if old != new:
            diff.append(f"{k}: {old!r} != {new!r}")
    if not diff:
        return "recorded under another key"
    return ", ".join(diff[:4]) + (f" and {len(diff) - 4} more" if len(diff) > 4 else "")


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
    """Train and trace one point; every error becomes a ``failed`` outcome, never a raise.

    Away from the sweep's own process, a watcher ends this process as soon as the sweep's lock
    is lost (the sweep was killed, or another took the folder), and the marker is written only
    while the lock is held."""
    start = time.perf_counter()
    guard = job.lease is not None and not in_holder(job.lease)
    stop = watch_lease(job.lease) if guard else None
    try:
        _limit_threads(job.threads)
        cfg = validate(tasks.get(job.task).schema, job.config, f"point {job.id}")
        folder = Path(job.folder)
        if folder.is_dir():
            _clean(folder)
        result = runner.run_workload(
            cfg, folder, trace_mode=job.trace_mode, command=job.command, overwrite=True
        )
        wall = time.perf_counter() - start
        if result.interrupted:
            return Outcome(job.id, "interrupted", wall, "stopped by an interrupt")
        marker = {
            "point": job.id,
            "key": job.key,
            "grids": job.grids,
            "values": job.values,
            "seed": cfg.seed,
            "trace_mode": job.trace_mode,
            "config": job.config,
            "wall_s": round(wall, 3),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if guard and not lease_held(job.lease):
            os._exit(75)  # the sweep is gone: never mark a point done behind its back
        write_json(folder / MARKER, marker)
        return Outcome(job.id, "ran", wall)
    except KeyboardInterrupt:
        return Outcome(job.id, "interrupted", time.perf_counter() - start, "stopped by Ctrl-C")
    except QsnnError as exc:
        return Outcome(job.id, "failed", time.perf_counter() - start, str(exc))
    except Exception as exc:
        return Outcome(job.id, "failed", time.perf_counter() - start, _describe(exc))
    finally:
        if stop is not None:
            stop.set()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
