"""What every run folder shares, whatever its task: its key, where it goes by default, who may
write into it, and the provenance its run.json records. A run is one training (and, when traced,
its trace) of one workload into one folder; each task writes its own files there
(``tasks/<name>/run.py``).

A run folder is one consistent unit: the files of one run of one configuration. The run's key
(:class:`RunKey`: the validated configuration, the trace mode and the phase) is hashed into
``config_hash``, recorded in run.json and trace.json and carried by the default folder name.
:func:`claim` refuses a folder that holds a run worth keeping (a finished run of any
configuration, or an unfinished one of another) unless the caller asks to overwrite it, and
removes every file of the old run before the new one writes anything."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__, tasks
from .digests import file_digest, weights_digest
from .errors import QsnnError
from .io import ensure_dir

# The files a run (or a sweep point) writes, in the order an overwrite removes them: the mark
# of a complete trace first, the run's record last, so a half-removed folder never passes for
# a run or a trace.
RUN_FILES = ("trace.json", "neurobench.json", "accesses.csv", "tensors.csv", "raster.png")
RUN_FILES += ("loss.png", "metrics.csv", "weights.npz", "point.json", "run.json")
RESULTS = ("weights.npz", "metrics.csv", "trace.json")  # what makes a folder worth keeping
HASH_CHARS = 8


@dataclass(frozen=True)
class RunKey:
    """What a run's results depend on: the validated configuration (every field, defaults
    included), the content of the data files it names (a NIR graph, input and target rasters,
    recordings: a file changed under the same path is another run), the trace mode (None: not
    traced), the phase (``train``: training only; ``both``: training, then one traced
    inference; ``infer``: one traced inference with saved weights, whose content hash is part
    of the key), and the tag that names it for people."""

    tag: str  # precision tag and seed, e.g. w2a8g8e8_seed0
    config: dict[str, Any]
    trace_mode: str | None
    phase: str
    weights_sha256: str | None = None
    data_sha256: dict[str, str] = field(default_factory=dict)  # path field -> file digest

    @property
    def hash(self) -> str:
        """First 8 hex digits of the SHA-256 of the key as canonical JSON: stable across runs,
        machines and Python versions. A key without data files hashes as before they were
        part of it."""
        data = {k: v for k, v in asdict(self).items() if k != "tag"}  # the tag is derived
        if not data["data_sha256"]:
            del data["data_sha256"]
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]

    @property
    def folder_name(self) -> str:
        """``w2a8g8e8_seed0-1a2b3c4d`` (``..._seed0_infer-...`` for a traced inference)."""
        return f"{self.tag}{'_infer' if self.phase == 'infer' else ''}-{self.hash}"

    def record(self) -> dict[str, Any]:
        """The key's fields for run.json and trace.json."""
        out = {"config_hash": self.hash, "trace_mode": self.trace_mode, "phase": self.phase}
        weights = self.weights_sha256
        out |= {} if weights is None else {"weights_sha256": weights}
        return out | ({"data_sha256": self.data_sha256} if self.data_sha256 else {})


def run_key(
    cfg: Any,
    *,
    trace_mode: str | None = None,
    infer: bool = True,
    weights: str | os.PathLike | None = None,
) -> RunKey:
    """The key of a run of ``cfg``: untraced training (``trace_mode`` None), traced training
    followed by one inference if ``infer``, or (``weights`` given) one traced inference with
    the weights of an earlier run."""
    task = tasks.get(getattr(cfg, "task", tasks.DEFAULT))
    tag = f"{task.precision_tag(cfg)}_seed{cfg.seed}"
    phase = "both" if trace_mode is not None and infer else "train"
    phase = "infer" if weights is not None else phase
    digest = None if weights is None else weights_digest(weights)
    data = {}
    for name in task.path_fields:
        value = getattr(cfg, name, None)
        if isinstance(value, str) and value and Path(value).is_file():
            data[name] = file_digest(Path(value))
    return RunKey(tag, cfg.model_dump(mode="json"), trace_mode, phase, digest, data)


def default_run_dir(cfg: Any, key: RunKey, root: str | os.PathLike = "reports") -> Path:
    """``reports/<workload>/<precision tag>_seed<seed>-<config hash>``."""
    return Path(root) / cfg.name / key.folder_name


def claim(run_dir: str | os.PathLike, key: RunKey, *, overwrite: bool = False) -> Path:
    """Make ``run_dir`` ready for the run ``key``, before anything is trained or written.

    A folder without run files is used as it is (other files are left alone). A folder holding
    a run is refused with a message naming both configurations, unless ``overwrite``, when it
    holds: a finished run (of any configuration: a rerun never silently replaces a result), an
    unfinished one (interrupted, or killed) of another configuration, or run files that record
    no configuration (an older qsnn-mem). An unfinished run of the same configuration, or
    leftovers holding no result, are replaced. Whatever is replaced is removed first: every
    run file and their temporaries, so no file of the old run stays beside the new one."""
    folder = Path(run_dir)
    present = [f for f in RUN_FILES if (folder / f).exists()] if folder.is_dir() else []
    if present and not overwrite:
        _refuse_if_kept(folder, key, present)
    for name in present:
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    if folder.is_dir():
        for name in RUN_FILES:
            for tmp in folder.glob(f".{name}.*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
    return ensure_dir(folder)


@dataclass(frozen=True)
class _Held:
    """The run a folder holds, as its run.json (or, without one, its trace.json) records it."""

    hash: str | None
    tag: str = "?"
    config: dict[str, Any] = field(default_factory=dict)
    trace_mode: Any = None
    phase: Any = None
    status: Any = None
    what: str = "an unreadable run"  # "a finished run", "an interrupted run (12 epochs)", ...

    @property
    def finished(self) -> bool:
        return self.what.startswith("a finished")


def _refuse_if_kept(folder: Path, key: RunKey, present: list[str]) -> None:
    held = _held(folder)
    started_only = held is not None and held.hash is not None and held.status == "started"
    if not any(f in RESULTS for f in present) and (held is None or started_only):
        return  # nothing of value: a run that failed before its first checkpoint, or debris
    advice = "give another --out, or add --overwrite to replace it (its files are removed first)"
    if held is None or held.hash is None:
        raise QsnnError(
            f"{folder} holds the files of a run of unknown configuration ({', '.join(present)}; "
            "no config_hash recorded: written by an older qsnn-mem or by hand), not of this "
            f"run ({key.tag}, config {key.hash}); {advice}"
        )
    if held.hash != key.hash:
        raise QsnnError(
            f"{folder} holds {held.what} of another configuration ({held.tag}, config "
            f"{held.hash}: {_differences(held, key)}), not of this run ({key.tag}, config "
            f"{key.hash}); {advice}"
        )
    if held.finished:
        raise QsnnError(
            f"{folder} already holds this run, finished ({key.tag}, config {key.hash}); add "
            "--overwrite to run it again (its files are removed first), or give another --out"
        )


def _held(folder: Path) -> _Held | None:
    run_info, trace_info = _read_json(folder / "run.json"), _read_json(folder / "trace.json")
    info = run_info if run_info is not None else trace_info
    if info is None:
        unreadable = (folder / "run.json").exists() or (folder / "trace.json").exists()
        return _Held(None) if unreadable else None
    digest, status = info.get("config_hash"), info.get("status")
    config = info.get("config") if isinstance(info.get("config"), dict) else {}
    precision = info.get("precision") if isinstance(info.get("precision"), dict) else {}
    tag = f"{precision.get('tag', '?')}_seed{info.get('seed', config.get('seed', '?'))}"
    mode, phase = info.get("trace_mode", info.get("mode")), info.get("phase")
    traced_ok = mode is None or (trace_info or {}).get("config_hash") == digest
    if run_info is None:
        what = "a finished traced inference" if phase == "infer" else "a finished trace"
    elif status == "done" and traced_ok:
        what = "a finished run"
    elif status == "interrupted" or info.get("interrupted"):
        what = f"an interrupted run ({info.get('epochs_done', '?')} epochs)"
    elif status in ("done", "writing"):
        what = "a run whose outputs were not all written"
    else:
        what = "a run that never finished (killed, or still running)"
    return _Held(digest, tag, config, mode, phase, status, what)


def _read_json(file: Path) -> dict | None:
    try:
        info = json.loads(file.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return info if isinstance(info, dict) else None


def _differences(held: _Held, key: RunKey) -> str:
    """``nb_epochs: 6 != 2, trace_mode: 'event' != None`` (held != this run), at most four."""
    diff = [
        f"{name}: {old!r} != {new!r}"
        for name, old, new in (
            ("trace_mode", held.trace_mode, key.trace_mode),
            ("phase", held.phase, key.phase),
        )
        if old != new
    ]
    missing = "(absent)"
    for k in sorted(set(held.config) | set(key.config)) if held.config else ():
        old, new = held.config.get(k, missing), key.config.get(k, missing)
        if old != new:
            diff.append(f"{k}: {old!r} != {new!r}")
    if not diff:
        return "other weights" if key.phase == "infer" else "its configuration is not recorded"
    return ", ".join(diff[:4]) + (f" and {len(diff) - 4} more" if len(diff) > 4 else "")


@contextlib.contextmanager
def keeping(run_dir: str | os.PathLike) -> Iterator[None]:
    """Around the writing of a run's outputs: a write that fails (a full disk) ends in its one
    message (:mod:`qsnn_mem.io` names the file and the reason) plus the files the folder
    kept, e.g. ``...; reports/x keeps run.json, weights.npz, metrics.csv``."""
    try:
        yield
    except QsnnError as exc:
        folder = Path(run_dir)
        kept = [name for name in reversed(RUN_FILES) if (folder / name).is_file()]
        raise QsnnError(f"{exc}; {folder} keeps {', '.join(kept) or 'no run file'}") from None


def start_record(cfg: Any, key: RunKey, precision: Any, command: str) -> dict[str, Any]:
    """run.json as written before training: the run's key, precision and provenance, with
    ``status: started``; the task completes it when training ends (``writing``) and marks it
    ``done`` (or ``interrupted``) once every output is written. A run killed on the way (or
    stopped by a full disk) leaves its record, so its folder still says what it holds."""
    return {
        "command": command,
        "config": key.config,
        **key.record(),
        "seed": cfg.seed,
        "precision": asdict(precision),
        "status": "started",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        **provenance(),
    }


def provenance() -> dict[str, Any]:
    """Source commit, whether tracked files differed from it, and package versions."""
    commit, dirty = git_state()
    return {"git_commit": commit, "git_dirty": dirty, "versions": versions()}


def git_state(folders: list[Path] | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the source tree (an editable install) or else of the working
    directory: ``dirty`` is True when tracked files have uncommitted changes (staged or not);
    (None, None) outside a git checkout."""
    for where in folders or (Path(__file__).resolve().parent, Path.cwd()):
        commit = _git(where, "rev-parse", "HEAD")
        if commit:
            status = _git(where, "status", "--porcelain", "--untracked-files=no")
            return commit.strip(), None if status is None else bool(status.strip())
    return None, None


def _git(where: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, cwd=where, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that compute a run's numbers (as installed)."""
    out = {"qsnn_mem": __version__, "python": platform.python_version()}
    for package in ("torch", "numpy", "numba", "pandas"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
