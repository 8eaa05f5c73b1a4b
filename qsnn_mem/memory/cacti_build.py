"""Build the real CACTI 7 from the hwcomponents-cacti wheel's sources into the user cache.

CACTI's sources and technology files ship inside the ``hwcomponents-cacti`` wheel (the wheel's own
binary needs a newer glibc than ours, its Python package needs Python 3.12; we use neither). The
build downloads that wheel with pip, unpacks it into the user cache folder and runs ``make opt``.
Running the binary is :mod:`qsnn_mem.memory.cacti_run`'s job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import QsnnError
from ..io import ensure_dir

WHEEL_NAME = "hwcomponents-cacti"
WHEEL_VERSION = "1.0.40"
CACTI_ID = f"cacti7-{WHEEL_NAME}-{WHEEL_VERSION}"


def cache_root() -> Path:
    """``$QSNN_MEM_CACHE`` or ``~/.cache/qsnn-mem``: where CACTI is built and results cached."""
    env = os.environ.get("QSNN_MEM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qsnn-mem"


def cacti_dir() -> Path:
    return cache_root() / CACTI_ID


def binary_path() -> Path:
    return cacti_dir() / "cacti"


def is_built() -> bool:
    exe = binary_path()
    return exe.is_file() and os.access(exe, os.X_OK)


def build(wheel: Path | None = None, force: bool = False, jobs: int = 2) -> Path:
    """Build CACTI 7 into the cache folder and return the binary's path.

    ``wheel`` is an already downloaded ``hwcomponents_cacti-*.whl``; without it pip downloads it.
    """
    if is_built() and not force:
        return binary_path()
    for tool in ("make", "g++"):
        if shutil.which(tool) is None:
            raise QsnnError(f"cannot build CACTI: '{tool}' not found (install a C++ toolchain)")
    root = ensure_dir(cache_root())
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        wheel = wheel or _download_wheel(Path(tmp))
        if not Path(wheel).is_file():
            raise QsnnError(f"--wheel {wheel}: file not found")
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith("hwcomponents_cacti/cacti/")]
            if not members:
                raise QsnnError(
                    f"{wheel}: no CACTI sources inside (expected hwcomponents_cacti/cacti/)"
                )
            archive.extractall(tmp, members)
        src = Path(tmp) / "hwcomponents_cacti" / "cacti"
        (src / "cacti").unlink(missing_ok=True)  # the shipped binary needs glibc 2.38
        shutil.rmtree(src / "obj_opt", ignore_errors=True)
        done = subprocess.run(
            ["make", f"-j{jobs}", "opt"], cwd=src, capture_output=True, text=True, check=False
        )
        built = src / "obj_opt" / "cacti"
        if done.returncode != 0 or not built.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise QsnnError("building CACTI failed: " + " | ".join(tail))
        target = cacti_dir()
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(src), target)
        shutil.copy2(target / "obj_opt" / "cacti", binary_path())
        binary_path().chmod(0o755)
    return binary_path()


def _download_wheel(folder: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--python-version",
        "3.12",
        f"{WHEEL_NAME}=={WHEEL_VERSION}",
        "-d",
        str(folder),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("hwcomponents_cacti-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise QsnnError(
            f"cannot download {WHEEL_NAME}=={WHEEL_VERSION} with pip: {last[0]} "
            "(offline? pass --wheel PATH to a downloaded wheel)"
        )
    return wheels[0]
