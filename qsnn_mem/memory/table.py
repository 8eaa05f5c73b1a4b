"""The default SRAM backend: a committed grid of CACTI 7 results, priced by the live rules.

The live backend (:func:`qsnn_mem.memory.cacti.query`) prices a memory by four rules
(docs/sram.md): CACTI runs only at its calibrated nodes (outputs linear in the node between
them); a width between two powers of two is interpolated between them at the same depth, and a
word below 8 bits is priced as 8-bit words of the same capacity; CACTI's optima at the powers of
two are made non-decreasing in capacity (running maximum) and interpolated geometrically in
between; CACTI's failures at small sizes fall back to a doubled capacity. The table holds, at
every calibrated node, power-of-two width (8-256 bits), bank count (1, 2, 4, 8) and port count
(1, 2), the cost at each power-of-two capacity 2^10..2^26 bits (:func:`cacti.optimum`: CACTI's
own choice, or rule 4's fallback), and :func:`lookup` applies the same rules to it with numpy,
so it gives what the live backend gives. :func:`generate` runs CACTI over the grid and writes
``data/cacti_table.csv`` plus ``data/cacti_table.json`` (provenance).
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
from . import cacti, cacti_build

GRID = {
    "node_nm": cacti.NODES_NM,
    "word_bits": (8, 16, 32, 64, 128, 256),
    "banks": (1, 2, 4, 8),
    "ports": (1, 2),
    "capacity_bits": tuple(2**e for e in range(cacti.MIN_EXP, 27)),  # 2^26: rule 2 at 2^25
}
QUANTITIES = cacti.QUANTITIES
MONOTONE = [QUANTITIES.index(q) for q in cacti.MONOTONE]  # running maximum over capacity
ENERGY = slice(0, 2)
SIZE = slice(2, 4)  # leakage and area
TABLE_FILE = "cacti_table.csv"
CONFIG_KEYS = ("node_nm", "word_bits", "banks", "ports")  # the table's axes besides capacity
CSV_COLUMNS = ("node_nm", "capacity_bits", "word_bits", "banks", "ports", *QUANTITIES, "source")


def data_path(name: str) -> Path:
    return Path(str(resources.files("qsnn_mem.memory") / "data" / name))


def _series(key: tuple, capacities: tuple[int, ...]) -> list[dict]:
    """The table rows of one (node, word, banks, ports): CACTI's optimum at each capacity."""
    node, word, banks, ports = key
    config = {"node_nm": node, "word_bits": word, "banks": banks, "ports": ports}
    rows = []
    for cap in capacities:
        cost = cacti.optimum(node, cap, word, banks, ports)
        rows.append({**config, "capacity_bits": cap, **asdict(cost)})
    return rows


def generate(
    out_dir: Path | None = None, workers: int = 2, grid: dict | None = None, progress=None
) -> pd.DataFrame:
    """Run CACTI over ``grid`` (default :data:`GRID`) and write the table and its provenance."""
    grid = grid or GRID
    cacti_build.build()
    keys = list(itertools.product(*(grid[k] for k in CONFIG_KEYS)))
    rows = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        series = pool.map(lambda key: _series(key, tuple(grid["capacity_bits"])), keys)
        for n, part in enumerate(series):
            rows.extend(part)
            if progress is not None:
                progress(n + 1, len(keys))
    frame = pd.DataFrame(rows)[list(CSV_COLUMNS)]
    out = Path(out_dir) if out_dir else data_path("")
    write_csv(out / TABLE_FILE, frame)
    write_json(out / "cacti_table.json", provenance(frame, grid))
    load.cache_clear()
    return frame


def provenance(frame: pd.DataFrame, grid: dict) -> dict:
    """What ``cacti_table.json`` records about a generated table."""
    return {
        "generator": "qsnn-mem cacti table (qsnn_mem.memory.table.generate)",
        "cacti": cacti_build.CACTI_ID,
        "cacti_settings": "itrs-lstp cells and periphery, 300 K, cache type ram, UCA; "
        "organisation chosen by ED^2 (CACTI's own optimum) at each power-of-two capacity; "
        "where CACTI finds none, the capacity doubled and scaled back (rule 4, see cacti.py)",
        "content": "one row per grid point, cacti.optimum(): CACTI's own optimum (or rule 4's "
        "fallback), before the running maximum and interpolation lookup() applies (docs/sram.md)",
        "grid": {k: list(v) for k, v in grid.items()},
        "rows": len(frame),
        "fallback_rows": int((frame["source"] != "cacti7").sum()),
        "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "host": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    }


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The grid axes and log(cost) [node, word, banks, ports, capacity, quantity], with read and
    write energy, leakage and area made non-decreasing in capacity (rule 3's running maximum)."""
    file = Path(path) if path else data_path(TABLE_FILE)
    if not file.is_file():
        raise QsnnError(f"{file}: CACTI table missing (run: qsnn-mem cacti table)")
    frame = pd.read_csv(file)
    missing = {*GRID, *QUANTITIES} - set(frame.columns)
    if missing:
        raise QsnnError(
            f"{file}: columns {sorted(missing)} missing (regenerate it: qsnn-mem cacti table)"
        )
    axes = {k: np.array(sorted(frame[k].unique()), dtype=float) for k in GRID}
    exps = np.log2(axes["capacity_bits"])
    if (np.diff(exps) != 1).any() or exps[0] != cacti.MIN_EXP:
        raise QsnnError(
            f"{file}: capacities must be consecutive powers of two from "
            f"{cacti.MIN_CAPACITY_BITS} bits (regenerate it: qsnn-mem cacti table)"
        )
    keys = (*CONFIG_KEYS, "capacity_bits")
    idx = tuple(np.searchsorted(axes[k], frame[k].to_numpy(float)) for k in keys)
    values = np.full([*(len(axes[k]) for k in keys), len(QUANTITIES)], np.nan)
    values[idx] = frame[list(QUANTITIES)].to_numpy(float)
    if np.isnan(values).any() or (values <= 0).any():
        raise QsnnError(f"{file}: the grid has holes (regenerate it: qsnn-mem cacti table)")
    values[..., MONOTONE] = np.maximum.accumulate(values[..., MONOTONE], axis=4)
    return axes, np.log(values)


def lookup(node_nm, capacity_bits, word_bits, banks, ports, path: str | None = None) -> np.ndarray:
    """[read_J, write_J, leak_W, area_m2, cycle_s] for arrays of configurations.

    Arguments broadcast against each other; the result has shape ``(n, 5)``. Values outside
    the table raise QsnnError (the caller names the memory).
    """
    axes, logv = load(path)
    node, cap, word, bank, port = (
        np.atleast_1d(np.asarray(v, dtype=float))
        for v in np.broadcast_arrays(node_nm, capacity_bits, word_bits, banks, ports)
    )
    _check_range("tech_node_nm", node, axes["node_nm"])
    _check_range("word_bits", word, [1, axes["word_bits"][-1]], " (backend: cacti takes any width)")
    # Rule 2: the two power-of-two widths around the width, at the same depth; a word below
    # 8 bits is priced as 8-bit words of the same capacity.
    depth = np.maximum(1, np.ceil(cap / word))
    narrow = word < cacti.MIN_WORD_BITS
    lo = np.where(narrow, cacti.MIN_WORD_BITS, 2.0 ** np.floor(np.log2(word)))
    cap_lo = np.where(narrow, depth * word, depth * lo)
    tw = np.where(narrow, 0.0, np.log2(word / lo))
    hi = np.where(tw > 0, 2 * lo, lo)
    _check_capacity(cap, word, np.where(tw > 0, depth * hi, cap_lo), axes["capacity_bits"][-1])
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
        value = _at_node(logv, axes, ni, w_lo, bi, pi, cap_lo)
        if tw.any():  # some width between two powers of two
            v_hi = _at_node(logv, axes, ni, w_hi, bi, pi, depth * hi)
            value = value ** (1 - tw[:, None]) * v_hi ** tw[:, None]
        out += weight * value
    return out


def _check_capacity(cap, word, priced, largest) -> None:
    above = priced > largest
    if above.any():
        i = int(np.flatnonzero(above)[0])
        what = f"capacity {int(cap[i])} bits"
        if priced[i] > cap[i]:
            what += f" in {int(word[i])}-bit words (priced up to {int(priced[i])} bits)"
        raise QsnnError(
            f"{what} is above the CACTI table's largest ({int(largest)} bits); use backend: cacti"
        )


def _at_node(logv, axes, ni, wi, bi, pi, cap) -> np.ndarray:
    """Rule 3 at calibrated node index ``ni``, power-of-two width index ``wi``: log value
    linear in log2(capacity) between the powers of two around it."""
    smallest = axes["capacity_bits"][0]
    x = np.log2(np.maximum(cap, smallest) / smallest)
    k = np.clip(np.floor(x).astype(int), 0, len(axes["capacity_bits"]) - 2)
    low, high = logv[ni, wi, bi, pi, k], logv[ni, wi, bi, pi, k + 1]
    # low + s·(high - low), not (1 - s)·low + s·high: exactly monotone in s where high ≥ low
    # and exactly ``high`` at the next power of two (the difference of two nearby logs is exact).
    out = np.exp(low + (x - k)[:, None] * (high - low))
    # Below the grid: scaled from its smallest capacity (energy ∝ capacity^0.78).
    small = np.minimum(cap / smallest, 1.0)[:, None]
    out[:, ENERGY] *= small**cacti.SMALL_ENERGY_EXP
    out[:, SIZE] *= small
    return out


def off_grid_sample(n: int, seed: int, max_exp: float = 24.9, min_exp: float = 6.0) -> np.ndarray:
    """``n`` random (node, capacity, word, banks, ports) rows off the grid in node, width and
    capacity (widths 1-256 bits log-uniform, capacities 2^min_exp..2^max_exp bits), priced
    capacity within the table: the points to check it against live CACTI."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        node = round(float(rng.uniform(GRID["node_nm"][0], GRID["node_nm"][-1])), 1)
        word = int(2 ** rng.uniform(0, np.log2(GRID["word_bits"][-1] + 1)))
        cap = max(word, int(2 ** rng.uniform(min_exp, max_exp)) // word * word)
        wider = 1 << (word - 1).bit_length() if word > cacti.MIN_WORD_BITS else word
        priced = -(-cap // word) * wider  # rule 2's wider width
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
