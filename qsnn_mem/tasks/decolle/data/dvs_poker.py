"""SLOW-POKER-DVS (jAER AEDAT 2.0) recordings -> fixed-length windows in compact ``.npz`` files.

The data set has one long recording per card suit (``RetinaTeresa2-<suit>_long.aedat``, suits
club, diamond, heart, spade -> labels 0-3). As in the reference's ``prepPoker.py``, times are
whole ms from the recording's first event and the first ``duration_ms`` (121,000) are cut into
consecutive non-overlapping windows of ``window_ms``, each a sample with times from its own
start (with 500 ms: 242 windows per suit, 968 samples). Windows are kept even when empty, as in
the reference; a recording shorter than ``duration_ms`` gives only its complete windows.
Unlike the reference (one shuffled 80/20 split), the split is drawn per suit from a seed, so both
files hold every suit in proportion and a rerun gives the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ....errors import QsnnError
from .aedat import Events, read_aedat2
from .events import (
    EventSet,
    OnError,
    PrepareSummary,
    Progress,
    check_on_error,
    handle_failure,
    make_sample,
    split_counts,
    write_event_splits,
)

SUITS = ("club", "diamond", "heart", "spade")
SENSOR = (128, 128)
DURATION_MS = 121_000  # the reference's span per recording ("one recording is just 2 min")


def cut_windows(events: Events, window_ms: int, duration_ms: int | None) -> list[np.ndarray]:
    """Consecutive windows of ``window_ms`` over the first ``duration_ms`` of the recording."""
    t_ms = (events.t_us - events.t_us[0]) // 1000
    length = int(t_ms[-1]) + 1
    span = length if duration_ms is None else min(duration_ms, length)
    edges = np.arange(span // window_ms + 1) * window_ms
    bounds = np.searchsorted(t_ms, edges, side="left")
    samples = []
    for k in range(len(edges) - 1):
        lo, hi = bounds[k], bounds[k + 1]
        sample = make_sample(
            events.t_us[lo:hi], events.x[lo:hi], events.y[lo:hi], events.pol[lo:hi]
        )
        sample[:, 0] = t_ms[lo:hi] - edges[k]
        samples.append(sample)
    return samples


def find_recordings(raw_dir: Path) -> dict[str, Path]:
    """The one ``*<suit>*.aedat`` recording of each suit in ``raw_dir``."""
    if not raw_dir.is_dir():
        raise QsnnError(f"{raw_dir}: SLOW-POKER-DVS folder not found")
    files = sorted(p for p in raw_dir.iterdir() if p.suffix.lower() == ".aedat")
    found = {}
    for suit in SUITS:
        matches = [p for p in files if suit in p.name.lower()]
        if len(matches) != 1:
            what = "no" if not matches else f"{len(matches)}"
            raise QsnnError(
                f"{raw_dir}: {what} recordings for suit '{suit}' (expected exactly one, "
                f"e.g. RetinaTeresa2-{suit}_long.aedat)"
            )
        found[suit] = matches[0]
    return found


def _split(nb: int, test_fraction: float, rng: np.random.Generator) -> tuple[list, list]:
    order = rng.permutation(nb)
    nb_test = round(nb * test_fraction)
    return sorted(order[nb_test:]), sorted(order[:nb_test])


def prepare_poker(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    window_ms: int = 500,
    duration_ms: int | None = DURATION_MS,
    test_fraction: float = 0.2,
    seed: int = 0,
    on_error: OnError = "skip",
    progress: Progress | None = None,
) -> PrepareSummary:
    """Read the four suit recordings in ``raw_dir``; write ``poker_{train,test}.npz``.

    ``on_error`` and ``progress`` as in :func:`.dvs_gesture.prepare_gesture`.
    """
    check_on_error(on_error)
    if isinstance(window_ms, bool) or not isinstance(window_ms, int) or window_ms < 1:
        raise QsnnError(f"window_ms = {window_ms!r} is not allowed (allowed: an integer >= 1)")
    if not 0.0 <= test_fraction < 1.0:
        raise QsnnError(f"test_fraction = {test_fraction!r} is not allowed (allowed: [0, 1))")
    raw = Path(raw_dir)
    recordings = find_recordings(raw)
    rng = np.random.default_rng(seed)
    summary = PrepareSummary()
    splits: dict[str, tuple[list[np.ndarray], list[int]]] = {"train": ([], []), "test": ([], [])}
    for label, path in enumerate(recordings.values()):
        try:
            windows = cut_windows(read_aedat2(path), window_ms, duration_ms)
            if not windows:
                raise QsnnError(f"{path}: recording is shorter than one {window_ms} ms window")
        except QsnnError as error:
            handle_failure(summary, path.name, error, on_error)
            windows = []
        if windows:
            summary.recordings += 1
            summary.per_recording[path.name] = len(windows)
            for split, picks in zip(splits, _split(len(windows), test_fraction, rng), strict=True):
                splits[split][0].extend(windows[i] for i in picks)
                splits[split][1].extend([label] * len(picks))
        if progress is not None:
            progress(label + 1, len(recordings), path.name)
    if summary.recordings == 0:
        reasons = "; ".join(f"{n}: {r}" for n, r in summary.skipped[:3])
        raise QsnnError(f"{raw}: no recording could be read ({reasons})")
    sets = {}
    for split, (samples, labels) in splits.items():
        sets[split] = EventSet(samples, np.asarray(labels, dtype=np.int64), SENSOR)
        split_counts(summary, split, samples)
    summary.outputs.update(write_event_splits(out_dir, "poker", sets))
    return summary
