"""Ctrl-C and SIGTERM taken between training steps, never inside a compiled kernel.

Python runs a signal handler in the main thread at the next point where it checks for signals.
That point may be inside a numba kernel's call (the dispatcher then reports ``SystemError: ...
returned a result with an exception set`` instead of a ``KeyboardInterrupt``) or halfway through
a torch step. So, while a run trains inside :func:`deferred`, the first SIGINT or SIGTERM only
sets a flag; the training loops call :func:`check` between steps (smile: epochs, DECOLLE:
batches), which raises :class:`Requested` (a ``KeyboardInterrupt``) there, so they stop where
they stood and return a result marked ``interrupted``, which the run writer writes as for a
finished run. The first signal also puts the previous handlers back, so that a second Ctrl-C
aborts at once (a ``KeyboardInterrupt`` wherever it lands).

Handlers can only be set in the main thread: elsewhere :func:`deferred` changes nothing and
:func:`requested` is always false, so the library can train from other threads. A sweep's
worker process runs its point in its own main thread, so it stops the same way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Requested(KeyboardInterrupt):
    """A deferred SIGINT or SIGTERM, raised by :func:`check` at a step boundary."""


class _Scope:
    """The handlers one :func:`deferred` replaced, and whether a signal came."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.saved: dict[int, Any] = {}

    def install(self, signals: tuple[int, ...]) -> None:
        for signum in signals:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue  # ignored (nohup, a background job): stays ignored
            previous = signal.signal(signum, self.handle)
            # None: a handler set outside Python; the closest we can put back is the default.
            self.saved[signum] = signal.SIG_DFL if previous is None else previous

    def handle(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        self.restore()  # the next signal acts as if we had never been here

    def restore(self) -> None:
        while self.saved:
            signum, previous = self.saved.popitem()
            signal.signal(signum, previous)


_active: _Scope | None = None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def deferred(signals: tuple[int, ...] = SIGNALS) -> Iterator[None]:
    """While inside, the first of ``signals`` sets :func:`requested` instead of interrupting;
    the previous handlers are back after it, and on leaving. Nested uses share the outer one's
    flag (the inner ones change nothing); outside the main thread nothing changes."""
    global _active
    if _active is not None or not _main_thread():
        yield
        return
    scope = _Scope()
    try:
        scope.install(signals)
        _active = scope
        yield
    finally:
        _active = None
        scope.restore()


def requested() -> bool:
    """True once a signal came while in the main thread's :func:`deferred`: stop at the next
    step boundary."""
    scope = _active
    return scope is not None and scope.signum is not None and _main_thread()


def check() -> None:
    """Raise :class:`Requested` if a signal came (:func:`requested`): call between steps."""
    if requested():
        raise Requested
