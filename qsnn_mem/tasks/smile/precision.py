"""The smile task's precision: the configured bitwidths (WAGE, and the gradient RNG's), their
folder tag, and the bits each stored tensor occupies (the one place that rule lives; the model,
the tracer and run folders read it from here).

Weights take ``weight_bits``, the synapse and membrane state ``state_bits``, the BPTT errors
``error_bits`` and the weight gradients ``grad_bits``; spikes (the network input and every
layer's output) take one bit. An unquantized value is stored as
:data:`~qsnn_mem.contract.STORED_FLOAT_BITS`.
"""

from __future__ import annotations

from typing import Any

from ...contract import STORED_FLOAT_BITS
from ..base import Precision

# (field, tag letter) in tag order: w a g e (WAGE).
TAG_LETTERS = (
    ("weight_bits", "w"), ("state_bits", "a"), ("grad_bits", "g"), ("error_bits", "e"),
)  # fmt: skip
PRECISION_FIELDS = tuple(name for name, _ in TAG_LETTERS)
# Every bitwidth the model reads: the tag's, and the gradient RNG's (not part of the tag).
CONFIGURED_FIELDS = (*PRECISION_FIELDS, "rng_bits")

SPIKE_BITS = 1


def tag(configured: dict[str, int | None]) -> str:
    """Folder name of a precision setup, e.g. ``w2a8g8e8`` (``f`` = float)."""
    return "".join(f"{k}{'f' if configured[f] is None else configured[f]}" for f, k in TAG_LETTERS)


def stored_bits(configured: dict[str, int | None]) -> dict[str, int]:
    """Bits each tensor of the trace vocabulary the smile network stores occupies in memory."""
    c = configured
    bits = {
        "weight": c["weight_bits"], "syn": c["state_bits"], "mem": c["state_bits"],
        "err": c["error_bits"], "grad": c["grad_bits"], "spk": SPIKE_BITS, "input": SPIKE_BITS,
    }  # fmt: skip
    return {name: STORED_FLOAT_BITS if b is None else b for name, b in bits.items()}


def precision(cfg: Any) -> Precision:
    """The precision of a :class:`~.config.SmileWorkload` (or of a NIR workload: the same
    fields)."""
    configured = {name: getattr(cfg, name) for name in CONFIGURED_FIELDS}
    return Precision(tag(configured), configured, stored_bits(configured))
