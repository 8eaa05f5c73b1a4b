"""The NIR task's precision: the smile task's (its bit fields, record and tag, ``w2a8g8e8``, and
the rule for the bits each stored tensor occupies).

Weights take ``weight_bits``, the synaptic current and the membrane ``state_bits``, the BPTT
errors ``error_bits`` and the weight gradients ``grad_bits``; spikes take one bit. An
unquantized value is stored as :data:`~qsnn_mem.contract.STORED_FLOAT_BITS`.
"""

from __future__ import annotations

from ..smile.precision import CONFIGURED_FIELDS, PRECISION_FIELDS, precision

__all__ = ["CONFIGURED_FIELDS", "PRECISION_FIELDS", "precision"]
