"""The default SRAM backend: a committed grid of CACTI 7 results, interpolated.

The grid (:data:`GRID`) covers nodes 22-90 nm, capacities 2^10-2^25 bits, words 8-256 bits,
1-8 banks and 1-2 read-write ports. :func:`generate` runs the real CACTI over it (through
:func:`qsnn_mem.memory.cacti.query`, so small arrays get the same documented fallback as the
live backend) and writes ``data/cacti_table.csv`` plus ``data/cacti_table.json`` (provenance).

:func:`lookup` interpolates all quantities at once for arrays of configurations: log(value) linearly
over log2(capacity) and log2(word) (SRAM energy and area follow power laws in both), and over
the node (leakage: the value itself, linearly over the node).
Capacities below the grid are priced by the fallback's scaling rule (energy ∝ capacity^0.78,
area and leakage ∝ capacity) from the smallest grid capacity.
"""

from __future__ import annotations

import datetime as _dt
import functools
import platform
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import QsnnError
from ..io import write_csv, write_json
from . import cacti

GRID = {
    "node_nm": (22, 32, 45, 65, 90),
    "word_bits": (8, 16, 32, 64, 128, 256),
    "banks": (1, 2, 4, 8),
    "ports": (1, 2),
    "capacity_bits": tuple(2**e for e in range(10, 26)),
}
QUANTITIES = ("read_J", "write_J", "leak_W", "area_m2", "cycle_s")
LEAK_INDEX = 2
TABLE_FILE = "cacti_table.csv"
SMALL_ENERGY_EXP = 0.78  # energy ∝ capacity^0.78 below the grid (same rule as cacti.query)


def data_path(name: str) -> Path:
    return Path(str(resources.files("qsnn_mem.memory") / "data" / name))


def generate(
    out_dir: Path | None = None, workers: int = 2, grid: dict | None = None, progress=None
) -> pd.DataFrame:
    """Run CACTI over ``grid`` (default :data:`GRID`) and write the table and its provenance."""
    grid = grid or GRID
    cacti.build()
    configs = [
        cacti.SramConfig(node, cap, word, banks, ports)
        for node in grid["node_nm"]
        for word in grid["word_bits"]
        for banks in grid["banks"]
        for ports in grid["ports"]
        for cap in grid["capacity_bits"]
    ]
    rows = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, (cfg, cost) in enumerate(zip(configs, pool.map(cacti.query, configs), strict=True)):
            rows.append({**asdict(cfg), **asdict(cost)})
            if progress is not None:
                progress(i + 1, len(configs))
    frame = pd.DataFrame(rows)
    out = Path(out_dir) if out_dir else data_path("")
    write_csv(out / TABLE_FILE, frame)
    write_json(
        out / "cacti_table.json",
        {
            "generator": "qsnn-mem cacti table (qsnn_mem.memory.table.generate)",
            "cacti": cacti.CACTI_ID,
            "cacti_settings": "itrs-lstp cells and periphery, 300 K, cache type ram, UCA, "
            "objective leakage-weighted with ED^2 (see qsnn_mem/memory/cacti.py)",
            "grid": {k: list(v) for k, v in grid.items()},
            "rows": len(frame),
            "fallback_rows": int((frame["source"] != "cacti7").sum()),
            "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "host": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        },
    )
    load.cache_clear()
    return frame


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The grid axes and a dense array [node, word, banks, ports, capacity, quantity]."""
    file = Path(path) if path else data_path(TABLE_FILE)
    if not file.is_file():
        raise QsnnError(f"{file}: CACTI table missing (run: qsnn-mem cacti table)")
    frame = pd.read_csv(file)
    axes = {k: np.array(sorted(frame[k].unique()), dtype=float) for k in GRID}
    idx = [np.searchsorted(axes[k], frame[k].to_numpy(float)) for k in GRID]
    values = np.full([len(a) for a in axes.values()] + [len(QUANTITIES)], np.nan)
    values[tuple(idx)] = frame[list(QUANTITIES)].to_numpy(float)
    if np.isnan(values).any():
        raise QsnnError(f"{file}: the grid has holes (regenerate it: qsnn-mem cacti table)")
    return axes, values


def _bracket(axis: np.ndarray, x: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Lower grid index and interpolation weight of ``x`` on ``axis`` (x within the axis)."""
    a = np.log2(axis) if log else axis
    v = np.log2(x) if log else x
    lo = np.clip(np.searchsorted(a, v, side="right") - 1, 0, len(a) - 2)
    w = (v - a[lo]) / (a[lo + 1] - a[lo])
    return lo, np.clip(w, 0.0, 1.0)


def lookup(node_nm, capacity_bits, word_bits, banks, ports, path: str | None = None) -> np.ndarray:
    """Interpolated [read_J, write_J, leak_W, area_m2, cycle_s] for arrays of configurations.

    Arguments broadcast against each other; the result has shape ``(n, 5)``. Values outside
    the table raise QsnnError (the caller names the memory).
    """
    axes, values = load(path)
    node, cap, word, bank, port = (
        np.atleast_1d(np.asarray(v, dtype=float))
        for v in np.broadcast_arrays(node_nm, capacity_bits, word_bits, banks, ports)
    )
    _check_range("tech_node_nm", node, axes["node_nm"])
    _check_range("word_bits", word, axes["word_bits"], " (backend: cacti takes any width)")
    if (cap > axes["capacity_bits"][-1]).any():
        raise QsnnError(
            f"capacity {int(cap.max())} bits is above the CACTI table's largest "
            f"({int(axes['capacity_bits'][-1])} bits); use backend: cacti"
        )
    bi = _exact_index("banks", bank, axes["banks"])
    pi = _exact_index("ports", port, axes["ports"])
    small = np.minimum(cap / axes["capacity_bits"][0], 1.0)
    cap_g = np.maximum(cap, axes["capacity_bits"][0])
    n_lo, n_w = _bracket(axes["node_nm"], node, log=False)
    w_lo, w_w = _bracket(axes["word_bits"], word, log=True)
    c_lo, c_w = _bracket(axes["capacity_bits"], cap_g, log=True)
    logv = np.log(values)
    per_node = []
    for dn in (0, 1):
        inner = np.zeros((len(node), len(QUANTITIES)))
        for dw in (0, 1):
            ww = w_w if dw else 1 - w_w
            for dc in (0, 1):
                wc = c_w if dc else 1 - c_w
                inner += (ww * wc)[:, None] * logv[n_lo + dn, w_lo + dw, bi, pi, c_lo + dc]
        per_node.append(inner)
    wn = n_w[:, None]
    # Energy, area and cycle time: geometric between nodes; leakage: arithmetic (both chosen
    # by comparison with live CACTI at nodes between the grid's).
    out = np.exp((1 - wn) * per_node[0] + wn * per_node[1])
    leak = LEAK_INDEX
    out[:, leak] = (1 - n_w) * np.exp(per_node[0][:, leak]) + n_w * np.exp(per_node[1][:, leak])
    out[:, 0:2] *= (small**SMALL_ENERGY_EXP)[:, None]
    out[:, 2:4] *= small[:, None]
    return out


def _check_range(field: str, x: np.ndarray, axis: np.ndarray, hint: str = "") -> None:
    bad = (x < axis[0]) | (x > axis[-1])
    if bad.any():
        raise QsnnError(
            f"{field} = {x[bad][0]:g} is outside the CACTI table's range "
            f"({axis[0]:g}-{axis[-1]:g}){hint}"
        )


def _exact_index(field: str, x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(axis, x), 0, len(axis) - 1)
    bad = axis[idx] != x
    if bad.any():
        allowed = ", ".join(f"{v:g}" for v in axis)
        raise QsnnError(f"{field} = {x[bad][0]:g} is not in the CACTI table (allowed: {allowed})")
    return idx
