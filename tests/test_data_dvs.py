"""DVS readers: tiny recordings written here in the real formats, decoded event by event."""

import struct

import numpy as np
import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.decolle.data.aedat import read_aedat2, read_aedat3
from qsnn_mem.tasks.decolle.data.dvs_gesture import prepare_gesture, read_gesture_labels
from qsnn_mem.tasks.decolle.data.dvs_poker import SUITS, prepare_poker
from qsnn_mem.tasks.decolle.data.events import EventSet, load_events_npz, write_events_npz

AEDAT3_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"
AEDAT2_HEADER = b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"


def random_events(seed, n=300, t0=1_000_000, span_us=6_000_000):
    """Sorted (t_us, x, y, pol) int64 columns."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(t0, t0 + span_us, n))
    return t, rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)


def aedat3_bytes(t, x, y, pol, chunk=64, special_every=2, invalid=()):
    """AEDAT 3.1: packets of `chunk` polarity events, a special-event packet after every few."""
    out = bytearray(AEDAT3_HEADER)
    valid = np.ones(len(t), dtype=np.int64)
    valid[list(invalid)] = 0
    data = (x << 17) | (y << 2) | (pol << 1) | valid
    starts = list(range(0, len(t), chunk))
    for k, lo in enumerate(starts):
        hi = min(lo + chunk, len(t))
        # A packet carries one overflow value: split where bit 31 of the time changes.
        for over in np.unique(t[lo:hi] >> 31):
            sel = np.arange(lo, hi)[(t[lo:hi] >> 31) == over]
            n = len(sel)
            out += struct.pack("<hhiiiiii", 1, 1, 8, 4, int(over), n, n, int(valid[sel].sum()))
            for i in sel:
                out += struct.pack("<Ii", int(data[i]), int(t[i] & 0x7FFFFFFF))
        if k % special_every == 0:
            out += struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1)
            out += struct.pack("<Ii", 0x1, 5)  # a timestamp-reset-like special event
    return bytes(out)


def aedat2_bytes(t, x, y, pol, extra=()):
    addr = (y << 8) | (x << 1) | (1 - pol)
    body = b"".join(
        struct.pack(">II", int(a), int(s) & 0xFFFFFFFF) for a, s in zip(addr, t, strict=True)
    )
    return AEDAT2_HEADER + body + b"".join(struct.pack(">II", *e) for e in extra)


# ---------------------------------------------------------------- AEDAT 3.1


def test_aedat3_decodes_every_event(tmp_path):
    t, x, y, pol = random_events(0)
    invalid = [3, 100]
    path = tmp_path / "rec.aedat"
    path.write_bytes(aedat3_bytes(t, x, y, pol, invalid=invalid))
    ev = read_aedat3(path)
    keep = np.ones(len(t), dtype=bool)
    keep[invalid] = False
    for got, want in zip(ev, (t, x, y, pol), strict=True):
        np.testing.assert_array_equal(got, want[keep])


def test_aedat3_timestamp_overflow(tmp_path):
    t, x, y, pol = random_events(1, t0=(1 << 31) - 3_000_000)
    assert (t >> 31).min() == 0 and (t >> 31).max() == 1
    path = tmp_path / "over.aedat"
    path.write_bytes(aedat3_bytes(t, x, y, pol))
    np.testing.assert_array_equal(read_aedat3(path).t_us, t)


def _bad_aedat3(tmp_path, data, match):
    path = tmp_path / "bad.aedat"
    path.write_bytes(data)
    with pytest.raises(QsnnError, match=match) as info:
        read_aedat3(path)
    assert "bad.aedat" in str(info.value)


def test_aedat3_corrupt_files(tmp_path):
    t, x, y, pol = random_events(2)
    good = aedat3_bytes(t, x, y, pol)
    _bad_aedat3(tmp_path, good[:-5], "truncated")
    _bad_aedat3(tmp_path, good[: len(AEDAT3_HEADER) + 10], "truncated")
    _bad_aedat3(tmp_path, good.replace(b"#!END-HEADER\r\n", b""), "END-HEADER")
    _bad_aedat3(tmp_path, b"\x00\x01" + good, "AER-DAT3")
    _bad_aedat3(tmp_path, AEDAT2_HEADER + good, "AEDAT 2.0")
    _bad_aedat3(tmp_path, AEDAT3_HEADER, "no polarity events")
    bad_size = bytearray(good)
    struct.pack_into("<i", bad_size, len(AEDAT3_HEADER) + 4, 12)  # eventSize 12
    _bad_aedat3(tmp_path, bytes(bad_size), "eventSize")
    _bad_aedat3(tmp_path, aedat3_bytes(t, np.where(x == x[5], 200, x), y, pol), "outside")
    _bad_aedat3(tmp_path, aedat3_bytes(t[::-1].copy(), x, y, pol), "backwards")


def test_aedat3_missing_file(tmp_path):
    with pytest.raises(QsnnError, match=r"nope\.aedat: recording not found"):
        read_aedat3(tmp_path / "nope.aedat")


# ---------------------------------------------------------------- DVS Gesture


def write_gesture_recording(folder, name, seed, labels, corrupt=False):
    t, x, y, pol = random_events(seed)
    data = aedat3_bytes(t, x, y, pol)
    (folder / f"{name}.aedat").write_bytes(data[:-11] if corrupt else data)
    rows = ["class,startTime_usec,endTime_usec"] + [f"{c},{s},{e}" for c, s, e in labels]
    (folder / f"{name}_labels.csv").write_text("\r\n".join(rows) + "\r\n")
    return t, x, y, pol


def expected_gesture(events, start, end, max_ms=None):
    t, x, y, pol = events
    sel = (t >= start) & (t <= end)
    t_ms = t[sel] // 1000
    rows = np.stack([t_ms - t_ms[0], x[sel], y[sel], pol[sel]], axis=1).astype(np.uint32)
    return rows if max_ms is None else rows[rows[:, 0] <= max_ms]


LABELS_A = [(1, 1_200_000, 2_500_000), (5, 2_600_000, 4_000_000), (11, 4_100_000, 6_900_000)]
LABELS_B = [(3, 1_100_000, 4_500_000), (2, 4_600_000, 6_500_000)]


def make_gesture_folder(folder, corrupt_b=False):
    folder.mkdir()
    a = write_gesture_recording(folder, "user01_fluorescent", 10, LABELS_A)
    b = write_gesture_recording(folder, "user02_led", 11, LABELS_B, corrupt=corrupt_b)
    c = write_gesture_recording(folder, "user24_natural", 12, LABELS_B)
    (folder / "trials_to_train.txt").write_text("user01_fluorescent.aedat\nuser02_led.aedat\n\n")
    (folder / "trials_to_test.txt").write_text("user24_natural.aedat\n")
    return a, b, c


def test_prepare_gesture_event_by_event(tmp_path):
    a, b, c = make_gesture_folder(tmp_path / "raw")
    calls = []
    summary = prepare_gesture(
        tmp_path / "raw", tmp_path / "out", progress=lambda *args: calls.append(args)
    )
    assert calls == [
        (1, 3, "user01_fluorescent.aedat"),
        (2, 3, "user02_led.aedat"),
        (3, 3, "user24_natural.aedat"),
    ]
    assert summary.samples == {"train": 5, "test": 2} and summary.skipped == []
    train = load_events_npz(summary.outputs["train"])
    want = [expected_gesture(a, s, e) for _, s, e in LABELS_A]
    want += [expected_gesture(b, s, e) for _, s, e in LABELS_B]
    assert len(train.samples) == len(want)
    for got, ref in zip(train.samples, want, strict=True):
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(train.labels, [0, 4, 10, 2, 1])  # 0-based classes
    test = load_events_npz(summary.outputs["test"])
    for got, (_, s, e) in zip(test.samples, LABELS_B, strict=True):
        np.testing.assert_array_equal(got, expected_gesture(c, s, e, max_ms=1800))
    assert test.samples[0][:, 0].max() <= 1800 < (LABELS_B[0][2] - LABELS_B[0][1]) // 1000
    assert summary.events["train"] == sum(len(s) for s in want)


def test_prepare_gesture_skip_or_refuse_corrupt(tmp_path):
    make_gesture_folder(tmp_path / "raw", corrupt_b=True)
    summary = prepare_gesture(tmp_path / "raw", tmp_path / "out", on_error="skip")
    assert summary.samples["train"] == 3
    assert [name for name, _ in summary.skipped] == ["user02_led.aedat"]
    assert "truncated" in summary.skipped[0][1]
    with pytest.raises(QsnnError, match=r"user02_led\.aedat: truncated"):
        prepare_gesture(tmp_path / "raw", tmp_path / "out2", on_error="refuse")
    with pytest.raises(QsnnError, match="on_error"):
        prepare_gesture(tmp_path / "raw", tmp_path / "out2", on_error="ignore")


def test_prepare_gesture_wrong_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(QsnnError, match=r"trials_to_train\.txt: trial list not found"):
        prepare_gesture(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(QsnnError, match="folder not found"):
        prepare_gesture(tmp_path / "missing", tmp_path / "out")


def test_gesture_label_past_the_end(tmp_path):
    folder = tmp_path / "raw"
    make_gesture_folder(folder)
    write_gesture_recording(folder, "user24_natural", 12, [(3, 1_100_000, 9_000_000)])
    with pytest.raises(QsnnError, match=r"user24_natural_labels\.csv: line 2.*outside"):
        prepare_gesture(folder, tmp_path / "out", on_error="refuse")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("label,start,end\n1,2,3\n", "first line"),
        ("class,startTime_usec,endTime_usec\n12,5,9\n", "class 12"),
        ("class,startTime_usec,endTime_usec\n1,9,5\n", "not before"),
        ("class,startTime_usec,endTime_usec\n1,x,5\n", "three integers"),
        ("class,startTime_usec,endTime_usec\n", "no labelled"),
    ],
)
def test_bad_label_files(tmp_path, text, match):
    path = tmp_path / "r_labels.csv"
    path.write_text(text)
    with pytest.raises(QsnnError, match=match):
        read_gesture_labels(path)


# ---------------------------------------------------------------- AEDAT 2.0 / poker


def test_aedat2_decodes_every_event(tmp_path):
    t, x, y, pol = random_events(3)
    path = tmp_path / "p.aedat"
    path.write_bytes(aedat2_bytes(t, x, y, pol, extra=[(0x8000, int(t[-1]) + 1)]))
    ev = read_aedat2(path)  # the bit-15 special event at the end is dropped
    for got, want in zip(ev, (t, x, y, pol), strict=True):
        np.testing.assert_array_equal(got, want)


def test_aedat2_timestamp_wrap(tmp_path):
    t, x, y, pol = random_events(4, t0=(1 << 32) - 1_000_000, span_us=3_000_000)
    path = tmp_path / "wrap.aedat"
    path.write_bytes(aedat2_bytes(t, x, y, pol))
    np.testing.assert_array_equal(read_aedat2(path).t_us, t)


def test_aedat2_corrupt_files(tmp_path):
    t, x, y, pol = random_events(5)
    good = aedat2_bytes(t, x, y, pol)
    cases = [
        (good[:-3], "truncated"),
        (good[len(AEDAT2_HEADER) :], "header"),
        (AEDAT3_HEADER, "AEDAT 3"),
        (aedat2_bytes(t, x, y, pol, extra=[(0x10000, int(t[-1]))]), "not a DVS128"),
        (aedat2_bytes(t, x, y, pol, extra=[(0, int(t[-1]) - 10)]), "backwards"),
    ]
    for data, match in cases:
        path = tmp_path / "bad.aedat"
        path.write_bytes(data)
        with pytest.raises(QsnnError, match=match):
            read_aedat2(path)


def make_poker_folder(folder, span_us=2_200_000):
    folder.mkdir()
    recordings = {}
    for k, suit in enumerate(SUITS):
        events = random_events(20 + k, n=400, t0=5_000 + 777 * k, span_us=span_us)
        (folder / f"RetinaTeresa2-{suit}_long.aedat").write_bytes(aedat2_bytes(*events))
        recordings[suit] = events
    return recordings


def expected_windows(events, window_ms, nb):
    t, x, y, pol = events
    t_ms = (t - t[0]) // 1000
    out = []
    for k in range(nb):
        sel = (t_ms >= k * window_ms) & (t_ms < (k + 1) * window_ms)
        rows = np.stack([t_ms[sel] - k * window_ms, x[sel], y[sel], pol[sel]], axis=1)
        out.append(rows.astype(np.uint32))
    return out


def test_prepare_poker_windows_event_by_event(tmp_path):
    recs = make_poker_folder(tmp_path / "raw")
    summary = prepare_poker(
        tmp_path / "raw", tmp_path / "out", window_ms=500, duration_ms=2000, test_fraction=0.0
    )
    assert summary.samples == {"train": 16, "test": 0}
    train = load_events_npz(summary.outputs["train"])
    np.testing.assert_array_equal(train.labels, np.repeat([0, 1, 2, 3], 4))
    want = [w for suit in SUITS for w in expected_windows(recs[suit], 500, 4)]
    for got, ref in zip(train.samples, want, strict=True):
        np.testing.assert_array_equal(got, ref)


def test_prepare_poker_split_and_short_recording(tmp_path):
    make_poker_folder(tmp_path / "raw")
    summary = prepare_poker(tmp_path / "raw", tmp_path / "out", window_ms=500, test_fraction=0.25)
    # The recordings last 2.2 s < duration_ms: only their 4 complete windows are cut.
    assert summary.per_recording == {f"RetinaTeresa2-{s}_long.aedat": 4 for s in SUITS}
    assert summary.samples == {"train": 12, "test": 4}
    test = load_events_npz(summary.outputs["test"])
    assert sorted(test.labels.tolist()) == [0, 1, 2, 3]
    again = prepare_poker(tmp_path / "raw", tmp_path / "o2", window_ms=500, test_fraction=0.25)
    np.testing.assert_array_equal(load_events_npz(again.outputs["test"]).labels, test.labels)


def test_prepare_poker_errors(tmp_path):
    make_poker_folder(tmp_path / "raw")
    (tmp_path / "raw" / "RetinaTeresa2-heart_long.aedat").write_bytes(AEDAT2_HEADER + b"\0" * 13)
    summary = prepare_poker(tmp_path / "raw", tmp_path / "out", duration_ms=2000)
    assert summary.skipped[0][0] == "RetinaTeresa2-heart_long.aedat"
    assert sorted(set(load_events_npz(summary.outputs["train"]).labels.tolist())) == [0, 1, 3]
    with pytest.raises(QsnnError, match=r"heart_long\.aedat: truncated"):
        prepare_poker(tmp_path / "raw", tmp_path / "out", on_error="refuse")
    (tmp_path / "raw" / "RetinaTeresa2-heart_long.aedat").unlink()
    with pytest.raises(QsnnError, match="no recordings for suit 'heart'"):
        prepare_poker(tmp_path / "raw", tmp_path / "out")


# ---------------------------------------------------------------- npz


def test_events_npz_round_trip_and_corrupt(tmp_path):
    samples = [
        np.array([[0, 1, 2, 1], [3, 127, 0, 0]], dtype=np.uint32),
        np.empty((0, 4), np.uint32),
    ]
    path = write_events_npz(tmp_path / "e.npz", EventSet(samples, np.array([3, 0]), (128, 128)))
    back = load_events_npz(path)
    assert back.sensor == (128, 128) and back.labels.tolist() == [3, 0]
    for got, ref in zip(back.samples, samples, strict=True):
        np.testing.assert_array_equal(got, ref)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(QsnnError, match="corrupt or truncated"):
        load_events_npz(path)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(QsnnError, match="missing t_ms"):
        load_events_npz(tmp_path / "other.npz")


def test_literal_bytes_decode(tmp_path):
    """One event written by hand, independent of the test writers: x=5, y=7, ON, t=1000 µs."""
    packet = bytes.fromhex("0100 0100 08000000 04000000 01000000 01000000 01000000 01000000")
    event = bytes.fromhex("1f000a00 e8030000")  # data 0x000A001F, ts 1000; overflow 1
    (tmp_path / "one3.aedat").write_bytes(b"#!AER-DAT3.1\r\n#!END-HEADER\r\n" + packet + event)
    ev = read_aedat3(tmp_path / "one3.aedat")
    assert [int(c[0]) for c in ev] == [(1 << 31) + 1000, 5, 7, 1]
    (tmp_path / "one2.aedat").write_bytes(b"#!AER-DAT2.0\r\n" + bytes.fromhex("0000070a000003e8"))
    ev = read_aedat2(tmp_path / "one2.aedat")
    assert [int(c[0]) for c in ev] == [1000, 5, 7, 1]


def test_a_failed_prepare_replaces_neither_output(tmp_path):
    """The train split reads, the test split does not: both files of the earlier run stay."""
    make_gesture_folder(tmp_path / "raw")
    first = prepare_gesture(tmp_path / "raw", tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert set(before) == {"gesture_train.npz", "gesture_test.npz"}
    (tmp_path / "raw" / "user01_fluorescent.aedat").write_bytes(
        (tmp_path / "raw" / "user02_led.aedat").read_bytes()  # another recording: new train data
    )
    (tmp_path / "raw" / "user24_natural.aedat").write_bytes(b"#!AER-DAT3.1\r\n")  # unreadable
    with pytest.raises(QsnnError, match="no test recording could be read"):
        prepare_gesture(tmp_path / "raw", tmp_path / "out", on_error="skip")
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert after == before and first.outputs["train"].is_file()
    # A prepare into a new folder that fails creates nothing.
    with pytest.raises(QsnnError):
        prepare_gesture(tmp_path / "raw", tmp_path / "new", on_error="skip")
    assert not (tmp_path / "new").exists()
