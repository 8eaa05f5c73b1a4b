"""What a command that writes its folder whole (``io.staged_folder``: estimate, report, an
export) may replace: nothing the user put there, and no other result without ``--overwrite``."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from .contract.read import read_json
from .errors import QsnnError


def check_replaceable(
    folder: Path,
    what: str,
    files: Collection[str],
    *,
    key: str | None = None,
    record: str = "",
    differs: str = "",
    overwrite: bool = False,
) -> None:
    """``folder`` may take a new ``what`` (estimate, report, export): it is absent or empty, or
    holds only ``files`` (an earlier one). With ``key``, the earlier one's ``record`` (a JSON
    file of it, field ``<what>_key``) must name the same key (the same inputs: the same result
    again) unless ``overwrite``; one that records none counts as another. A file outside
    ``files`` is always refused: replacing the folder would remove it."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise QsnnError(f"{folder}: not a folder (where the {what} goes)")
    present = [p.name for p in folder.iterdir()]
    foreign = sorted(name for name in present if name not in files)
    if foreign:
        raise QsnnError(
            f"{folder} holds files the {what} does not write ({', '.join(foreign[:5])}): give "
            f"an empty or new folder (the {what} replaces its folder whole)"
        )
    if key is None or overwrite or not present:
        return
    info = read_json(folder / record) if (folder / record).is_file() else {}
    held = info.get(f"{what}_key", "not recorded") if isinstance(info, dict) else "not recorded"
    if held != key:
        raise QsnnError(
            f"{folder} holds another {what} ({differs}: key {held}, this one {key}); add "
            "--overwrite to replace it, or give another folder"
        )
