"""The NIR task's precision: the smile task's record and tag (``w2a8g8e8``), the same rule for
the bits each stored tensor occupies.

Weights take ``weight_bits``, the synaptic current and the membrane ``state_bits``, the BPTT
errors ``error_bits`` and the weight gradients ``grad_bits``; spikes take one bit. An
unquantized value is stored as :data:`~qsnn_mem.contract.STORED_FLOAT_BITS`.
"""

from __future__ import annotations

from typing import Any

from ..base import Precision
from ..smile.precision import CONFIGURED_FIELDS, PRECISION_FIELDS, stored_bits, tag

__all__ = ["CONFIGURED_FIELDS", "PRECISION_FIELDS", "precision"]


def precision(cfg: Any) -> Precision:
    """The precision of a :class:`~.config.NirWorkload`."""
    configured = {name: getattr(cfg, name) for name in CONFIGURED_FIELDS}
    return Precision(tag(configured), configured, stored_bits(configured))
