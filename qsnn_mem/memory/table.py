"""The default SRAM backend: a committed grid of CACTI 7 results, interpolated.

The live backend (:func:`qsnn_mem.memory.cacti.query`) prices a memory by four rules: CACTI runs
only at its calibrated nodes (outputs linear in the node between them), a width between two
powers of two is interpolated between them at the same depth, and a capacity inside
(2^k, 2^(k+1)) uses the array organisation CACTI chose for 2^(k+1). The table holds, at every
calibrated node, power-of-two width (8-256 bits), bank count (1, 2, 4, 8) and port count (1, 2):

* ``top`` points: the cost at each power-of-two capacity 2^10..2^25 bits (CACTI's own optimum);
* ``p0``..``p5``: six points in each cell (2^k, 2^(k+1)], priced with the organisation of
  2^(k+1), evenly spaced in log2(capacity) from one subarray row above 2^k to one row below
  2^(k+1) (:func:`qsnn_mem.memory.cacti.cell_interior`).

:func:`lookup` applies the node and width rules exactly and, inside a cell, interpolates
log(value) piecewise linearly in log(capacity) through the cell's points; below ``p0`` the cell
costs ``p0`` and above ``p5`` its top (the same rows per subarray). Within one organisation cost
is smooth in size, so this follows live CACTI closely (measured in docs/memory.md).
:func:`generate` runs CACTI over the grid through :func:`qsnn_mem.memory.cacti.cell_cost` and
writes ``data/cacti_table.csv`` plus ``data/cacti_table.json`` (provenance).
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
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
    "node_nm": cacti.NODES_NM,
    "word_bits": (8, 16, 32, 64, 128, 256),
    "banks": (1, 2, 4, 8),
    "ports": (1, 2),
    "capacity_bits": tuple(2**e for e in range(10, 26)),
}
QUANTITIES = cacti.QUANTITIES
ENERGY = slice(0, 2)
SIZE = slice(2, 4)  # leakage and area
TABLE_FILE = "cacti_table.csv"
CELL_POINTS = 6  # priced capacities inside each cell, from one row above 2^k to one below
POINTS = ("top", *(f"p{i}" for i in range(CELL_POINTS)))
CONFIG_KEYS = ("node_nm", "word_bits", "banks", "ports")  # the table's axes besides capacity


def data_path(name: str) -> Path:
    return Path(str(resources.files("qsnn_mem.memory") / "data" / name))


def cell_capacities(node_nm, k: int, word: int, banks: int, ports: int) -> tuple[int, ...]:
    """The capacities priced inside cell (2^k, 2^(k+1)]: from one subarray row above 2^k to
    one row below 2^(k+1) (:func:`qsnn_mem.memory.cacti.cell_interior`), evenly in log2."""
    low, high = cacti.cell_interior(node_nm, k, word, banks, ports)
    steps = np.linspace(np.log2(low), np.log2(high), CELL_POINTS)
    inner = [min(high, max(low, round(2**e / word) * word)) for e in steps[1:-1]]
    return (low, *inner, high)


def _series(key: tuple, exps: list[int]) -> list[dict]:
    """Every table row of one (node, word, banks, ports): tops first, then each cell's points."""
    node, word, banks, ports = key
    rows = []

    def add(point: str, cap: int, k: int) -> None:
        cost = cacti.cell_cost(node, cap, word, banks, ports)
        config = {"node_nm": node, "capacity_bits": cap, "word_bits": word, "banks": banks}
        rows.append({"point": point, **config, "ports": ports, "cell_exp": k, **asdict(cost)})

    for k in exps:
        add("top", 2**k, -1)
    for k in exps[:-1]:
        caps = cell_capacities(node, k, word, banks, ports)
        for point, cap in zip(POINTS[1:], caps, strict=True):
            add(point, cap, k)
    return rows


def generate(
    out_dir: Path | None = None, workers: int = 2, grid: dict | None = None, progress=None
) -> pd.DataFrame:
    """Run CACTI over ``grid`` (default :data:`GRID`) and write the table and its provenance."""
    grid = grid or GRID
    cacti.build()
    exps = [int(np.log2(c)) for c in grid["capacity_bits"]]
    keys = list(itertools.product(*(grid[k] for k in CONFIG_KEYS)))
    rows = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for n, part in enumerate(pool.map(lambda key: _series(key, exps), keys)):
            rows.extend(part)
            if progress is not None:
                progress(n + 1, len(keys))
    frame = pd.DataFrame(rows)
    out = Path(out_dir) if out_dir else data_path("")
    write_csv(out / TABLE_FILE, frame)
    write_json(
        out / "cacti_table.json",
        {
            "generator": "qsnn-mem cacti table (qsnn_mem.memory.table.generate)",
            "cacti": cacti.CACTI_ID,
            "cacti_settings": "itrs-lstp cells and periphery, 300 K, cache type ram, UCA; "
            "organisation chosen by ED^2 at power-of-two capacities (see cacti.py)",
            "grid": {k: list(v) for k, v in grid.items()},
            "rows": len(frame),
            "scaled_rows": int((frame["source"] != "cacti7").sum()),
            "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "host": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        },
    )
    load.cache_clear()
    return frame


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The grid axes and, per point kind, arrays [node, word, banks, ports, cell(, quantity)].

    ``top`` has one cell per grid capacity, the others one per cell between two (cell j spans
    grid capacities j and j+1); ``<point>_log2`` holds log2 of each point's capacity.
    """
    file = Path(path) if path else data_path(TABLE_FILE)
    if not file.is_file():
        raise QsnnError(f"{file}: CACTI table missing (run: qsnn-mem cacti table)")
    frame = pd.read_csv(file)
    missing = {"point", "cell_exp", *GRID, *QUANTITIES} - set(frame.columns)
    if missing:
        raise QsnnError(
            f"{file}: columns {sorted(missing)} missing (regenerate it: qsnn-mem cacti table)"
        )
    tops = frame[frame["point"] == "top"]
    axes = {k: np.array(sorted(tops[k].unique()), dtype=float) for k in GRID}
    shape = [len(axes[k]) for k in CONFIG_KEYS]
    arrays = {}
    for point in POINTS:
        part = frame[frame["point"] == point]
        cells = len(axes["capacity_bits"]) - (point != "top")
        idx = [np.searchsorted(axes[k], part[k].to_numpy(float)) for k in CONFIG_KEYS]
        exp = np.where(point == "top", np.log2(part["capacity_bits"]), part["cell_exp"])
        cell = (exp - np.log2(axes["capacity_bits"][0])).astype(int)
        values = np.full([*shape, cells, len(QUANTITIES)], np.nan)
        values[(*idx, cell)] = part[list(QUANTITIES)].to_numpy(float)
        where = np.full([*shape, cells], np.nan)
        where[(*idx, cell)] = np.log2(part["capacity_bits"].to_numpy(float))
        if np.isnan(values).any() or (values <= 0).any():
            raise QsnnError(f"{file}: the grid has holes (regenerate it: qsnn-mem cacti table)")
        arrays[point], arrays[f"{point}_log2"] = values, where
    return axes, arrays


def lookup(node_nm, capacity_bits, word_bits, banks, ports, path: str | None = None) -> np.ndarray:
    """[read_J, write_J, leak_W, area_m2, cycle_s] for arrays of configurations.

    Arguments broadcast against each other; the result has shape ``(n, 5)``. Values outside
    the table raise QsnnError (the caller names the memory).
    """
    axes, arrays = load(path)
    node, cap, word, bank, port = (
        np.atleast_1d(np.asarray(v, dtype=float))
        for v in np.broadcast_arrays(node_nm, capacity_bits, word_bits, banks, ports)
    )
    _check_range("tech_node_nm", node, axes["node_nm"])
    _check_range("word_bits", word, [1, axes["word_bits"][-1]], " (backend: cacti takes any width)")
    # Rule 2: the two power-of-two widths around the width, at the same depth (8 bits below 8).
    depth = np.maximum(1, np.ceil(cap / word))
    lo = np.maximum(cacti.MIN_WORD_BITS, 2.0 ** np.floor(np.log2(word)))
    tw = np.clip(np.log2(word / lo), 0, None)
    hi = np.where(tw > 0, 2 * lo, lo)
    largest = axes["capacity_bits"][-1]
    above = depth * hi > largest
    if above.any():
        i = int(np.flatnonzero(above)[0])
        what = f"capacity {int(cap[i])} bits"
        if hi[i] != word[i]:
            what += f" in {int(word[i])}-bit words (priced up to {int(depth[i] * hi[i])} bits)"
        raise QsnnError(
            f"{what} is above the CACTI table's largest ({int(largest)} bits); use backend: cacti"
        )
    w_lo = _exact_index("word_bits", lo, axes["word_bits"])
    w_hi = _exact_index("word_bits", hi, axes["word_bits"])
    bi = _exact_index("banks", bank, axes["banks"])
    pi = _exact_index("ports", port, axes["ports"])
    # Rule 1: linear in the node between the two calibrated nodes around it.
    nodes = axes["node_nm"]
    n_lo = np.clip(np.searchsorted(nodes, node, side="right") - 1, 0, len(nodes) - 2)
    t = ((node - nodes[n_lo]) / (nodes[n_lo + 1] - nodes[n_lo]))[:, None]
    out = np.zeros((len(node), len(QUANTITIES)))
    for ni, weight in ((n_lo, 1 - t), (n_lo + 1, t)):
        if not weight.any():  # every node on the grid: one side is enough
            continue
        value = _at_node(arrays, axes, ni, w_lo, bi, pi, depth * lo)
        if tw.any():  # some width between two powers of two
            v_hi = _at_node(arrays, axes, ni, w_hi, bi, pi, depth * hi)
            value = value ** (1 - tw[:, None]) * v_hi ** tw[:, None]
        out += weight * value
    # Below 8 bits: priced at 8 bits (hwcomponents-cacti's scaling).
    r = np.minimum(word / cacti.MIN_WORD_BITS, 1.0)
    out[:, ENERGY] *= (0.7 * r + 0.3)[:, None]
    out[:, SIZE] *= r[:, None]
    return out


def _at_node(arrays, axes, ni, wi, bi, pi, cap) -> np.ndarray:
    """Rule 3 at calibrated node index ``ni``, power-of-two width index ``wi``."""
    smallest = axes["capacity_bits"][0]
    x = np.log2(np.maximum(cap, smallest))
    cell = np.clip(np.floor(x - np.log2(smallest)).astype(int), 0, arrays["p0"].shape[4] - 1)
    at = (ni, wi, bi, pi, cell)
    rows = np.arange(len(cap))
    xs = np.stack([arrays[f"{p}_log2"][at] for p in POINTS[1:]], axis=1)  # [n, points]
    vs = np.stack([np.log(arrays[p][at]) for p in POINTS[1:]], axis=1)  # [n, points, quantity]
    top = np.log(arrays["top"][ni, wi, bi, pi])  # [n, capacity, quantity]
    # Piecewise linear through the cell's points; below the first the cell costs the first
    # (same rows per subarray), above the last its top.
    j = np.clip((x[:, None] > xs).sum(axis=1) - 1, 0, CELL_POINTS - 2)
    x0, x1 = xs[rows, j], xs[rows, j + 1]
    v0, v1 = vs[rows, j], vs[rows, j + 1]
    logv = v0 + (v1 - v0) * _fraction(x, x0, x1)
    logv = np.where((x > xs[:, -1])[:, None], top[rows, cell + 1], logv)
    grid = x == np.floor(x)  # a power of two: CACTI's own optimum
    logv[grid] = top[rows[grid], (x[grid] - np.log2(smallest)).astype(int)]
    out = np.exp(logv)
    # Below the grid: scaled from its smallest capacity (energy ∝ capacity^0.78).
    small = np.minimum(cap / smallest, 1.0)[:, None]
    out[:, ENERGY] *= small**cacti.SMALL_ENERGY_EXP
    out[:, SIZE] *= small
    return out


def _fraction(x: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Where x lies between x0 and x1, clipped to [0, 1] (0 where they coincide), as a column."""
    span = x1 - x0
    where = np.divide(x - x0, span, out=np.zeros_like(x), where=span > 0)
    return np.clip(where, 0.0, 1.0)[:, None]


def off_grid_sample(n: int, seed: int, max_exp: float = 24.9) -> np.ndarray:
    """``n`` random (node, capacity, word, banks, ports) rows off the grid in node, width and
    capacity, priced capacity within the table: the points to check it against live CACTI."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        node = round(float(rng.uniform(GRID["node_nm"][0], GRID["node_nm"][-1])), 1)
        word = int(rng.integers(GRID["word_bits"][0], GRID["word_bits"][-1] + 1))
        cap = int(2 ** rng.uniform(11, max_exp)) // word * word
        priced = -(-cap // word) * (1 << (word - 1).bit_length())  # rule 2's wider width
        if node in GRID["node_nm"] or cap & (cap - 1) == 0 or priced > GRID["capacity_bits"][-1]:
            continue
        points.append((node, cap, word, rng.choice(GRID["banks"]), rng.choice(GRID["ports"])))
    return np.array(points, dtype=float)


def _check_range(field: str, x: np.ndarray, axis, hint: str = "") -> None:
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
