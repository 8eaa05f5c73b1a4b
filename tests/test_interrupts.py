"""Ctrl-C and SIGTERM are taken between training steps: never a SystemError from inside a
compiled kernel; the run folder is written, marked interrupted, and the command exits 130."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from qsnn_mem import interrupts
from qsnn_mem.tasks.decolle.train import train_decolle
from qsnn_mem.tasks.smile.train import train
from qsnn_mem.workload import load_workload

DECOLLE_SMALL = ["checkpoint_every=1", "generated.train_samples=16", "generated.test_samples=8",
                 "validation_fraction=0"]  # fmt: skip
# As from a terminal: SIGINT raises KeyboardInterrupt even where the test runner ignores it.
CLI = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from qsnn_mem.cli import main; sys.exit(main())"
)


# The context manager.


def test_first_signal_sets_the_flag_and_restores_the_handlers():
    calls = []
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    outer_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_int = signal.getsignal(signal.SIGINT)
    try:
        with interrupts.deferred():
            assert signal.getsignal(signal.SIGINT) is not previous_int
            assert not interrupts.requested()
            interrupts.check()  # nothing came: no raise
            signal.raise_signal(signal.SIGTERM)
            assert interrupts.requested() and calls == []
            with pytest.raises(interrupts.Requested) as caught:
                interrupts.check()
            assert isinstance(caught.value, KeyboardInterrupt)
            # Both handlers are back after the first signal: a second one acts at once.
            assert signal.getsignal(signal.SIGINT) is previous_int
            signal.raise_signal(signal.SIGTERM)
            assert calls == [signal.SIGTERM]
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGINT)
        assert not interrupts.requested()
        assert signal.getsignal(signal.SIGINT) is previous_int
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, outer_int)


def test_ignored_signals_stay_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with interrupts.deferred():
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            signal.raise_signal(signal.SIGTERM)
            assert not interrupts.requested()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_handlers_restored_on_leaving_and_nesting_shares_the_flag():
    outer_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    with interrupts.deferred():
        inside = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
        with interrupts.deferred():  # nested: changes nothing
            assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == inside
            signal.raise_signal(signal.SIGINT)
        assert interrupts.requested()  # the outer scope saw the inner one's signal
    assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == before
    with pytest.raises(RuntimeError), interrupts.deferred():
        raise RuntimeError  # restored on an exception too
    assert {s: signal.getsignal(s) for s in interrupts.SIGNALS} == before
    assert not interrupts.requested()
    signal.signal(signal.SIGINT, outer_int)


def test_other_threads_leave_the_handlers_alone():
    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    seen = []

    def work():
        with interrupts.deferred():
            seen.append({s: signal.getsignal(s) for s in interrupts.SIGNALS})
            seen.append(interrupts.requested())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [before, False]


# Training in this process, a signal at a random moment (mostly inside a kernel or torch op).


class Stray(Exception):
    """A SIGINT that reached the handler in place before training: it was not deferred."""


def _stray(signum, frame):
    raise Stray


def _interrupted_run(run: Callable, started: threading.Event, delay_s: float):
    """``run()`` here while another thread sends SIGINT ``delay_s`` after ``started``. The
    handler before training raises :class:`Stray` (a KeyboardInterrupt would stop pytest): it
    fails the test, as a SystemError from a kernel does, unless training defers the signal."""
    previous = signal.signal(signal.SIGINT, _stray)

    def send():
        if started.wait(60):
            time.sleep(delay_s)
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send)
    thread.start()
    try:
        result = run()
    finally:
        started.set()
        thread.join()
        after = signal.signal(signal.SIGINT, previous)
    assert after is _stray  # training put it back
    return result


def test_smile_training_stops_between_epochs():
    cfg = load_workload("workloads/smile_quick.yaml", ["nb_epochs=100000"])
    rng = random.Random(12)
    for _ in range(10):
        started = threading.Event()

        def hook(result, res, started=started):
            if len(result.metrics) == 2:
                started.set()

        result = _interrupted_run(
            lambda hook=hook: train(cfg, on_epoch=hook), started, rng.uniform(0, 0.03)
        )
        assert result.interrupted and 2 <= len(result.metrics) < 100
        assert result.last is not None and len(result.metrics) == result.metrics[-1]["epoch"] + 1


def test_decolle_training_stops_between_batches():
    cfg = load_workload("workloads/decolle_quick.yaml", ["epochs=1000", *DECOLLE_SMALL])
    rng = random.Random(3)
    for _ in range(3):
        started = threading.Event()

        def step(*_args, started=started):
            started.set()

        result = _interrupted_run(
            lambda step=step: train_decolle(cfg, on_step=step), started, rng.uniform(0, 0.5)
        )
        assert result.interrupted and len(result.metrics) < 3


# The CLI: a run folder marked interrupted, exit 130, no traceback.


def _cli_interrupt(tmp_path: Path, args: list[str], signum: int, delay_s: float) -> Path:
    out = tmp_path / f"run{random.random():.6f}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args, "-q", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out / "metrics.csv").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.01)
    time.sleep(delay_s)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert "SystemError" not in stderr and "Traceback" not in stderr, stderr
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    assert "interrupted after" in stdout
    info = json.loads((out / "run.json").read_text())
    assert info["interrupted"] is True
    assert info["epochs_done"] == len(pd.read_csv(out / "metrics.csv"))
    assert (out / "weights.npz").is_file() and (out / "trace.json").is_file()
    return out


SMILE_CLI = ["trace", "workloads/smile_quick.yaml", "--set", "nb_epochs=2000"]
DECOLLE_CLI = ["trace", "workloads/decolle_quick.yaml", "--set", "epochs=200"]
for _item in DECOLLE_SMALL:
    DECOLLE_CLI += ["--set", _item]


def test_cli_trace_interrupted(tmp_path):
    """One run of each task; the many signals inside kernels are sent in this process above."""
    rng = random.Random(5)
    for args, signum, epochs in (
        (SMILE_CLI, signal.SIGINT, 2000),
        (SMILE_CLI, signal.SIGTERM, 2000),
        (DECOLLE_CLI, signal.SIGINT, 200),
    ):
        out = _cli_interrupt(tmp_path, args, signum, rng.uniform(0, 0.3))
        assert len(pd.read_csv(out / "metrics.csv")) < epochs


@pytest.mark.slow
def test_cli_trace_interrupted_many_times(tmp_path):
    rng = random.Random(7)
    for args, epochs in [(SMILE_CLI, 2000)] * 5 + [(DECOLLE_CLI, 200)] * 2:
        out = _cli_interrupt(tmp_path, args, signal.SIGINT, rng.uniform(0, 0.6))
        assert len(pd.read_csv(out / "metrics.csv")) < epochs
