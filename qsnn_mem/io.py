"""Atomic file output: readers never see a half-written file; a failed write keeps the old one.

A write the system refuses (a full disk, a quota, a read-only file system, permissions) is a
:class:`QsnnError` naming the file and the reason, and leaves no temporary file behind."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import QsnnError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    ensure_dir(target.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from others
        os.replace(tmp, target)
    except OSError as exc:  # ENOSPC, EDQUOT, EROFS, EACCES, EIO ... from the block or the move
        raise cannot_write(target, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def cannot_write(target: Path, exc: OSError) -> QsnnError:
    """``cannot write reports/x/run.json: No space left on device``: the file and the reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return QsnnError(f"cannot write {target}: {reason} (any earlier version of it is unchanged)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_csv(path: str | os.PathLike, frame: Any) -> None:
    """Write a pandas DataFrame as CSV without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) or raise a QsnnError saying why it cannot be used."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QsnnError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise QsnnError(f"output folder {folder} is not writable")
    return folder


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh folder beside ``path``; when the block succeeds it takes the place of
    ``path`` whole (an older folder there is moved aside, then removed). Two writers at once
    each leave a complete folder, the last one winning: files of two writes are never mixed,
    and a failed write leaves the older folder as it was."""
    target = Path(path)
    ensure_dir(target.parent)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
    except OSError as exc:
        raise cannot_write(target, exc) from None
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_umask())
        for _ in range(20):  # another writer may put its folder in place between our moves
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            try:
                with contextlib.suppress(FileNotFoundError):  # gone: another writer moved it
                    os.replace(target, aside / "old")
                os.replace(stage, target)
                break
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):  # a real reason, not a race
                    raise
            finally:
                shutil.rmtree(aside, ignore_errors=True)
        else:
            raise QsnnError(f"cannot put {target} in place: other writers keep replacing it")
    except OSError as exc:
        raise cannot_write(target, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
