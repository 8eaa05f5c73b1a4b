"""Reading a workload YAML: its ``task`` field picks the schema from :mod:`qsnn_mem.tasks`;
seed option names, ``--set`` overrides and data paths relative to the file are resolved here;
a bad value is reported under the name the user wrote and where (the file or ``--set``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import tasks
from .schema import apply_overrides, canonical_keys, read_yaml, validate

# Values of a path field that name no file (generated data), and null (none).
NOT_PATHS = ("generate", "poisson")


def load_workload(path: str | os.PathLike, overrides: list[str] | None = None) -> Any:
    """Read a workload YAML, apply ``--set key=value`` overrides, and validate it against the
    schema of its ``task`` (default :data:`qsnn_mem.tasks.DEFAULT`)."""
    file = Path(path)
    raw = read_yaml(file)
    raw_over = apply_overrides({}, overrides or [])
    task = _task(raw_over.get("task", raw.get("task", tasks.DEFAULT)), file)
    names: dict[str, str] = {}  # field -> the name the user wrote (global_wb)
    data = canonical_keys(raw, str(file), task.seed_names, names)
    data.setdefault("name", file.stem)
    over = canonical_keys(raw_over, "--set", task.seed_names, names)
    origins = {f: "--set" for f in over}
    workload = validate(task.schema, _merge(data, over), str(file), names=names, origins=origins)
    return _resolve_paths(workload, task.path_fields, file.parent, keep=set(over))


def _task(name: Any, file: Path) -> tasks.Task:
    # A list or mapping cannot name a task (and cannot be looked up): show it as text.
    return tasks.get(name if isinstance(name, str) else str(name), f"{file}: field 'task'")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; nested mappings merge, so ``--set generated.rate=0.5``
    changes that key only and keeps the file's other ``generated`` keys."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        nested = isinstance(old, dict) and isinstance(value, dict)
        out[key] = _merge(old, value) if nested else value
    return out


def _resolve_paths(
    workload: BaseModel, fields: tuple[str, ...], folder: Path, keep: set[str]
) -> BaseModel:
    """Data paths in a YAML file are relative to that file's folder; paths given with --set
    (``keep``) stay relative to the working directory."""
    update = {
        f: str(folder / value)
        for f in fields
        if f not in keep
        and (value := getattr(workload, f)) is not None
        and value not in NOT_PATHS
        and not Path(value).is_absolute()
    }
    return workload.model_copy(update=update) if update else workload
