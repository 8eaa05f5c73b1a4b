"""YAML into pydantic models, with messages naming the file, field, value and what is allowed;
and what every schema shares: its base (unknown fields are errors, floats finite, integers
bounded), folder-safe names, the workload base fields, bitwidth fields, seed option names and
the check that a workload fits in the machine's memory."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import QsnnError

M = TypeVar("M", bound=BaseModel)

INT_MAX = 2**31 - 1  # bound of every integer field without a bound of its own
SEED_MAX = 2**32 - 1  # numpy and torch take seeds 0..2^32-1
SHOWN_MAX = 300  # characters of a value a message echoes
NAME_MAX = 100  # characters of a name used as a folder name
GIB = 2**30
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")  # 1e9: text to YAML 1.1

BitsField = int | None


def cut(text: str, limit: int = SHOWN_MAX) -> str:
    """``text`` cut to ``limit`` characters (a message never echoes a huge value)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def shown(value: Any) -> str:
    """``repr(value)`` for a message, cut to SHOWN_MAX characters."""
    return cut(repr(value))


def bits_field(default: int | None, seed_name: str, what: str) -> Any:
    """A bitwidth field (2-32 or null) whose description names the reference option."""
    return Field(default, ge=2, le=32, description=f"{what} (seed: {seed_name}); null = float.")


class Schema(BaseModel):
    """Base of every schema read from YAML: unknown fields are errors, floats are finite (no NaN
    or infinities), and an integer field without an upper bound of its own (``le``) is within
    ±INT_MAX, in lists too, so no count or size overflows the kernels' integers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _bounded_ints(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or any(hasattr(m, "le") or hasattr(m, "lt") for m in field.metadata):
            return value
        for item in value if isinstance(value, list | tuple) else (value,):
            if type(item) is int and not -INT_MAX - 1 <= item <= INT_MAX:
                raise ValueError(f"{item} is out of range (allowed: {-INT_MAX - 1} to {INT_MAX})")
        return value


def _folder_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > NAME_MAX:
        raise ValueError(f"names a folder: at most {NAME_MAX} characters")
    if value in (".", "..") or any(c in value for c in "/\\") or not value.isprintable():
        raise ValueError(
            "must be a plain folder name (no '/', '\\' or control characters; not '.' or '..')"
        )
    return value


# A name used in paths (reports/<name>/): one plain folder name, never a way out of the folder.
Name = Annotated[str, AfterValidator(_folder_name)]


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(needs: list[tuple[str, float]]) -> None:
    """Refuse (ValueError) a workload whose largest arrays, ``(what, bytes)`` each, do not fit
    in the machine's physical memory; the message names them with the GiB they need."""
    total = sum(size for _, size in needs)
    have = physical_memory()
    if have is None or total <= have:
        return
    parts = "; ".join(
        f"{what}: {size / GIB:,.1f} GiB" for what, size in needs if size >= total / 100
    )
    raise ValueError(
        f"a run needs at least {total / GIB:,.1f} GiB of memory ({parts}), more than this "
        f"machine's {have / GIB:,.1f} GiB: make these sizes smaller"
    )


class WorkloadBase(Schema):
    """Fields every workload has; unknown fields are errors. Each task's schema says what its
    largest arrays need (:meth:`memory_needs`), and a workload that cannot fit is refused
    before anything is allocated."""

    model_config = ConfigDict(validate_default=True)

    seed: int = Field(
        0, ge=0, le=SEED_MAX, description="Seeds data, initialisation, dropout and rounding."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="auto: the fastest device that can do the job (CUDA when a GPU is present, "
        "except where a task's tracer needs the CPU); cpu; cuda.",
    )

    def memory_needs(self) -> list[tuple[str, float]]:
        """``(what, bytes)`` of the largest arrays a run allocates, naming the fields that size
        them; a lower bound (a run needs more)."""
        return []

    @model_validator(mode="after")
    def _fits_in_memory(self) -> WorkloadBase:
        check_memory(self.memory_needs())
        return self


class _Loader(yaml.SafeLoader):
    """safe_load, refusing aliases (``*name``: no expansion bombs) and duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed: write the value out",
                self.peek_event().start_mark,
            )  # fmt: skip
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader refuses it below
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown(key)} is given twice (first on line {first + 1})",
                    key_node.start_mark,
                )  # fmt: skip
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """Parse YAML as safe_load does, without aliases or duplicate keys."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping; missing, empty and unreadable files, syntax errors, aliases,
    duplicate keys and non-mappings become QsnnError."""
    file = Path(path)
    if not file.is_file():
        raise QsnnError(f"{file}: file not found")
    try:
        data = load_yaml(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        why = cut(str(getattr(exc, "problem", None) or exc))
        raise QsnnError(f"{file}: not valid YAML{where}: {why}") from None
    except RecursionError:
        raise QsnnError(f"{file}: not valid YAML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QsnnError(f"{file}: cannot read: {exc}") from None
    if data is None:
        raise QsnnError(
            f"{file}: the file is empty (no fields); write the fields you change, "
            "or {} for a workload with every default"
        )
    if not isinstance(data, dict):
        raise QsnnError(
            f"{file}: expected a mapping of fields at the top level, got {type(data).__name__}"
        )
    return data


def describe_validation_error(
    source: str,
    exc: ValidationError,
    names: dict[str, str] | None = None,
    origins: dict[str, str] | None = None,
) -> str:
    """One line per problem: ``source: field 'a.b' = value: reason``. ``names`` maps a field to
    the name the user wrote (``weight_bits`` -> ``global_wb``: ``field 'global_wb'
    (weight_bits)``); ``origins`` maps a field to where it was given (``--set``)."""
    names, origins = names or {}, origins or {}
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        kind, reason = err["type"], err["msg"].removeprefix("Value error, ")
        if kind == "int_parsing_size":
            reason = f"too large (allowed: at most {INT_MAX} unless the field says otherwise)"
        if not loc:
            lines.append(f"{source}: {reason}")
            continue
        where = origins.get(loc[0], source)
        field = cut(".".join(loc))
        given = ".".join([names.get(loc[0], loc[0]), *loc[1:]])
        label = f"'{field}'" if given == ".".join(loc) else f"'{cut(given)}' ({field})"
        if kind == "extra_forbidden":
            lines.append(f"{where}: unknown field {label}")
        elif kind == "missing":
            lines.append(f"{where}: missing required field {label}")
        else:
            value = err.get("input")
            if kind == "int_parsing" and isinstance(value, str) and NUMBER.fullmatch(value):
                reason += " (YAML reads a number such as 1e9 as text: write it in digits)"
            lines.append(f"{where}: field {label} = {shown(value)}: {reason}")
    return "\n".join(lines)


def validate(
    model: type[M],
    data: dict[str, Any],
    source: str,
    *,
    names: dict[str, str] | None = None,
    origins: dict[str, str] | None = None,
) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise QsnnError(describe_validation_error(source, exc, names, origins)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as YAML (``4``, ``null``, ``[1,2]``). An empty
    value is refused: no value is written ``null``."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise QsnnError(f"--set {cut(repr(text))}: expected key=value")
    if not raw.strip():
        raise QsnnError(
            f"--set {cut(repr(text))}: no value after '='; write {cut(key)}=null for none "
            f'(or {cut(key)}="" for an empty text)'
        )
    try:
        value = load_yaml(raw)
    except (yaml.YAMLError, RecursionError):
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


def canonical_keys(
    data: dict[str, Any],
    source: str,
    seed_names: dict[str, str],
    given: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Map seed option names (``global_wb``) to field names (``weight_bits``); ``given``, if
    passed, receives field -> the name written (for messages in the user's words)."""
    out: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, value in data.items():
        name = seed_names.get(key, key)
        if name in out:
            raise QsnnError(
                f"{source}: '{cut(str(written[name]))}' and '{cut(str(key))}' set the same "
                f"field '{cut(str(name))}'; give one"
            )
        out[name], written[name] = value, key
    if given is not None:
        given.update(written)
    return out
