"""DECOLLE's precision: the configured bitwidths (the ten of the tag, and the gradient RNG's),
their folder tag, and the bits each stored tensor occupies (the one place that rule lives; the
model, the tracer and run.json read it from here).

Stored widths are the true code widths of docs/decolle.md ("Accounting"): quant01 values (Q, P,
R, the sigmoid readout input) take one bit more than configured (2**b + 1 levels); U spans
``mem_clamp * (2**(ub-1) - 1)`` codes each side; the shadow weights live on the gradient grid, so
a weight occupies max(gb, wb) bits (float when gb is null). An unquantized value is stored as
:data:`~qsnn_mem.contract.STORED_FLOAT_BITS`.
"""

from __future__ import annotations

import math
from typing import Any

from ...contract import STORED_FLOAT_BITS
from ..base import Precision

# (field, tag letters) in the reference's banner order: W U P Q R, S A Sig E G.
TAG_LETTERS = (
    ("weight_bits", "w"), ("mem_bits", "u"), ("p_bits", "p"), ("q_bits", "q"),
    ("refrac_bits", "r"), ("readout_bits", "s"), ("act_bits", "a"), ("sig_bits", "sig"),
    ("error_bits", "e"), ("grad_bits", "g"),
)  # fmt: skip
PRECISION_FIELDS = tuple(name for name, _ in TAG_LETTERS)
# Every bitwidth the model reads: the tag's, and the gradient RNG's (not part of the tag).
CONFIGURED_FIELDS = (*PRECISION_FIELDS, "rng_bits")

SPIKE_BITS = 1
# The keys of Precision.stored: trace vocabulary tensors as the conv layers ``convK`` (and
# ``convK_bias``) hold them; a readout layer ``roK`` holds ``readout`` and ``feedback`` and
# stores its ``input``, ``mem`` and ``err`` at the widths keyed ``ro_input``, ``ro_mem``,
# ``ro_err`` (the same vocabulary tensor, a different width).
STORED_TENSORS = (
    "weight", "trace_q", "trace_p", "refrac", "mem", "spk", "input", "err", "grad",
    "readout", "feedback", "ro_input", "ro_mem", "ro_err",
)  # fmt: skip


def tag(configured: dict[str, int | None]) -> str:
    """Folder name of a precision setup, e.g. ``w8u6p12q10r2s6a6sig6e6g10`` (``f`` = float)."""
    return "".join(f"{k}{'f' if configured[f] is None else configured[f]}" for f, k in TAG_LETTERS)


def stored_bits(configured: dict[str, int | None], mem_clamp: float) -> dict[str, int]:
    """Bits each tensor of :data:`STORED_TENSORS` occupies in memory."""
    c = configured

    def unsigned(b: int | None) -> int | None:  # quant01: 2**b + 1 levels
        return None if b is None else b + 1

    mem = None
    if c["mem_bits"] is not None:
        codes = mem_clamp * (2 ** (c["mem_bits"] - 1) - 1)
        mem = 1 + math.ceil(math.log2(math.floor(codes) + 1))
    weight = None
    if c["grad_bits"] is not None:
        weight = max(c["grad_bits"], c["weight_bits"] or 0)
    bits = {
        "weight": weight, "trace_q": unsigned(c["q_bits"]), "trace_p": unsigned(c["p_bits"]),
        "refrac": unsigned(c["refrac_bits"]), "mem": mem, "spk": SPIKE_BITS,
        "input": SPIKE_BITS, "err": c["error_bits"], "grad": c["grad_bits"],
        "readout": c["readout_bits"], "feedback": c["readout_bits"],
        "ro_input": unsigned(c["sig_bits"]), "ro_mem": c["act_bits"], "ro_err": c["error_bits"],
    }  # fmt: skip
    return {name: STORED_FLOAT_BITS if b is None else b for name, b in bits.items()}


def precision(cfg: Any) -> Precision:
    """The precision of a :class:`~.config.DecolleWorkload`."""
    configured = {name: getattr(cfg, name) for name in CONFIGURED_FIELDS}
    return Precision(tag(configured), configured, stored_bits(configured, cfg.mem_clamp))
