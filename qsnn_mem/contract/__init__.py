"""The trace contract: the one owner of the trace files' vocabulary, writer and reader.

Tracers count into an :class:`AccessTable` and hand the tables to :func:`write_trace`; the
estimator reads a folder with :func:`load_trace`. Both run the same checks (checks.py, meta.py)
and take every name from vocabulary.py. Torch-free: the estimator imports it.
"""

from .read import Trace, load_trace
from .table import AccessTable
from .vocabulary import (
    ACCESS_COLUMNS,
    FORMAT_VERSION,
    KEY_COLUMNS,
    NORMALISERS,
    STORED_FLOAT_BITS,
    TENSOR_COLUMNS,
    TENSORS,
)
from .write import write_trace

__all__ = [
    "ACCESS_COLUMNS",
    "FORMAT_VERSION",
    "KEY_COLUMNS",
    "NORMALISERS",
    "STORED_FLOAT_BITS",
    "TENSORS",
    "TENSOR_COLUMNS",
    "AccessTable",
    "Trace",
    "load_trace",
    "write_trace",
]
