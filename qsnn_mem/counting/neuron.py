"""Per-primitive counters of a neuron population: the state update of every step, the spikes
it writes, and its BPTT: the loss unit (output layer), the spike errors, the state history read
back, and the per-neuron error state. numpy only; arrays are flattened per step, ``(T, n)``.

Which state a neuron kind keeps (NIR semantics, docs/nir.md): CubaLIF the synaptic current
``I`` (tensor ``syn``) and the membrane ``v`` (``mem``); LIF, IF and LI the membrane only. LI
does not spike: its output is its membrane (a readout), so it writes no ``spk``.
"""

from __future__ import annotations

import numpy as np

from ..contract import AccessTable
from ..tasks.base import Precision

STATE = {"CubaLIF": ("syn", "mem"), "LIF": ("mem",), "IF": ("mem",), "LI": ("mem",)}


def spiking(kind: str) -> bool:
    return kind != "LI"


def output_tensor(kind: str) -> str:
    """The vocabulary tensor a population's output is stored as: spikes, or an LI membrane."""
    return "spk" if spiking(kind) else "mem"


def _nz(x: np.ndarray) -> int:
    return int(np.count_nonzero(x))


def state_update(
    table: AccessTable, phase: str, mode: str, name: str, kind: str,
    state: dict[str, np.ndarray], out: np.ndarray, precision: Precision,
) -> None:  # fmt: skip
    """Forward, every step in both modes: each state variable's row is read (the value of step
    t-1, zero before the first step) and written; a spiking population writes its spikes, an
    element per spike (event) or a row per step (dense). ``state[var]`` (T, n) holds the value
    stored after each step."""
    steps, n = out.shape
    vec = steps * n
    for var in STATE[kind]:
        history, bits = state[var], precision.bits(var)
        table.add(phase, "forward", name, var, "read", "row", bits, steps, vec, _nz(history[:-1]))
        table.add(phase, "forward", name, var, "write", "row", bits, steps, vec, _nz(history))
    if not spiking(kind):
        return
    o, bits = _nz(out), precision.bits("spk")
    if mode == "event":
        table.add(phase, "forward", name, "spk", "write", "elem", bits, o, o, o)
    else:
        table.add(phase, "forward", name, "spk", "write", "row", bits, steps, vec, o)


def loss_unit(
    table: AccessTable, name: str, kind: str, out: np.ndarray, spike_error: np.ndarray,
    precision: Precision,
) -> None:  # fmt: skip
    """Backward of the output layer: the loss unit reads the output (spikes, or the LI
    membrane) a row per step and writes the layer's spike errors dL/d(out)."""
    steps, n = out.shape
    tensor = output_tensor(kind)
    table.add("train", "backward", name, tensor, "read", "row", precision.bits(tensor), steps,
              steps * n, _nz(out))  # fmt: skip
    spike_errors_written(table, name, spike_error, precision)


def spike_errors_written(
    table: AccessTable, name: str, spike_error: np.ndarray, precision: Precision
) -> None:
    """The spike errors dL/d(out) of layer ``name``, a row per step, written by the loss unit
    (output layer) or by the layer above as it sends its errors down."""
    steps, n = spike_error.shape
    table.add("train", "backward", name, "err", "write", "row", precision.bits("err"), steps,
              steps * n, _nz(spike_error))  # fmt: skip


def history(
    table: AccessTable, name: str, kind: str, state: dict[str, np.ndarray],
    spike_error: np.ndarray, error_state: dict[str, np.ndarray], precision: Precision,
) -> None:  # fmt: skip
    """BPTT of the population, last step first, a row per step each: its spike errors read;
    the history of each state variable read back (the value each step started from, as the
    forward read it; surrogate and clip masks need it); the error state (one adjoint per state
    variable and neuron, dL/dI and dL/dv for CubaLIF) read (what step t+1 wrote, zero at the
    last step) and written. ``error_state[var]`` (T, n) holds the adjoint written at step t."""
    steps, n = spike_error.shape
    vec = steps * n
    bits = precision.bits("err")
    table.add("train", "backward", name, "err", "read", "row", bits, steps, vec, _nz(spike_error))
    for var in STATE[kind]:
        table.add("train", "backward", name, var, "read", "row", precision.bits(var), steps, vec,
                  _nz(state[var][:-1]))  # fmt: skip
    variables = STATE[kind]
    read = sum(_nz(error_state[var][1:]) for var in variables)
    written = sum(_nz(error_state[var]) for var in variables)
    elems = len(variables) * vec
    table.add("train", "backward", name, "err", "read", "row", bits, steps, elems, read)
    table.add("train", "backward", name, "err", "write", "row", bits, steps, elems, written)
