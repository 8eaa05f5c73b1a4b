"""An estimate's output folder: named by what the estimate depends on, refused when it holds
something else, and written whole (``io.staged_folder``), so that a rerun, a second
organization or two commands at once never mix or silently replace results."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .contract import Trace
from .digests import file_digest
from .memory.arch import Arch
from .result_folder import check_replaceable

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
        "trace": {name: file_digest(Path(trace.folder) / name) for name in TRACE_FILES},
        "ert": None if ert is None else file_digest(Path(ert)),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def default_folder(arch: Arch, trace: Trace, key: str, root: str = "reports") -> Path:
    """``reports/estimate/<trace folder>-<arch>-<key>``."""
    return Path(root) / "estimate" / f"{Path(trace.folder).name}-{arch.name}-{key}"


def check_folder(folder: Path, key: str, overwrite: bool) -> None:
    """``folder`` may take this estimate (:func:`~qsnn_mem.result_folder.check_replaceable`)."""
    differs = "another organization, override, trace or ERT"
    check_replaceable(folder, "estimate", FILES + EXPORTS, key=key, record="run.json",
                      differs=differs, overwrite=overwrite)  # fmt: skip
