"""Checks of trace.json: format version, workload and mode, and the normalisers.

The normalisers divide the priced energy (per epoch, per inference), so they must be integers
and must fit the access table: a phase with counts needs a non-zero divisor.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import QsnnError
from .vocabulary import FORMAT_VERSION, MODES, NORMALISERS, OPTIONAL_NORMALISERS, VERSION_HINT


def check_meta(meta, file: Path) -> dict[str, int]:
    """trace.json's fields; returns its normalisers (the required ones, and optional ones given)."""
    if not isinstance(meta, dict):
        raise QsnnError(f"{file}: not a JSON object (found a {type(meta).__name__})")
    version = meta.get("format_version", 1)  # version 1 had no such field
    if type(version) is not int or version != FORMAT_VERSION:
        raise QsnnError(
            f"{file}: field 'format_version' = {version!r} "
            f"(allowed: {FORMAT_VERSION}; {VERSION_HINT})"
        )
    if "workload" in meta and not isinstance(meta["workload"], str):
        raise QsnnError(f"{file}: field 'workload' = {meta['workload']!r} (allowed: a name)")
    if meta.get("mode", MODES[0]) not in MODES:
        raise QsnnError(f"{file}: field 'mode' = {meta['mode']!r} (allowed: {', '.join(MODES)})")
    norm = meta.get("normalisers")
    if not isinstance(norm, dict):
        raise QsnnError(f"{file}: missing field 'normalisers' (an object)")
    for key in norm:
        if key not in NORMALISERS + OPTIONAL_NORMALISERS:
            raise QsnnError(
                f"{file}: field 'normalisers.{key}' is unknown "
                f"(allowed: {', '.join(NORMALISERS + OPTIONAL_NORMALISERS)})"
            )
    for key in NORMALISERS + tuple(k for k in OPTIONAL_NORMALISERS if k in norm):
        value = norm.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise QsnnError(
                f"{file}: field 'normalisers.{key}' = {value!r} (allowed: an integer >= 0)"
            )
    return {k: int(norm[k]) for k in NORMALISERS + OPTIONAL_NORMALISERS if k in norm}


def check_normalisers(file: Path, norm: dict[str, int], phases: set[str]) -> None:
    """The normalisers against the phases that have access rows."""
    need = []  # (field, lowest allowed, why)
    if phases:
        need.append(("time_steps", 1, "the trace has access rows"))
    if "train" in phases:
        # train_epochs may be 0: a trace of part of an epoch (the estimator then prices it as one).
        epochs = norm["train_epochs"]
        why = (
            f"each of the {epochs} epochs trains on a sample"
            if epochs > 1
            else "the trace has train rows"
        )
        need.append(("train_samples", max(epochs, 1), why))
    if "infer" in phases:
        need.append(("infer_samples", 1, "the trace has infer rows"))
        if "infer_time_steps" in norm:
            need.append(("infer_time_steps", 1, "the trace has infer rows"))
    for key, lowest, why in need:
        if norm[key] < lowest:
            raise QsnnError(
                f"{file}: field 'normalisers.{key}' = {norm[key]} "
                f"(allowed: an integer >= {lowest}, since {why})"
            )
