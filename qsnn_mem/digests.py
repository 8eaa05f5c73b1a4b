"""Content digests of the files a run depends on (weights, data files, NIR graphs)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def weights_digest(path: str | os.PathLike) -> str | None:
    """SHA-256 of a weights file (a run folder's weights.npz); None if it cannot be read (the
    loader then says why)."""
    source = Path(path)
    file = source / "weights.npz" if source.is_dir() else source
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """SHA-256 of a data file, remembered per (path, size, mtime) within the process: a sweep
    asks for the key of every point, and recordings can be large."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = weights_digest(path) or ""
    return _DIGESTS[key]
