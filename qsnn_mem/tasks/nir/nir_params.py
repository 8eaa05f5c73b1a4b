"""The parameters of one NIR node as qsnn-mem holds them: neuron parameters broadcast to the
layer's shape, qsnn-mem's metadata extension, integer pairs of convolutions and poolings. Every
problem is a :class:`~qsnn_mem.errors.QsnnError` naming the file, the node, the value and what
is allowed (torch-free).

A neuron parameter may be a scalar (any array of one element), an array of the layer's output
shape, the same number of values in another shape (read in C order, e.g. a flattened conv
layer), or, for a convolution's (channels, height, width) output, one value per channel
(``(channels,)`` or ``(channels, 1, 1)``).
"""

from __future__ import annotations

from typing import Any

import nir
import numpy as np

from ...errors import QsnnError
from .graph import Neuron

# qsnn-mem's metadata extension of a neuron node (docs/nir.md); other exporters never set it.
META_RESET = "qsnn_mem.reset"
META_RESET_AMOUNT = "qsnn_mem.reset_amount"
META_SPIKE_FIRST = "qsnn_mem.spike_first"
META_PREFIX = "qsnn_mem."
META_KEYS = (META_RESET, META_RESET_AMOUNT, META_SPIKE_FIRST)
RESETS = ("to_value", "subtract")
# A time constant may undercut dt by float32 rounding (snnTorch's tau = dt/(1-beta) in float32).
DT_TOLERANCE = 1e-6


class Where:
    """The file and the node a message is about: ``file: node 'lif1' (LIF): ...``."""

    def __init__(self, source: str, name: str, kind: str) -> None:
        self.source, self.name, self.kind = source, name, kind

    def error(self, message: str) -> QsnnError:
        return QsnnError(f"{self.source}: node '{self.name}' ({self.kind}): {message}")


def shown(value: Any) -> str:
    """A short text of a value for messages (arrays cut to their first elements)."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item()) if arr.dtype.kind in "biuf" else repr(value)
    text = np.array2string(arr.reshape(-1)[:6], precision=6, separator=", ")
    if arr.ndim == 1 and arr.size <= 6:
        return text
    more = f", ... ({arr.size} values)" if arr.size > 6 else ""
    return f"{text[:-1]}{more}] of shape {arr.shape}"


def as_float_array(value: Any, where: Where, field: str) -> np.ndarray:
    """A finite float64 array, or an error naming the field."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise where.error(f"{field} = {value!r} is not numeric") from None
    if not np.all(np.isfinite(arr)):
        bad = arr.reshape(-1)[~np.isfinite(arr.reshape(-1))][0]
        raise where.error(f"{field} holds {bad} (allowed: finite numbers)")
    return arr


def per_neuron(value: Any, shape: tuple[int, ...], where: Where, field: str) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` (the layer's output shape)."""
    arr = as_float_array(value, where, field)
    size = int(np.prod(shape))
    if arr.size == 1:
        return np.full(shape, float(arr.reshape(-1)[0]))
    if tuple(arr.shape) == tuple(shape):
        return arr.copy()
    if arr.size == size:
        return arr.reshape(shape).copy()
    if len(shape) == 3 and arr.shape in ((shape[0],), (shape[0], 1, 1)):
        return np.broadcast_to(arr.reshape(shape[0], 1, 1), shape).copy()
    per_channel = f", ({shape[0]},) one per channel" if len(shape) == 3 else ""
    raise where.error(
        f"{field} has shape {arr.shape}, but the layer's output has shape {shape} (allowed: one "
        f"value, {shape} or {size} values{per_channel})"
    )


def positive(arr: np.ndarray, where: Where, field: str) -> np.ndarray:
    if np.any(arr <= 0):
        bad = float(arr.reshape(-1)[(arr <= 0).reshape(-1)][0])
        raise where.error(f"{field} = {bad} (allowed: > 0 s)")
    return arr


def time_constant(value: Any, shape, where: Where, field: str, dt: float) -> np.ndarray:
    """A time constant in seconds: positive, and at least ``dt`` up to float32 rounding (a
    shorter one would make the forward-Euler step overshoot: the per-step decay ``1 - dt/tau``
    would be negative)."""
    tau = positive(per_neuron(value, shape, where, field), where, field)
    if np.any(tau < dt * (1 - DT_TOLERANCE)):
        bad = float(tau.min())
        raise where.error(
            f"{field} = {bad:.9g} s is shorter than the time step dt = {dt:g} s: the per-step "
            f"decay 1 - dt/{field} would be {1 - dt / bad:g} (allowed: {field} >= dt; give the "
            "dt the network was exported for, e.g. 1e-4 s for snnTorch's export)"
        )
    return tau


def pair(value: Any, where: Where, field: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each at least ``minimum``."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    ):
        raise where.error(f"{field} = {shown(value)} (allowed: an integer or two integers)")
    flat = [int(v) for v in arr.reshape(-1)]
    if len(flat) == 1:
        flat = flat * 2
    if len(flat) != 2 or min(flat) < minimum:
        raise where.error(
            f"{field} = {shown(value)} (allowed: one or two integers >= {minimum} (height, width))"
        )
    return flat[0], flat[1]


def _meta_value(value: Any) -> Any:
    """A metadata value as read back from HDF5 (bytes, numpy scalars) as a Python value."""
    if isinstance(value, bytes):
        return value.decode("utf8", errors="replace")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def reset_rule(metadata: dict, where: Where, spiking: bool) -> tuple[str, float, bool]:
    """(reset, reset_amount, spike_first) from qsnn-mem's keys of a neuron's metadata."""
    meta = {k: _meta_value(v) for k, v in (metadata or {}).items() if k.startswith(META_PREFIX)}
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        raise where.error(f"unknown metadata key '{unknown[0]}' (allowed: {', '.join(META_KEYS)})")
    if meta and not spiking:
        raise where.error(
            f"metadata '{next(iter(meta))}' on a neuron that does not spike (allowed on LIF, "
            "CubaLIF and IF only)"
        )
    reset = meta.get(META_RESET, "to_value")
    if reset not in RESETS:
        raise where.error(f"metadata '{META_RESET}' = {reset!r} (allowed: {', '.join(RESETS)})")
    amount = 0.0
    if META_RESET_AMOUNT in meta:
        if reset != "subtract":
            raise where.error(f"metadata '{META_RESET_AMOUNT}' needs '{META_RESET}' = 'subtract'")
        raw = meta[META_RESET_AMOUNT]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not np.isfinite(raw):
            raise where.error(f"metadata '{META_RESET_AMOUNT}' = {raw!r} (allowed: a number)")
        amount = float(raw)
    elif reset == "subtract":
        raise where.error(f"metadata '{META_RESET}' = 'subtract' needs '{META_RESET_AMOUNT}'")
    first = meta.get(META_SPIKE_FIRST, False)
    if first not in (True, False, 0, 1):
        raise where.error(f"metadata '{META_SPIKE_FIRST}' = {first!r} (allowed: true, false)")
    return reset, amount, bool(first)


def neuron_from_nir(node: Any, where: Where, shape: tuple[int, ...], dt: float) -> Neuron:
    """The population of a LIF, CubaLIF, IF or LI node, parameters broadcast to ``shape``."""
    kind = type(node).__name__
    zeros, ones = np.zeros(shape), np.ones(shape)
    reset, amount, first = reset_rule(node.metadata, where, spiking=kind != "LI")

    def get(field: str, attr: str | None = None) -> np.ndarray:
        return per_neuron(getattr(node, attr or field), shape, where, field)

    tau_syn = w_in = None
    if kind == "IF":
        tau_mem, v_leak = np.full(shape, np.inf), zeros
    else:
        tau_name = "tau_mem" if kind == "CubaLIF" else "tau"
        tau_mem = time_constant(getattr(node, tau_name), shape, where, tau_name, dt)
        v_leak = get("v_leak")
    if kind == "CubaLIF":
        tau_syn = time_constant(node.tau_syn, shape, where, "tau_syn", dt)
        w_in = ones if node.w_in is None else get("w_in")
    if kind == "LI":
        v_threshold, v_reset = np.full(shape, np.inf), zeros
    else:
        v_threshold = get("v_threshold")
        v_reset = zeros if node.v_reset is None else get("v_reset")
    return Neuron(
        kind=kind, node=where.name, tau_mem=tau_mem, r=get("r"), v_leak=v_leak,
        v_threshold=v_threshold, v_reset=v_reset, tau_syn=tau_syn, w_in=w_in,
        reset=reset, reset_amount=amount, spike_first=first,
    )  # fmt: skip


def neuron_metadata(n: Neuron) -> dict[str, Any]:
    """qsnn-mem's keys for a population whose reset or order is not NIR's (empty otherwise)."""
    meta: dict[str, Any] = {}
    if n.reset == "subtract":
        meta[META_RESET] = "subtract"
        meta[META_RESET_AMOUNT] = float(n.reset_amount)
    if n.spike_first:
        meta[META_SPIKE_FIRST] = True
    return meta


def neuron_to_nir(n: Neuron) -> nir.NIRNode:
    """The NIR node of a population (parameters as per-neuron float arrays)."""
    meta = neuron_metadata(n)
    if n.kind == "LIF":
        return nir.LIF(
            tau=n.tau_mem, r=n.r, v_leak=n.v_leak, v_threshold=n.v_threshold,
            v_reset=n.v_reset, metadata=meta,
        )  # fmt: skip
    if n.kind == "CubaLIF":
        w_in = np.ones_like(n.r) if n.w_in is None else n.w_in
        return nir.CubaLIF(
            tau_syn=n.tau_syn, tau_mem=n.tau_mem, r=n.r, v_leak=n.v_leak,
            v_threshold=n.v_threshold, v_reset=n.v_reset, w_in=w_in, metadata=meta,
        )  # fmt: skip
    if n.kind == "IF":
        return nir.IF(r=n.r, v_threshold=n.v_threshold, v_reset=n.v_reset, metadata=meta)
    if n.kind == "LI":
        return nir.LI(tau=n.tau_mem, r=n.r, v_leak=n.v_leak)
    raise ValueError(f"unknown neuron kind {n.kind!r}")
