"""Price traced runs in memory organizations.

Energy = Σ over arrays (reads × read energy + writes × write energy) + controller energy per
array access + datapath operations + leakage × run time. :func:`evaluate` takes any number of
(architecture, trace) pairs and computes them all with array operations (10,000 pairs in about
a second with the table backend); :mod:`.tables` turns one pair into energy.csv and area.csv.

Each memory is a set of physical arrays (one per role its encoding needs), each sized to what
it holds and priced at its own width and depth by its kind (:mod:`.kinds`). Error propagation
through a weight matrix is traced twice (as a gather and as a scatter); the memory's
``propagation`` keeps one, ``auto`` the cheaper per layer.

Cycle model: each array access is one controller cycle; a bank serves one access per port per
cycle; an SRAM whose random cycle exceeds the clock period takes ``⌈t_cycle · f_clock⌉``
cycles. A phase lasts as long as its busiest memory needs (compute keeps up); every array
leaks for the whole phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract import Trace
from ..errors import QsnnError
from . import datapath, kinds, layout, plan
from . import encodings as enc
from .accelergy.ert import Ert, ErtReport
from .arch import Arch
from .encodings.base import BITMAP, PIXELS, ROLES, VALUES, Cost, ceil  # fmt: skip

N_ROLES = len(ROLES)


@dataclass
class Evaluation:
    """Arrays of one evaluate() call; ``summary()`` and :mod:`.tables` turn them into tables.

    Array instances are (pair × memory × role), indexed ``memory_instance · N_ROLES + role``.
    """

    pairs: Sequence[tuple[Arch, Trace]]
    mem_pair: np.ndarray  # per memory instance: its pair
    mem_local: np.ndarray  # its index within the arch
    width: np.ndarray  # per array instance: word bits (0: unused)
    depth: np.ndarray  # words
    costs: np.ndarray  # [read_J, write_J, leak_W, area_m2, cycle_s]
    kind: np.ndarray  # kinds.KINDS index
    sources: list[str]
    acc_pair: np.ndarray  # per (pair × access row)
    acc_row: np.ndarray  # access row index within the trace
    acc_mem: np.ndarray  # memory instance
    keep: np.ndarray  # the row counts (not the unchosen propagation variant)
    reads: np.ndarray  # [row, role] array reads (zero where not kept)
    writes: np.ndarray
    memory_J: np.ndarray  # [row, role]
    controller_J: np.ndarray
    datapath_J: np.ndarray
    traversal: np.ndarray  # per (pair × tensor): 1 row, 2 col, 0 no propagation traced
    phase_time_s: np.ndarray  # [pair, phase]
    leak_J: np.ndarray  # [array instance, phase]
    controller_per_access: np.ndarray | None = None  # per memory instance, J
    operands: datapath.Operands | None = None  # per access row (datapath.operations)
    access: Cost | None = None  # per access row: values touched and control operations
    ert_report: ErtReport | None = None  # what a user's ERT (evaluate(ert=...)) replaced

    def stage_energy(self, pair: int) -> np.ndarray:
        """Array, controller and datapath energy (J, no leakage) of ``pair`` per stage, in
        plan.STAGES order: what energy.csv's rows of those stages sum to."""
        sel = np.flatnonzero(self.acc_pair == pair)
        stage = plan.trace_arrays(self.pairs[pair][1]).a_stage[self.acc_row[sel]]
        total = self.memory_J[sel].sum(1) + self.controller_J[sel] + self.datapath_J[sel]
        return np.bincount(stage, total, minlength=len(plan.STAGES))

    @property
    def used(self) -> np.ndarray:
        return self.width * self.depth > 0

    def summary(self) -> pd.DataFrame:
        """One row per pair: energies per phase, per epoch and per inference, area, leakage."""
        n = len(self.pairs)
        acc_phase = np.concatenate([plan.trace_arrays(t).a_phase for _, t in self.pairs])
        parts = {
            "memory": self.memory_J.sum(1),
            "controller": self.controller_J,
            "datapath": self.datapath_J,
        }
        totals = {}
        for name, values in parts.items():
            total = np.zeros((n, 2))
            np.add.at(total, (self.acc_pair, acc_phase), values)
            totals[name] = total
        inst_pair = np.repeat(self.mem_pair, N_ROLES)
        leak = np.zeros((n, 2))
        np.add.at(leak, inst_pair, self.leak_J)
        total = totals["memory"] + totals["controller"] + totals["datapath"] + leak
        epochs = np.array([plan.trace_arrays(t).epochs for _, t in self.pairs], float)
        infers = np.array([plan.trace_arrays(t).infer_samples for _, t in self.pairs], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_epoch = np.where(epochs > 0, total[:, 0] / epochs, np.nan)
            per_infer = np.where(infers > 0, total[:, 1] / infers, np.nan)
        capacity = self.width * self.depth
        return pd.DataFrame(
            {
                "arch": [a.name for a, _ in self.pairs],
                "trace": [t.folder for _, t in self.pairs],
                "train_J": total[:, 0],
                "infer_J": total[:, 1],
                "energy_per_epoch_J": per_epoch,
                "energy_per_inference_J": per_infer,
                "train_memory_J": totals["memory"][:, 0],
                "train_controller_J": totals["controller"][:, 0],
                "train_datapath_J": totals["datapath"][:, 0],
                "train_leakage_J": leak[:, 0],
                "area_m2": np.bincount(inst_pair, self.costs[:, 3], minlength=n),
                "leakage_W": np.bincount(inst_pair, self.costs[:, 2], minlength=n),
                "capacity_bits": np.bincount(inst_pair, capacity, minlength=n),
                "train_time_s": self.phase_time_s[:, 0],
                "infer_time_s": self.phase_time_s[:, 1],
            }
        )


def evaluate(pairs: Sequence[tuple[Arch, Trace]], ert: Ert | None = None) -> Evaluation:
    """Price every (arch, trace) pair; all the arithmetic is vectorised across pairs. ``ert``
    (:func:`.accelergy.ert.load_ert`) replaces the costs of the components it names."""
    if not pairs:
        raise QsnnError("nothing to estimate: no (arch, trace) pairs")
    mems = plan.Stack([plan.arch_arrays(a) for a, _ in pairs], "names")
    tens = plan.Stack([plan.trace_arrays(t) for _, t in pairs], "keys")
    m = {f: mems.field(f) for f in plan.ArchArrays.__dataclass_fields__ if f not in _SKIP}
    node = np.array([a.tech_node_nm for a, _ in pairs])[mems.pair]
    ten_mem = mems.start[tens.pair] + np.concatenate([plan.owners(a, t) for a, t in pairs])
    t = {f: tens.field(f) for f in _TENSOR_FIELDS}
    stored = layout.stored(pairs, mems, tens, m, t, ten_mem)

    # Arrays: each role of each memory holds the role's words of every tensor it stores.
    words = enc.storage_words(stored.code, stored.layout)
    pixels = ceil(t["u_rows"] / stored.layout.fields[:, PIXELS])
    words[:, PIXELS] = np.where(stored.shared, pixels, 0.0)
    n_arrays = len(mems.pair) * N_ROLES
    flat = (ten_mem[:, None] * N_ROLES + np.arange(N_ROLES)).ravel()
    need = np.bincount(flat, words.ravel(), minlength=n_arrays)
    width = np.zeros(n_arrays)
    np.maximum.at(width, flat, (stored.layout.width * (words > 0)).ravel())
    depth = _depths(pairs, mems, m, need, width)
    kind = np.where(m["kind_reg"].ravel(), 1, 0)
    costs, sources = _array_costs(pairs, mems, node, width, depth, m, kind)
    per_access = datapath.controller_J(node)
    report = ert and ert.apply(pairs, mems.pair, mems.local, width, costs, sources, per_access)

    # Access rows.
    acc = plan.Stack(tens.items, "a_tensor")
    acc_ten = tens.start[acc.pair] + acc.field("a_tensor")
    acc_mem = ten_mem[acc_ten]
    a = {f: acc.field(f) for f in _ACCESS_FIELDS}
    walk, pixel_reads = layout.walk(stored, acc_ten, a)
    row_layout = stored.layout.take(acc_ten)
    cost = enc.access_cost(stored.code[acc_ten], row_layout, walk)
    cost.reads[:, PIXELS] += pixel_reads
    base = acc_mem[:, None] * N_ROLES + np.arange(N_ROLES)
    memory_J = cost.reads * costs[base, 0] + cost.writes * costs[base, 1]
    controller_J = (cost.reads + cost.writes).sum(1) * per_access[acc_mem]
    operands = datapath.Operands(
        node_nm=node[acc_mem], stage=a["a_stage"], pattern=walk.pattern,
        is_weight=t["is_weight"][acc_ten], is_write=walk.is_write.astype(bool), n=walk.n,
        weight_bits=a["a_bits"], state_bits=t["state_bits"][acc_ten],
        error_bits=t["error_bits"][acc_ten], bitmap_bits=row_layout.width[:, BITMAP],
        idx_bits=row_layout.idx_bits, ptr_bits=row_layout.ptr_bits,
    )  # fmt: skip
    datapath_J = datapath.datapath_J(operands, cost)

    # Error propagation: keep the traversal the memory asks for, or the cheaper one.
    row_energy = memory_J.sum(1) + controller_J + datapath_J
    traversal, keep = _choose_traversal(
        a["a_traversal"], acc_ten, row_energy, m["propagation"][ten_mem], len(ten_mem)
    )
    for arr in (cost.reads, cost.writes, memory_J):
        arr *= keep[:, None]
    controller_J = controller_J * keep
    datapath_J = datapath_J * keep

    phase_time, leak = _cycles_and_leakage(pairs, mems, m, costs, base, cost, a["a_phase"])
    return Evaluation(
        pairs, mems.pair, mems.local, width, depth, costs, kind, sources, acc.pair, acc.local,
        acc_mem, keep, cost.reads, cost.writes, memory_J, controller_J, datapath_J, traversal,
        phase_time, leak, per_access, operands, cost, report,
    )  # fmt: skip


_SKIP = ("names", "holds_key")
_TENSOR_FIELDS = (
    "is_weight", "kernel", "rows", "cols", "nnz", "bits", "u_rows", "u_cols", "u_nnz", "k_in",
    "k_out_k2", "k2", "col_run", "state_bits", "error_bits",
)  # fmt: skip
_ACCESS_FIELDS = (
    "a_phase", "a_stage", "a_op", "a_pattern", "a_traversal", "a_bits", "a_accesses",
    "a_elements", "a_nonzero",
)  # fmt: skip


def _choose_traversal(variant, acc_ten, energy, propagation, n_tensors):
    """Per tensor the propagation kept (1 row, 2 col; 0 none traced) and a keep mask per row."""
    totals = np.bincount(acc_ten * 3 + variant, energy, minlength=n_tensors * 3).reshape(-1, 3)
    traced = np.bincount(acc_ten * 3 + variant, minlength=n_tensors * 3).reshape(-1, 3) > 0
    cheaper = np.where(totals[:, 1] <= totals[:, 2], 1, 2)
    choice = np.where(propagation == 0, cheaper, propagation)
    choice = np.where(traced[:, 1] | traced[:, 2], choice, 0)
    keep = (variant == 0) | (variant == choice[acc_ten])
    return choice, keep.astype(float)


def _depths(pairs, mems, m, need, width) -> np.ndarray:
    """Words per array: ``auto`` sizes every array to its contents (a multiple of the banks);
    an explicit depth is the value array's and must hold it."""
    banks = np.repeat(m["banks"], N_ROLES)
    explicit = np.repeat(m["depth"], N_ROLES)
    is_values = np.tile(np.arange(N_ROLES) == VALUES, len(mems.pair))
    short = is_values & (explicit >= 0) & (explicit < need)
    if short.any():
        i = int(np.flatnonzero(short)[0]) // N_ROLES
        raise QsnnError(
            f"{_where(pairs, mems, i)}: field 'depth' = {int(explicit[i * N_ROLES])} but its "
            f"tensors need {int(need[i * N_ROLES])} words (allowed: >= "
            f"{int(need[i * N_ROLES])}, or auto)"
        )
    sized = ceil(need / banks) * banks
    depth = np.where(is_values & (explicit >= 0), explicit, sized)
    return np.where(width > 0, depth, 0.0)


def _where(pairs, mems, i: int, role: int | None = None) -> str:
    arch = pairs[mems.pair[i]][0]
    text = f"arch '{arch.name}', memory '{arch.memories[mems.local[i]].name}'"
    return text if role is None else f"{text}, array '{ROLES[role]}'"


def _array_costs(pairs, mems, node, width, depth, m, kind):
    n_arrays = len(width)
    costs = np.zeros((n_arrays, len(kinds.QUANTITIES)))
    sources = [""] * n_arrays
    used = width * depth > 0
    mem = np.arange(n_arrays) // N_ROLES
    rules = [(a.backend, a.narrow_words) for a, _ in pairs]
    unique = sorted(set(rules))
    rule = np.array([unique.index(r) for r in rules])[mems.pair][mem]
    banks, ports = m["banks"][mem], m["ports"][mem]
    for k, module in enumerate(kinds.REGISTRY.values()):
        for r, (name, narrow) in enumerate(unique):
            sel = np.flatnonzero(used & (kind == k) & (rule == r))
            if not len(sel):
                continue
            args = (node[mem[sel]], width[sel] * depth[sel], width[sel], banks[sel], ports[sel])
            try:
                values, src = module.cost(name, *args, narrow=narrow)
            except QsnnError as exc:
                message = _first_bad(pairs, mems, module, name, sel, args, narrow) or str(exc)
                raise QsnnError(message) from None
            costs[sel] = values
            for i, s in zip(sel, src, strict=True):
                sources[i] = s
    return costs, sources


def _first_bad(pairs, mems, module, backend, sel, args, narrow):
    """Re-price the failing arrays one at a time to name the memory and array."""
    for j, i in enumerate(sel):
        try:
            module.cost(backend, *(x[j : j + 1] for x in args), narrow=narrow)
        except QsnnError as exc:
            return (
                f"{_where(pairs, mems, i // N_ROLES, i % N_ROLES)} ({int(args[1][j])} bits in "
                f"{int(args[2][j])}-bit words): {exc}"
            )
    return None


def _cycles_and_leakage(pairs, mems, m, costs, base, cost, phase):
    clock = np.array([ar.clock_hz for ar, _ in pairs])
    n_arrays = len(costs)
    mem = np.arange(n_arrays) // N_ROLES
    per_access = np.maximum(1.0, ceil(costs[:, 4] * clock[mems.pair][mem]))
    busy = np.zeros((n_arrays, 2))
    flat_phase = np.repeat(phase, N_ROLES)
    np.add.at(busy, (base.ravel(), flat_phase), (cost.reads + cost.writes).ravel())
    cycles = busy * per_access[:, None]
    per_memory = np.zeros((len(mems.pair), 2))
    np.add.at(per_memory, mem, cycles)
    per_memory /= (m["banks"] * m["ports"])[:, None]
    phase_time = np.zeros((len(pairs), 2))
    np.maximum.at(phase_time, mems.pair, per_memory / clock[mems.pair, None])
    leak = costs[:, 2:3] * phase_time[mems.pair][mem]
    return phase_time, leak
