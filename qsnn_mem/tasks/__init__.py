"""The experiments qsnn-mem runs, each behind the :class:`~.base.Task` interface.

Register a new task here (one folder under ``qsnn_mem/tasks/`` and one line below).
"""

from __future__ import annotations

from ..errors import QsnnError
from . import decolle, nir, smile
from .base import Metric, Task

REGISTRY: dict[str, Task] = {t.name: t for t in (smile.TASK, decolle.TASK, nir.TASK)}
DEFAULT = "smile"


def get(name: str, source: str = "field 'task'") -> Task:
    """The task called ``name``; an unknown name is a QsnnError listing the known ones."""
    if name not in REGISTRY:
        raise QsnnError(f"{source} = {name!r} (allowed: {', '.join(REGISTRY)})")
    return REGISTRY[name]


__all__ = ["DEFAULT", "REGISTRY", "Metric", "Task", "get"]
