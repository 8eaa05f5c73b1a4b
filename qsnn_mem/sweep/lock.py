"""One sweep at a time per folder: a lock file, and the lease its workers check.

The sweep that runs into a folder holds ``fcntl.flock`` on ``FOLDER/.sweep.lock``, an open
file: the operating system drops the lock when the holder ends, however it ends (``kill -9``
included), so a lock never outlives its sweep. The file names the holder (pid, host, start
time, command) for the message a second sweep refuses with, and a random token. A worker in
another process (a pool worker, a Dask worker) holds a *lease*: the lock's path and token. The
lease is valid while the lock is held and the file still carries that token; a worker whose
lease is gone exits at once (:func:`watch_lease`), so no orphan of a killed sweep writes into
the folder, nor marks a point done, beside the next sweep.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import signal
import socket
import threading
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import QsnnError
from ..io import ensure_dir

LOCK = ".sweep.lock"
# flock errors that mean "this file system cannot lock", not "someone holds the lock".
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@dataclass(frozen=True)
class Lease:
    """What a worker needs to tell whether its sweep still owns the folder (plain data)."""

    path: str
    token: str
    pid: int
    host: str


class SweepLock:
    """The lock of one sweep folder, held from :meth:`acquire` to :meth:`release`.

    :meth:`acquire` writes only the lock file (and the folder if it is new); :meth:`abandon`
    undoes exactly that, so a sweep refused after taking the lock leaves the folder as it was.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.fd: int | None = None
        self.token = uuid.uuid4().hex
        self.locked = False  # False where the file system has no locks (warned)
        self._made_folder = False
        self._made_file = False
        self._old: bytes = b""

    def acquire(self, command: str = "") -> SweepLock:
        """Take the lock now or raise a QsnnError naming its holder (never waits)."""
        self._make_folder()
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.locked = True
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                self._undo_folder()
                raise QsnnError(_held_message(self.folder, holder)) from None
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    os.close(fd)
                    self._undo_folder()
                    raise QsnnError(f"{self.path}: cannot lock ({exc.strerror})") from None
                warnings.warn(
                    f"{self.path}: this file system has no file locks ({exc.strerror}); do not "
                    "run two sweeps into this folder at once",
                    stacklevel=2,
                )
            # The file may have been unlinked by a holder releasing it between our open and
            # our flock: then the lock is on a dead inode, and we must try again.
            try:
                mine, now = os.fstat(fd), os.stat(self.path)
                same = (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
            self._made_file = False
        self.fd = fd
        self._old = _read_bytes(fd)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "token": self.token,
        }
        data = (json.dumps(info) + "\n").encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        return self

    def lease(self) -> Lease:
        return Lease(str(self.path.resolve()), self.token, os.getpid(), socket.gethostname())

    def release(self) -> None:
        """The sweep is over: remove the lock file (a killed sweep leaves it, unlocked)."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._close()

    def abandon(self) -> None:
        """The sweep was refused: put the lock file (and folder) back as they were."""
        if self.fd is None:
            return
        if self._made_file:
            with contextlib.suppress(OSError):
                self.path.unlink()
        else:
            with contextlib.suppress(OSError):
                os.pwrite(self.fd, self._old, 0)
                os.ftruncate(self.fd, len(self._old))
        self._close()
        self._undo_folder()

    def __enter__(self) -> SweepLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _make_folder(self) -> None:
        if not self.folder.exists():
            ensure_dir(self.folder)
            self._made_folder = True
        elif not self.folder.is_dir():
            raise QsnnError(f"{self.folder}: exists and is not a folder")

    def _undo_folder(self) -> None:
        if self._made_folder:
            with contextlib.suppress(OSError):
                self.folder.rmdir()  # only if still empty

    def _open(self) -> int:
        error: OSError | None = None
        for _ in range(3):  # an existing file may be released and removed between two tries
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
                self._made_file = True
                return fd
            except FileExistsError:
                pass
            except OSError as exc:
                error = exc
                break
            try:
                return os.open(self.path, os.O_RDWR)
            except FileNotFoundError as exc:
                error = exc
            except OSError as exc:
                error = exc
                break
        self._undo_folder()
        why = error.strerror if error is not None else "unknown error"
        raise QsnnError(f"{self.path}: cannot open the sweep lock ({why})")

    def _close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # drops the flock


def _read_bytes(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _read(fd: int) -> dict[str, Any]:
    try:
        info = json.loads(_read_bytes(fd).decode())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def _held_message(folder: Path, holder: dict[str, Any]) -> str:
    if holder.get("pid"):
        who = (
            f"pid {holder['pid']} on {holder.get('host', '?')}, started "
            f"{holder.get('started', '?')}, command: {holder.get('command') or '?'}"
        )
    else:
        who = "a sweep that is just starting"
    return (
        f"{folder}: another sweep is running into this folder ({who}); wait for it to end, "
        "stop it, or give this sweep another --out"
    )


def lease_held(lease: Lease) -> bool:
    """Whether the sweep that handed out ``lease`` still holds its folder's lock. Called from
    other processes only (never the holder: on NFS, closing a second descriptor of a locked
    file in the holder would drop its lock)."""
    try:
        fd = os.open(lease.path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # released: the sweep is over
    except OSError:
        return True  # cannot tell: keep going
    try:
        if _read(fd).get("token") != lease.token:
            return False  # another sweep holds the folder now
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # held (by the token's writer: the token is ours)
        except OSError:
            return True  # no locks here: the token is all we have
        return False  # nobody holds it: the holder died
    finally:
        os.close(fd)  # drops the shared lock if we took it


def in_holder(lease: Lease) -> bool:
    return lease.pid == os.getpid() and lease.host == socket.gethostname()


def watch_lease(lease: Lease, every_s: float = 1.0) -> threading.Event:
    """A daemon thread that ends this process at once (``os._exit``) when ``lease`` is lost;
    set the returned event to stop watching."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            if not lease_held(lease):
                os._exit(75)

    threading.Thread(target=loop, name="qsnn-lease", daemon=True).start()
    return stop


def die_with_parent(parent: int) -> None:
    """Pool worker initializer: the worker gets SIGKILL when its parent ends (Linux), and ends
    at once if the parent is already gone. Elsewhere the lease watcher does the job."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(75)
