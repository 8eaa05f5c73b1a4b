"""Controller and datapath energy of the engine that walks a memory (published constants only).

* **Controller**, per array access (one cycle of the walk): an FSM, address counters, base or
  pointer and pipeline registers, about 64 flip-flop bits clocked (energy-anchors.md), at the
  Aladdin 40 nm flip-flop's 0.009 pJ per bit.
* **Datapath**, per operation: every weight value read in the forward pass is accumulated
  into the post-synaptic state (an add at the state bitwidth; a crossbar adds its zeros too,
  a sparse encoding reads non-zeros only); error propagation multiplies weight by error and
  accumulates at the error bitwidth per value read, reading the error from a register buffer
  (per value in a gather, per error in a scatter); a weight update adds to every value it
  rewrites. Encodings add popcounts, compares and pointer adds.
* Sources: Horowitz (ISSCC 2014, 45 nm): 8-bit add 0.03 pJ, 32-bit add 0.1 pJ, 8×8 multiply
  0.2 pJ; Aladdin (ISCA 2014, 40 nm, via hwcomponents-library): flip-flop 0.009 pJ/bit,
  32-bit comparator 0.0295 pJ. Scaled to the node by :mod:`.scaling`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .encodings.base import ROW, Cost
from .scaling import ALADDIN_NODE_NM, HOROWITZ_NODE_NM, energy_scale

CONTROLLER_BITS = 64
REG_BIT_J = 0.009e-12
ADD8_J, ADD32_J = 0.03e-12, 0.1e-12
MUL8X8_J = 0.2e-12
CMP32_J = 0.0295e-12
FORWARD, BACKWARD, UPDATE = range(3)  # stage codes, as in the access table
SOURCE_CONTROLLER = "controller: 64 flip-flop bits per cycle, Aladdin 40nm 0.009 pJ/bit"
SOURCE_DATAPATH = "datapath: Horowitz 45nm add/multiply, Aladdin 40nm comparator and flip-flop"


def add_J(bits) -> np.ndarray:
    """An integer add at 45 nm: linear through Horowitz's 8- and 32-bit points, ∝ bits below 8."""
    b = np.asarray(bits, dtype=float)
    above = ADD8_J + (ADD32_J - ADD8_J) * (b - 8.0) / 24.0
    return np.where(b >= 8.0, above, ADD8_J * b / 8.0)


def mul_J(a_bits, b_bits) -> np.ndarray:
    """An integer multiply at 45 nm: ∝ the product of the widths (8×8 0.2 pJ; 32×32 gives 3.2,
    Horowitz measured 3.1)."""
    return MUL8X8_J * np.asarray(a_bits, float) * np.asarray(b_bits, float) / 64.0


def popcount_J(bits) -> np.ndarray:
    """Popcount of a ``bits``-wide word: an adder tree, about two additions of that width."""
    return 2.0 * add_J(bits)


def controller_J(node_nm) -> np.ndarray:
    """Controller energy per cycle at the node."""
    return CONTROLLER_BITS * REG_BIT_J * energy_scale(node_nm, ALADDIN_NODE_NM)


@dataclass
class Operands:
    """Per access row: what the datapath works on (floats)."""

    node_nm: np.ndarray
    stage: np.ndarray
    pattern: np.ndarray
    is_weight: np.ndarray  # the row reads or writes a weight matrix
    is_write: np.ndarray
    n: np.ndarray
    weight_bits: np.ndarray
    state_bits: np.ndarray  # accumulator of the forward pass
    error_bits: np.ndarray
    bitmap_bits: np.ndarray
    idx_bits: np.ndarray
    ptr_bits: np.ndarray


@dataclass
class Operation:
    """One kind of datapath operation, per access row: how many, at which operand widths, and
    the energy of one (J). The itemized form of :func:`datapath_J` (Accelergy export)."""

    action: str  # add, multiply, register_read, popcount, compare
    bits: np.ndarray  # operand width (multiply: the weight)
    bits_b: np.ndarray | None  # multiply: the error; else None
    count: np.ndarray
    energy_J: np.ndarray


def operations(op: Operands, cost: Cost) -> list[Operation]:
    """Every datapath operation of each access row, with its per-operation energy."""
    read = op.is_weight & ~op.is_write
    fwd = read & (op.stage == FORWARD)
    bwd = read & (op.stage == BACKWARD)
    upd = read & (op.stage == UPDATE)
    h = energy_scale(op.node_nm, HOROWITZ_NODE_NM)
    a = energy_scale(op.node_nm, ALADDIN_NODE_NM)
    synapses = cost.values  # a dense datapath adds what it reads, zeros included
    buffer_reads = np.where(op.pattern == ROW, synapses, op.n)  # a gather reads per value
    back = np.where(bwd, synapses, 0.0)
    e_bits, w_bits = op.error_bits, op.weight_bits
    return [
        Operation("add", op.state_bits, None, np.where(fwd, synapses, 0.0),
                  add_J(op.state_bits) * h),
        Operation("multiply", w_bits, e_bits, back, mul_J(w_bits, e_bits) * h),
        Operation("add", e_bits, None, back, add_J(e_bits) * h),
        Operation("register_read", e_bits, None, np.where(bwd, buffer_reads, 0.0),
                  e_bits * REG_BIT_J * a),
        Operation("add", w_bits, None, np.where(upd, cost.values, 0.0), add_J(w_bits) * h),
        Operation("popcount", op.bitmap_bits, None, cost.popcounts,
                  popcount_J(op.bitmap_bits) * h),
        Operation("add", op.ptr_bits, None, cost.adds, add_J(op.ptr_bits) * h),
        Operation("compare", op.idx_bits, None, cost.compares, CMP32_J * op.idx_bits / 32.0 * a),
    ]  # fmt: skip


def datapath_J(op: Operands, cost: Cost) -> np.ndarray:
    """Datapath energy of each access row (J): the sum of its :func:`operations`."""
    energy = np.zeros(len(op.n))
    for item in operations(op, cost):
        energy += item.count * item.energy_J
    return energy
