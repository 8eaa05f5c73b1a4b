"""What the tracers share: the access table they count into (owned by :mod:`qsnn_mem.contract`)
and the writing of a tracer's trace folder. Each task's tracer lives with its task."""

from .table import AccessTable

__all__ = ["AccessTable"]
