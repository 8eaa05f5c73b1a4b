"""Reading a trace folder: re-exported from :mod:`qsnn_mem.contract`, which owns the format."""

from ..contract.read import Trace, load_trace
from ..contract.vocabulary import ACCESS_COLUMNS, FORMAT_VERSION, NORMALISERS, TENSOR_COLUMNS

__all__ = [
    "ACCESS_COLUMNS",
    "FORMAT_VERSION",
    "NORMALISERS",
    "TENSOR_COLUMNS",
    "Trace",
    "load_trace",
]
