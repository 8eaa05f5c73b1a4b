"""Weight encodings: one module each, registered here.

An encoding module declares ``NAME``, the physical arrays it needs (``ROLES_USED``, from
:data:`base.ROLES`), ``storage_words(layout)`` (words of each array per stored tensor) and
``access(layout, walk)`` (array reads and writes, values touched and control operations per
access-table row), all vectorised. ``KERNELS_ONLY = True`` marks an encoding that can hold
convolution kernels only. Adding an encoding is one module plus one line in :data:`REGISTRY`.
"""

from __future__ import annotations

import numpy as np

from . import crossbar, dense, functional, pb_bmp, pb_csr, rle
from .base import ROLES, Cost, Layout, Walk

REGISTRY = {m.NAME: m for m in (crossbar, pb_csr, pb_bmp, rle, functional)}
ENCODINGS = tuple(REGISTRY)
# Integer codes for vectorised dispatch; code 0 is the packed storage of non-weight tensors.
MODULES = (dense, *REGISTRY.values())
CODES = {m.NAME: i for i, m in enumerate(MODULES)}
DENSE = CODES["dense"]


def kernels_only(name: str) -> bool:
    return bool(getattr(REGISTRY[name], "KERNELS_ONLY", False))


def storage_words(code: np.ndarray, layout: Layout) -> np.ndarray:
    """[n, roles] words of every array for each stored tensor."""
    out = np.zeros((len(code), len(ROLES)))
    for c, module in enumerate(MODULES):
        idx = np.flatnonzero(code == c)
        if len(idx):
            out[idx] = module.storage_words(layout.take(idx))
    return out


def access_cost(code: np.ndarray, layout: Layout, walk: Walk) -> Cost:
    """Cost of each access-table row under its tensor's encoding (``layout`` per row)."""
    out = Cost.zeros(len(code))
    for c, module in enumerate(MODULES):
        idx = np.flatnonzero(code == c)
        if len(idx):
            out.put(idx, module.access(layout.take(idx), walk.take(idx)))
    return out


__all__ = ["CODES", "DENSE", "ENCODINGS", "REGISTRY", "ROLES", "Cost", "Layout", "Walk"]
