"""Price traced runs in memory organizations: energy = Σ words × energy per word + logic + leakage.

:func:`evaluate` takes any number of (architecture, trace) pairs and computes all of them with
array operations (10,000 pairs in well under 2 s with the table backend); :func:`estimate`
is the one-pair convenience that also returns the detailed tables the CLI writes.

Cycle model (for leakage): each bank serves one word per port per cycle, accesses spread
evenly over banks, and an SRAM whose random cycle time exceeds the clock period takes
``⌈t_cycle · f_clock⌉`` clock cycles per access. A phase lasts as long as its busiest memory
needs (compute is assumed to keep up); every memory leaks for the whole phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import QsnnError
from . import components, plan
from . import encodings as enc
from .accesses import Trace
from .arch import Arch


@dataclass
class Evaluation:
    """Arrays of one evaluate() call; ``summary()`` and ``detail()`` turn them into tables."""

    pairs: Sequence[tuple[Arch, Trace]]
    inst_pair: np.ndarray  # per memory instance (pair × memory): its pair
    inst_mem: np.ndarray  # its memory index within the arch
    capacity_bits: np.ndarray
    costs: np.ndarray  # [read_J, write_J, leak_W, area_m2, cycle_s] per instance
    sources: list[str]
    acc_pair: np.ndarray  # per (pair × access row)
    acc_row: np.ndarray  # access row index within the trace
    acc_inst: np.ndarray
    words: np.ndarray  # read + write words
    dyn_J: np.ndarray
    logic_J: np.ndarray
    phase_time_s: np.ndarray  # [pair, phase]
    leak_J: np.ndarray  # [instance, phase]

    def summary(self) -> pd.DataFrame:
        """One row per pair: energies per phase, per epoch and per inference, area, leakage."""
        n = len(self.pairs)
        total = np.zeros((n, 2))
        acc_phase = np.concatenate([plan.trace_arrays(t).a_phase for _, t in self.pairs])
        np.add.at(total, (self.acc_pair, acc_phase), self.dyn_J + self.logic_J)
        np.add.at(total, (self.inst_pair, slice(None)), self.leak_J)
        epochs = np.array([plan.trace_arrays(t).epochs for _, t in self.pairs], float)
        infers = np.array([plan.trace_arrays(t).infer_samples for _, t in self.pairs], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_epoch = np.where(epochs > 0, total[:, 0] / epochs, np.nan)
            per_infer = np.where(infers > 0, total[:, 1] / infers, np.nan)
        return pd.DataFrame(
            {
                "arch": [a.name for a, _ in self.pairs],
                "trace": [t.folder for _, t in self.pairs],
                "train_J": total[:, 0],
                "infer_J": total[:, 1],
                "energy_per_epoch_J": per_epoch,
                "energy_per_inference_J": per_infer,
                "area_m2": np.bincount(self.inst_pair, self.costs[:, 3], minlength=n),
                "leakage_W": np.bincount(self.inst_pair, self.costs[:, 2], minlength=n),
                "capacity_bits": np.bincount(self.inst_pair, self.capacity_bits, minlength=n),
                "train_time_s": self.phase_time_s[:, 0],
                "infer_time_s": self.phase_time_s[:, 1],
            }
        )


def evaluate(pairs: Sequence[tuple[Arch, Trace]]) -> Evaluation:
    """Price every (arch, trace) pair; all the arithmetic is vectorised across pairs."""
    if not pairs:
        raise QsnnError("nothing to estimate: no (arch, trace) pairs")
    archs = _Stack([plan.arch_arrays(a) for a, _ in pairs], "names")
    traces = _Stack([plan.trace_arrays(t) for _, t in pairs], "keys")
    owner = np.concatenate([plan.owners(a, t) for a, t in pairs])
    inst_pair, inst_mem, inst_start = archs.pair, archs.local, archs.start
    word, banks, ports, depth, code, run_bits, kind_reg = (
        archs.field(f) for f in ("word", "banks", "ports", "depth", "code", "run_bits", "kind_reg")
    )
    node = np.array([a.tech_node_nm for a, _ in pairs])[inst_pair]

    # Per (pair × tensor): the stored geometry under the owning memory's encoding.
    ten_pair, ten_start = traces.pair, traces.start
    ten_inst = inst_start[ten_pair] + owner
    t = {
        f: traces.field(f)
        for f in (
            "is_weight",
            "kernel",
            "rows",
            "cols",
            "nnz",
            "bits",
            "u_rows",
            "u_cols",
            "u_nnz",
            "k_in",
            "k_out_k2",
            "k2",
        )
    }
    mem_code = code[ten_inst]
    t_code = np.where(t["is_weight"], mem_code, enc.DENSE)
    t_code = np.where((t_code == enc.FUNCTIONAL) & ~t["kernel"], enc.CROSSBAR, t_code)
    functional = t_code == enc.FUNCTIONAL
    unrolled = t["kernel"] & ~functional
    shape = enc.Shape(
        code=t_code,
        rows=np.where(functional, t["k_in"], np.where(unrolled, t["u_rows"], t["rows"])),
        cols=np.where(functional, t["k_out_k2"], np.where(unrolled, t["u_cols"], t["cols"])),
        nnz=np.where(unrolled, t["u_nnz"], t["nnz"]),
        bits=t["bits"],
        word=word[ten_inst],
        kernel_k2=np.where(functional, t["k2"], 1.0),
        run_bits=run_bits[ten_inst],
    )
    needed = np.bincount(ten_inst, enc.storage_words(shape), minlength=len(inst_pair))
    depth = _resolve_depth(pairs, inst_pair, inst_mem, depth, needed, banks)
    capacity = depth * word
    costs, sources = _memory_costs(
        pairs, inst_pair, inst_mem, node, capacity, word, banks, ports, kind_reg
    )

    # Per (pair × access row).
    acc = _Stack(traces.items, "a_tensor")
    acc_pair, acc_row = acc.pair, acc.local
    acc_ten = ten_start[acc_pair] + acc.field("a_tensor")
    a = {
        f: acc.field(f)
        for f in ("a_phase", "a_op", "a_pattern", "a_bits", "a_accesses", "a_elements", "a_nonzero")
    }
    ashape = enc.Shape(**{f: getattr(shape, f)[acc_ten] for f in enc.Shape.__dataclass_fields__})
    ashape.bits = a["a_bits"]
    # An index-based encoding stores every unrolled copy of a shared kernel weight, so one
    # element access of the kernel touches unrolled_nonzero / nonzero stored synapses.
    copies = np.where(unrolled, t["u_nnz"] / np.maximum(t["nnz"], 1.0), 1.0)[acc_ten]
    rep = np.where(a["a_pattern"] == enc.ELEM, copies, 1.0)
    cost = enc.access_cost(
        ashape,
        a["a_pattern"],
        a["a_op"] == 1,
        a["a_accesses"] * rep,
        a["a_elements"] * rep,
        a["a_nonzero"] * rep,
    )
    acc_inst = ten_inst[acc_ten]
    words = cost.read_words + cost.write_words
    dyn = cost.read_words * costs[acc_inst, 0] + cost.write_words * costs[acc_inst, 1]
    logic = components.logic_energy(
        node[acc_inst], cost.adds, cost.compares, cost.popcounts, word[acc_inst]
    )

    # Cycle model and leakage.
    clock = np.array([ar.clock_hz for ar, _ in pairs])
    per_access = np.maximum(1.0, np.ceil(costs[:, 4] * clock[inst_pair] - 1e-9))
    busy = np.zeros((len(inst_pair), 2))
    np.add.at(busy, (acc_inst, a["a_phase"]), words)
    cycles = busy * (per_access / (banks * ports))[:, None]
    phase_time = np.zeros((len(pairs), 2))
    np.maximum.at(phase_time, inst_pair, cycles / clock[inst_pair, None])
    leak = costs[:, 2:3] * phase_time[inst_pair]
    return Evaluation(
        pairs,
        inst_pair,
        inst_mem,
        capacity,
        costs,
        sources,
        acc_pair,
        acc_row,
        acc_inst,
        words,
        dyn,
        logic,
        phase_time,
        leak,
    )


def _where(pairs, inst_pair, inst_mem, i: int) -> str:
    arch = pairs[inst_pair[i]][0]
    return f"arch '{arch.name}', memory '{arch.memories[inst_mem[i]].name}'"


def _resolve_depth(pairs, inst_pair, inst_mem, depth, needed, banks) -> np.ndarray:
    auto = depth < 0
    short = ~auto & (depth < needed)
    if short.any():
        i = int(np.flatnonzero(short)[0])
        raise QsnnError(
            f"{_where(pairs, inst_pair, inst_mem, i)}: field 'depth' = {int(depth[i])} "
            f"but its tensors need {int(needed[i])} words (allowed: >= "
            f"{int(needed[i])}, or auto)"
        )
    sized = np.ceil(needed / banks) * banks
    return np.where(auto, sized, depth)


def _memory_costs(pairs, inst_pair, inst_mem, node, capacity, word, banks, ports, kind_reg):
    costs = np.zeros((len(inst_pair), 5))
    sources = [components.SOURCE_REG] * len(inst_pair)
    used = capacity > 0
    reg = kind_reg & used
    if reg.any():
        costs[reg] = components.regfile_cost(node[reg], capacity[reg], word[reg])
    backend = np.array([a.backend for a, _ in pairs])[inst_pair]
    for name in ("table", "cacti"):
        m = ~kind_reg & used & (backend == name)
        if not m.any():
            continue
        idx = np.flatnonzero(m)
        try:
            values, src = components.sram_cost(
                name, node[m], capacity[m], word[m], banks[m], ports[m]
            )
        except QsnnError as exc:
            raise QsnnError(
                _first_bad(
                    pairs, inst_pair, inst_mem, idx, node, capacity, word, banks, ports, name
                )
                or str(exc)
            ) from None
        costs[m] = values
        for i, s in zip(idx, src, strict=True):
            sources[i] = s
    return costs, sources


def _first_bad(pairs, inst_pair, inst_mem, idx, node, capacity, word, banks, ports, backend):
    """Re-run the failing lookup one memory at a time to name the memory in the message."""
    for i in idx:
        try:
            components.sram_cost(
                backend,
                node[i : i + 1],
                capacity[i : i + 1],
                word[i : i + 1],
                banks[i : i + 1],
                ports[i : i + 1],
            )
        except QsnnError as exc:
            return (
                f"{_where(pairs, inst_pair, inst_mem, i)} ({int(capacity[i])} bits, "
                f"{int(word[i])}-bit words): {exc}"
            )
    return None


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For items counted per pair: each item's pair, its index within the pair, pair starts."""
    pair = np.repeat(np.arange(len(counts)), counts)
    start = np.cumsum(counts) - counts
    return pair, np.arange(int(counts.sum())) - start[pair], start


class _Stack:
    """Per-pair numeric views (shared objects) with their arrays stacked once per unique view."""

    def __init__(self, items: list, count_field: str) -> None:
        self.items = items
        index: dict[int, int] = {}
        self.unique: list = []
        self.which = np.empty(len(items), dtype=np.int64)
        for i, item in enumerate(items):
            j = index.setdefault(id(item), len(self.unique))
            if j == len(self.unique):
                self.unique.append(item)
            self.which[i] = j
        sizes = np.array([len(getattr(u, count_field)) for u in self.unique], dtype=np.int64)
        self.counts = sizes[self.which]
        self.pair, self.local, self.start = _expand(self.counts)
        self._index = (np.cumsum(sizes) - sizes)[self.which][self.pair] + self.local

    def field(self, name: str) -> np.ndarray:
        """Field ``name`` for every (pair, item), in pair order."""
        stacked = np.concatenate([np.asarray(getattr(u, name)) for u in self.unique])
        return stacked[self._index]
