"""YAML into pydantic models, with messages naming the file, field, value and what is allowed;
and what every workload schema shares (its base fields, bitwidth fields, seed option names)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import QsnnError

M = TypeVar("M", bound=BaseModel)

BitsField = int | None


def bits_field(default: int | None, seed_name: str, what: str) -> Any:
    """A bitwidth field (2-32 or null) whose description names the reference option."""
    return Field(default, ge=2, le=32, description=f"{what} (seed: {seed_name}); null = float.")


class WorkloadBase(BaseModel):
    """Fields every workload has; unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    seed: int = Field(0, ge=0, description="Seeds data, initialisation, dropout and rounding.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="auto: the fastest device that can do the job (CUDA when a GPU is present, "
        "except where a task's tracer needs the CPU); cpu; cuda.",
    )


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping; missing files, syntax errors and non-mappings become QsnnError."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise QsnnError(f"{file}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QsnnError(f"{file}: cannot read: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise QsnnError(
            f"{file}: expected a mapping of fields at the top level, got {type(data).__name__}"
        )
    return data


def describe_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: ``source: field 'a.b' = value: reason``."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            lines.append(f"{source}: unknown field '{field}'")
            continue
        if kind == "missing":
            lines.append(f"{source}: missing required field '{field}'")
            continue
        value = err.get("input")
        lines.append(f"{source}: field '{field}' = {value!r}: {err['msg']}")
    return "\n".join(lines)


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise QsnnError(describe_validation_error(source, exc)) from None


def load_model(model: type[M], path: str | os.PathLike) -> M:
    """Read ``path`` as YAML and validate it against ``model``."""
    return validate(model, read_yaml(path), str(path))


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as YAML (``4``, ``null``, ``[1,2]``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise QsnnError(f"--set {text!r}: expected key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of ``data`` with ``a.b=value`` overrides applied (dots address nested mappings)."""
    out = dict(data)
    for text in overrides:
        key, value = parse_override(text)
        target = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = target.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            target[part] = child
            target = child
        target[parts[-1]] = value
    return out


def canonical_keys(data: dict[str, Any], source: str, seed_names: dict[str, str]) -> dict[str, Any]:
    """Map seed option names (``global_wb``) to field names (``weight_bits``)."""
    out: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in data.items():
        name = seed_names.get(key, key)
        if name in out:
            raise QsnnError(
                f"{source}: '{given[name]}' and '{key}' set the same field '{name}'; give one"
            )
        out[name], given[name] = value, key
    return out
