"""The one definition of the trace vocabulary: files, columns, allowed values, normalisers.

Everything that writes, reads or prices a trace takes its names from here; extend it here (and
raise FORMAT_VERSION when a column or the meaning of a count changes).
"""

from __future__ import annotations

# Version of the trace files (trace.json's "format_version"); 2 added the traversal column.
FORMAT_VERSION = 2
VERSION_HINT = (
    "traces written before the traversal column lack the row-gather counts, re-run qsnn-mem trace"
)

ACCESSES_FILE = "accesses.csv"
TENSORS_FILE = "tensors.csv"
META_FILE = "trace.json"  # written last: its presence marks a complete trace
NEUROBENCH_FILE = "neurobench.json"

PHASES = ("train", "infer")
STAGES = ("forward", "backward", "update")
TENSORS = (
    "weight", "syn", "mem", "spk", "refrac", "trace_p", "trace_q", "err", "grad", "readout",
    "feedback", "input",
)  # fmt: skip
OPS = ("read", "write")
PATTERNS = ("row", "col", "elem")
# "any": counted whatever the architecture; "row" / "col": the two alternative counts of one
# error propagation through a weight matrix (gather or scatter), of which an architecture keeps one.
TRAVERSALS = ("any", "row", "col")
# The one kind of row a traversal variant may be: (stage, tensor, op), with pattern == traversal.
VARIANT_ROW = ("backward", "weight", "read")
MODES = ("event", "dense")

KEY_COLUMNS = ("phase", "stage", "layer", "tensor", "op", "pattern", "traversal", "bits")
COUNT_COLUMNS = ("accesses", "elements", "nonzero")
ACCESS_COLUMNS = (*KEY_COLUMNS, *COUNT_COLUMNS)
TENSOR_COLUMNS = (
    "layer", "tensor", "shape", "rows", "cols", "bits", "elements", "nonzero", "kernel",
    "unrolled_rows", "unrolled_cols", "unrolled_nonzero",
)  # fmt: skip
TENSOR_COUNT_COLUMNS = (
    "rows", "cols", "elements", "nonzero", "unrolled_rows", "unrolled_cols", "unrolled_nonzero",
)  # fmt: skip
# Allowed values of the categorical columns (of either table).
VOCABULARY = {
    "phase": PHASES,
    "stage": STAGES,
    "tensor": TENSORS,
    "op": OPS,
    "pattern": PATTERNS,
    "traversal": TRAVERSALS,
}

# trace.json's normalisers: energy per epoch = train energy / train_epochs, per inference =
# infer energy / infer_samples. DECOLLE adds the length of its test windows.
NORMALISERS = ("train_epochs", "train_samples", "infer_samples", "time_steps")
OPTIONAL_NORMALISERS = ("infer_time_steps",)

STORED_FLOAT_BITS = 32  # an unquantized value is stored as float32
BITS_RANGE = (1, 64)  # a stored value occupies at least one bit; counts are int64
