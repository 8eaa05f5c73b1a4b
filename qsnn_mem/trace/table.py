"""The access table and its vocabulary, owned by :mod:`qsnn_mem.contract` (re-exported here for
the tracers and counting rules that import them from this package)."""

from ..contract.table import AccessTable
from ..contract.vocabulary import (
    COUNT_COLUMNS,
    FORMAT_VERSION,
    KEY_COLUMNS,
    OPS,
    PATTERNS,
    PHASES,
    STAGES,
    STORED_FLOAT_BITS,
    TENSORS,
    TRAVERSALS,
)

__all__ = [
    "COUNT_COLUMNS",
    "FORMAT_VERSION",
    "KEY_COLUMNS",
    "OPS",
    "PATTERNS",
    "PHASES",
    "STAGES",
    "STORED_FLOAT_BITS",
    "TENSORS",
    "TRAVERSALS",
    "AccessTable",
]
