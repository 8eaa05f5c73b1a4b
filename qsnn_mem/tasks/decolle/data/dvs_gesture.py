"""DVS Gesture (IBM, AEDAT 3.1) recordings -> labelled event samples in compact ``.npz`` files.

The release folder holds ``userNN_<lighting>.aedat`` recordings, one ``<name>_labels.csv`` per
recording (header ``class,startTime_usec,endTime_usec``, classes 1-11, absolute µs on the
recording's clock) and the lists ``trials_to_train.txt`` / ``trials_to_test.txt``. As in the
reference's ``prepGesture.py``, every label row becomes one sample: the events with
start ≤ t ≤ end, times in whole ms from the sample's first event, and test samples cut to
t ≤ 1800 ms. Labels are stored 0-based (class - 1). Unlike the reference, a recording that
cannot be read is reported (skipped or refused, as the caller chooses), never dropped silently,
and invalid events (valid bit clear) and non-polarity packets are left out.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ....errors import QsnnError
from .aedat import SENSOR, Events, read_aedat3
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

NB_CLASSES = 11
LABEL_HEADER = "class,startTime_usec,endTime_usec"
TRIAL_LISTS = {"train": "trials_to_train.txt", "test": "trials_to_test.txt"}
TEST_MAX_MS = 1800  # the reference cuts test gestures to their first 1.8 s


def read_trials(path: str | os.PathLike) -> list[str]:
    """Recording names listed in a ``trials_to_*.txt`` file, one per non-blank line."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: trial list not found (is {file.parent} the DVS Gesture folder?)")
    names = [line.strip() for line in file.read_text(errors="replace").splitlines()]
    names = [n for n in names if n]
    bad = [n for n in names if not n.endswith(".aedat")]
    if bad:
        raise QsnnError(f"{file}: entry {bad[0]!r} is not an .aedat file name")
    return names


def read_gesture_labels(path: str | os.PathLike, nb_classes: int = NB_CLASSES) -> np.ndarray:
    """Rows (class 1..nb_classes, start µs, end µs) of a ``_labels.csv``, as int64 (k, 3)."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: label file not found")
    lines = [line.strip() for line in file.read_text(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines or lines[0].replace(" ", "") != LABEL_HEADER:
        raise QsnnError(f"{file}: first line must be '{LABEL_HEADER}'")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            row = [int(c) for c in cells]
        except ValueError:
            row = []
        if len(row) != 3:
            raise QsnnError(f"{file}: line {number} {line!r} is not three integers")
        label, start, end = row
        if not 1 <= label <= nb_classes:
            raise QsnnError(f"{file}: line {number}: class {label} (allowed: 1-{nb_classes})")
        if not 0 <= start < end:
            raise QsnnError(f"{file}: line {number}: start {start} µs is not before end {end} µs")
        rows.append(row)
    if not rows:
        raise QsnnError(f"{file}: holds no labelled gestures")
    return np.asarray(rows, dtype=np.int64)


def cut_gestures(
    events: Events, labels: np.ndarray, labels_path: Path, max_ms: int | None = None
) -> list[np.ndarray]:
    """One sample per label row; every labelled interval must lie within the recording."""
    first, last = int(events.t_us[0]), int(events.t_us[-1])
    samples = []
    for number, (_, start, end) in enumerate(labels, start=2):
        if start < first or end > last:
            raise QsnnError(
                f"{labels_path}: line {number}: gesture [{start}, {end}] µs lies outside the "
                f"recording's events [{first}, {last}] µs"
            )
        lo = np.searchsorted(events.t_us, start, side="left")
        hi = np.searchsorted(events.t_us, end, side="right")
        if hi == lo:
            raise QsnnError(f"{labels_path}: line {number}: no events in [{start}, {end}] µs")
        sample = make_sample(*(column[lo:hi] for column in events))
        if max_ms is not None:
            sample = sample[sample[:, 0] <= max_ms]
        samples.append(sample)
    return samples


def read_gesture_recording(
    aedat_path: str | os.PathLike, *, max_ms: int | None = None, sensor=SENSOR
) -> tuple[list[np.ndarray], np.ndarray]:
    """Samples and 0-based labels of one recording and its ``<name>_labels.csv``."""
    file = Path(aedat_path)
    labels_path = file.with_name(file.stem + "_labels.csv")
    labels = read_gesture_labels(labels_path)
    events = read_aedat3(file, sensor)
    return cut_gestures(events, labels, labels_path, max_ms), labels[:, 0] - 1


def prepare_gesture(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    on_error: OnError = "skip",
    progress: Progress | None = None,
    test_max_ms: int | None = TEST_MAX_MS,
    sensor: tuple[int, int] = SENSOR,
) -> PrepareSummary:
    """Read the DVS Gesture release in ``raw_dir``; write ``gesture_{train,test}.npz``.

    ``on_error='skip'`` leaves out a recording that cannot be read and lists it, with the
    reason, in the summary's ``skipped``; ``'refuse'`` raises its QsnnError. ``progress`` is
    called after every recording with (done, total, name).
    """
    check_on_error(on_error)
    raw = Path(raw_dir)
    if not raw.is_dir():
        raise QsnnError(f"{raw}: DVS Gesture folder not found")
    trials = {split: read_trials(raw / name) for split, name in TRIAL_LISTS.items()}
    total = sum(len(names) for names in trials.values())
    summary = PrepareSummary()
    out = Path(out_dir)
    done = 0
    splits: dict[str, EventSet] = {}
    for split, names in trials.items():
        samples: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        for name in names:
            try:
                got, classes = read_gesture_recording(
                    raw / name, max_ms=test_max_ms if split == "test" else None, sensor=sensor
                )
                samples += got
                labels.append(classes)
                summary.recordings += 1
                summary.per_recording[name] = len(got)
            except QsnnError as error:
                handle_failure(summary, name, error, on_error)
            done += 1
            if progress is not None:
                progress(done, total, name)
        if not samples:
            reasons = "; ".join(f"{n}: {r}" for n, r in summary.skipped[:3])
            raise QsnnError(f"{raw}: no {split} recording could be read ({reasons or 'none'})")
        splits[split] = EventSet(samples, np.concatenate(labels), sensor)
        split_counts(summary, split, samples)
    # Both splits are read and checked before either file is replaced.
    summary.outputs.update(write_event_splits(out, "gesture", splits))
    return summary
