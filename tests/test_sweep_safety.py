"""Sweep folders are safe: one sweep at a time (a lock naming its holder), no orphan worker of a
killed sweep writes on, a point is done only for its exact options, and a refused sweep writes
nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qsnn_mem.cli import main
from qsnn_mem.sweep import MARKER
from qsnn_mem.sweep.lock import LOCK, SweepLock, lease_held

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "workloads" / "smile_quick.yaml"
TINY = ["nb_epochs=2", "nb_hidden=20", "nb_steps=60", "nb_inputs=60", "nb_outputs=30", "device=cpu"]


def sweep_args(out: Path, *extra: str, sets: list[str] = TINY) -> list[str]:
    return ["sweep", str(QUICK), "--grid", "weight=2", *(x for s in sets for x in ("--set", s)),
            "--out", str(out), "-q", *extra]  # fmt: skip


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def event_sweep(tmp_path_factory) -> Path:
    """A finished one-point event-mode sweep (copy it before changing it)."""
    out = tmp_path_factory.mktemp("event") / "sw"
    assert main(sweep_args(out)) == 0
    return out


def test_a_second_sweep_is_refused_naming_the_holder_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(sweep_args(out)) == 0
    assert not (out / LOCK).exists()  # a finished sweep leaves no lock behind
    holder = SweepLock(out).acquire("qsnn-mem sweep holder.yaml -j 4")
    try:
        before = snapshot(out)
        capsys.readouterr()
        assert main(sweep_args(out, "--trials", "2")) == 2
        err = one_line(capsys.readouterr().err)
        assert "another sweep is running into this folder" in err
        assert f"pid {os.getpid()}" in err and "command: qsnn-mem sweep holder.yaml -j 4" in err
        assert "started 20" in err
        assert snapshot(out) == before
    finally:
        holder.release()
    assert main(sweep_args(out, "--trials", "2")) == 0  # free again


def test_a_lease_is_lost_when_its_sweep_dies_or_another_takes_the_folder(tmp_path):
    first = SweepLock(tmp_path).acquire("one")
    lease = first.lease()
    assert lease_held(lease)
    first._close()  # as kill -9 would: the file stays, the lock goes
    assert (tmp_path / LOCK).exists() and not lease_held(lease)
    second = SweepLock(tmp_path).acquire("two")
    assert not lease_held(lease) and lease_held(second.lease())
    second.release()
    assert not (tmp_path / LOCK).exists() and not lease_held(second.lease())


def test_dense_mode_after_an_event_sweep_is_refused_and_writes_nothing(event_sweep, capsys):
    before = snapshot(event_sweep)
    capsys.readouterr()
    assert main(sweep_args(event_sweep, "--mode", "dense")) == 2
    err = one_line(capsys.readouterr().err)
    assert "1 of 1 points are done under other options" in err
    assert "w2a8g8e8_seed0: mode: 'event' != 'dense'" in err
    assert snapshot(event_sweep) == before
    # Another configuration is refused the same way, naming the field.
    assert main(sweep_args(event_sweep, sets=[*TINY, "lr=0.5"])) == 2
    assert "lr: 1.0 != 0.5" in one_line(capsys.readouterr().err)
    assert snapshot(event_sweep) == before
    # The same options: everything is done.
    assert main(sweep_args(event_sweep)) == 0
    assert "1 already done, 0 to run" in one_line(capsys.readouterr().out)


def test_the_marker_records_the_key_and_old_markers_still_count(event_sweep, tmp_path, capsys):
    out = tmp_path / "sw"
    for name, data in snapshot(event_sweep).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    marker = out / "w2a8g8e8_seed0" / MARKER
    info = json.loads(marker.read_text())
    assert len(info["key"]) == 64 and info["trace_mode"] == "event"
    del info["key"]  # a marker written before keys: its key is that of what it records
    marker.write_text(json.dumps(info))
    capsys.readouterr()
    assert main(sweep_args(out)) == 0
    assert "1 already done" in one_line(capsys.readouterr().out)
    assert main(sweep_args(out, "--mode", "dense")) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "dask"], "the dask executor needs dask distributed"),
        (["--grid", "state=6,40"], "axis 'state' value 40 is not allowed"),
    ],
)
def test_a_refused_sweep_leaves_the_folder_byte_identical(
    event_sweep, capsys, monkeypatch, args, message
):
    monkeypatch.setattr("qsnn_mem.sweep.executors.have_dask", lambda: False)
    before = snapshot(event_sweep)
    assert main(sweep_args(event_sweep, *args)) == 2
    assert message in one_line(capsys.readouterr().err)
    assert snapshot(event_sweep) == before


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _state(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in folder.rglob("*"):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_kill_9_of_a_parallel_sweep_leaves_no_worker_writing_and_resumes(tmp_path):
    out = tmp_path / "sw"
    sets = [*TINY, "nb_epochs=400", "checkpoint_every=1"]  # a checkpoint every few ms
    cli = "import sys; from qsnn_mem.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", cli, *sweep_args(out, "-j", "2", sets=sets), "--grid", "state=6,8"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("*/metrics.csv")):  # points are running and writing
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no point started in time"
            time.sleep(0.02)
        children = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the sweep only, not its process group
        proc.wait()
        deadline = time.monotonic() + 10
        while [c for c in children if _alive(c)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [c for c in children if _alive(c)], "workers outlived the sweep"
        before = _state(out)
        time.sleep(1.5)
        assert _state(out) == before, "files still change after the sweep was killed"
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left (nothing, if passed)
            os.killpg(proc.pid, signal.SIGKILL)
    assert not list(out.glob(f"*/{MARKER}"))

    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 ran, 0 skipped" in result.stdout
    assert len(list(out.glob(f"*/{MARKER}"))) == 2 and not (out / LOCK).exists()
