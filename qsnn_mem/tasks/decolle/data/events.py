"""Prepared event samples: the compact ``.npz`` the DVS workloads train on, and prepare bookkeeping.

A sample is a uint32 array of shape (n, 4) with columns ``[t_ms, x, y, pol]`` (time in ms from
the sample's start, column, row, polarity 1 = ON / 0 = OFF), the layout of the reference's
prepared pickles. A set of samples is stored as one ``.npz``: the columns concatenated over all
samples (``t_ms`` uint32, ``x``/``y`` uint16, ``pol`` uint8), ``offsets`` (int64, n + 1; sample
i is rows ``offsets[i]:offsets[i+1]``), ``labels`` (int64, 0-based) and ``sensor`` (height,
width).
"""

from __future__ import annotations

import itertools
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ....errors import QsnnError
from ....io import atomic_path, ensure_dir

OnError = Literal["skip", "refuse"]
Progress = Callable[[int, int, str], None]  # (files done, files in all, file name)
_KEYS = ("t_ms", "x", "y", "pol", "offsets", "labels", "sensor")


@dataclass
class EventSet:
    samples: list[np.ndarray]  # each uint32 (n, 4): t_ms, x, y, pol
    labels: np.ndarray  # int64, 0-based class per sample
    sensor: tuple[int, int]  # (height, width)


@dataclass
class PrepareSummary:
    """What a prepare run produced: files written, samples per split, recordings skipped."""

    outputs: dict[str, Path] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    recordings: int = 0  # recordings read successfully
    per_recording: dict[str, int] = field(default_factory=dict)  # samples cut from each
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def check_on_error(on_error: str) -> None:
    if on_error not in ("skip", "refuse"):
        raise QsnnError(f"on_error = {on_error!r} is not allowed (allowed: 'skip', 'refuse')")


def make_sample(t_us: np.ndarray, x: np.ndarray, y: np.ndarray, pol: np.ndarray) -> np.ndarray:
    """Stack events into a (n, 4) uint32 sample, times in whole ms from the first event."""
    t_ms = t_us // 1000
    sample = np.empty((len(t_us), 4), dtype=np.uint32)
    sample[:, 0] = t_ms - t_ms[0] if len(t_ms) else t_ms
    sample[:, 1], sample[:, 2], sample[:, 3] = x, y, pol
    return sample


def write_events_npz(path: str | os.PathLike, events: EventSet) -> Path:
    """Write ``events`` atomically to ``path`` (see the module docstring for the layout)."""
    if len(events.samples) != len(events.labels):
        raise QsnnError(
            f"{path}: {len(events.samples)} samples but {len(events.labels)} labels (must match)"
        )
    lengths = [len(s) for s in events.samples]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    rows = np.concatenate(events.samples) if events.samples else np.empty((0, 4), dtype=np.uint32)
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        np.savez(
            fh,
            t_ms=rows[:, 0].astype(np.uint32),
            x=rows[:, 1].astype(np.uint16),
            y=rows[:, 2].astype(np.uint16),
            pol=rows[:, 3].astype(np.uint8),
            offsets=offsets,
            labels=np.asarray(events.labels, dtype=np.int64),
            sensor=np.asarray(events.sensor, dtype=np.int64),
        )
    return target


def write_event_splits(folder: str | os.PathLike, stem: str, splits: dict[str, EventSet]):
    """Write every split (``<stem>_<split>.npz``) together: each to a temporary file first, and
    only when all are written are they moved into place, so a failure replaces none of them."""
    out = ensure_dir(folder)
    staged: dict[str, Path] = {}
    try:
        for split, events in splits.items():
            staged[split] = write_events_npz(out / f".{stem}_{split}.npz.new", events)
        paths = {split: out / f"{stem}_{split}.npz" for split in splits}
        for split, tmp in staged.items():
            os.replace(tmp, paths[split])
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
    return paths


def load_events_npz(path: str | os.PathLike) -> EventSet:
    """Read a file written by :func:`write_events_npz`, checking that it is consistent."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: prepared event file not found (run 'qsnn-mem prepare' first)")
    try:
        with np.load(file, allow_pickle=False) as archive:
            missing = [k for k in _KEYS if k not in archive.files]
            if missing:
                raise QsnnError(
                    f"{file}: not a prepared event file: missing {', '.join(missing)} "
                    f"(expected keys: {', '.join(_KEYS)})"
                )
            parts = {k: archive[k] for k in _KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise QsnnError(
            f"{file}: not a readable .npz file (corrupt or truncated?): {exc}"
        ) from None
    offsets, n = parts["offsets"], len(parts["t_ms"])
    columns_ok = all(len(parts[k]) == n for k in ("x", "y", "pol"))
    if (
        not columns_ok
        or len(offsets) != len(parts["labels"]) + 1
        or offsets[0] != 0
        or offsets[-1] != n
        or np.any(np.diff(offsets) < 0)
    ):
        raise QsnnError(f"{file}: inconsistent event file (columns, offsets and labels disagree)")
    rows = np.stack([parts[k].astype(np.uint32) for k in ("t_ms", "x", "y", "pol")], axis=1)
    samples = [rows[a:b] for a, b in itertools.pairwise(offsets)]
    height, width = (int(v) for v in parts["sensor"])
    return EventSet(samples, parts["labels"].astype(np.int64), (height, width))


def handle_failure(summary: PrepareSummary, name: str, error: QsnnError, on_error: OnError) -> None:
    """Record a failed recording in ``summary`` or, with ``on_error='refuse'``, stop."""
    if on_error == "refuse":
        raise error
    summary.skipped.append((name, str(error)))


def split_counts(summary: PrepareSummary, split: str, samples: Sequence[np.ndarray]) -> None:
    summary.samples[split] = len(samples)
    summary.events[split] = int(sum(len(s) for s in samples))
