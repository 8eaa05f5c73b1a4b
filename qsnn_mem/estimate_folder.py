"""An estimate's output folder: named by what the estimate depends on, refused when it holds
something else, and written whole (``io.staged_folder``), so that a rerun, a second
organization or two commands at once never mix or silently replace results."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .contract import Trace
from .contract.read import read_json
from .digests import weights_digest
from .errors import QsnnError
from .memory.arch import Arch

FILES = ("energy.csv", "area.csv", "run.json", "stages.csv", "contributors.csv", "arrays.csv")
FILES += ("summary.json",)
EXPORTS = ("accelergy",)  # subfolders an export may add
TRACE_FILES = ("trace.json", "accesses.csv", "tensors.csv")
HASH_CHARS = 8


def estimate_key(arch: Arch, trace: Trace, ert: str | None = None) -> str:
    """8 hex digits of the SHA-256 of the organization (every field), the trace's files and
    the user's ERT file: equal keys, equal results."""
    parts = {
        "arch": arch.model_dump(mode="json"),
        "trace": {name: weights_digest(Path(trace.folder) / name) for name in TRACE_FILES},
        "ert": None if ert is None else weights_digest(ert),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def default_folder(arch: Arch, trace: Trace, key: str, root: str = "reports") -> Path:
    """``reports/estimate/<trace folder>-<arch>-<key>``."""
    return Path(root) / "estimate" / f"{Path(trace.folder).name}-{arch.name}-{key}"


def check_folder(folder: Path, key: str, overwrite: bool) -> None:
    """``folder`` may take this estimate: it is absent or empty, or holds an estimate of the same
    key (the same result again), or of another one with ``overwrite``. Anything else in it (a
    file an estimate does not write) is refused: replacing the folder would remove it."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise QsnnError(f"--out {folder}: not a folder")
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in FILES + EXPORTS)
    if foreign:
        raise QsnnError(
            f"--out {folder} holds files an estimate does not write ({', '.join(foreign[:5])}): "
            "give an empty or new folder (an estimate replaces its folder whole)"
        )
    held = _held_key(folder)
    if held in (key, "empty") or overwrite:
        return
    raise QsnnError(
        f"--out {folder} holds another estimate (key {held}; this one is {key}: another "
        "organization, override, trace or ERT); add --overwrite to replace it, or give "
        "another --out"
    )


def _held_key(folder: Path) -> str:
    if not any(folder.iterdir()):
        return "empty"
    run = folder / "run.json"
    info: Any = read_json(run) if run.is_file() else {}
    return str(info.get("estimate_key", "not recorded")) if isinstance(info, dict) else "?"
