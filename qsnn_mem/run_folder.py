"""What every run folder shares, whatever its task: where it goes by default, and the provenance
its run.json records (source commit, package versions). A run is one training (and, when traced,
its trace) of one workload into one folder; each task writes its own files there
(``tasks/<name>/run.py``)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__, tasks


def default_run_dir(cfg: Any, root: str | os.PathLike = "reports") -> Path:
    """``reports/<workload>/<precision tag>_seed<seed>``."""
    tag = tasks.get(cfg.task).precision_tag(cfg)
    return Path(root) / cfg.name / f"{tag}_seed{cfg.seed}"


def git_commit() -> str | None:
    """Commit of the source tree (an editable install) or else of the working directory."""
    for where in (Path(__file__).resolve().parent, Path.cwd()):
        try:
            out = subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=where
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that compute a run's numbers (as installed)."""
    out = {"qsnn_mem": __version__, "python": platform.python_version()}
    for package in ("torch", "numpy", "numba", "pandas"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
