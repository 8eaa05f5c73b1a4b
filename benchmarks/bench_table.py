"""The SRAM pricing rules (docs/sram.md): table against live CACTI, rule 3 against CACTI's own
optimum, steps at powers of two, narrow words.

Run (after ``qsnn-mem cacti build``):

* ``python benchmarks/bench_table.py [N]``: N random configurations (default 200) off the
  table's grid in node, width (1-256 bits) and capacity, priced by the live backend (CACTI runs
  are cached on disk, so a second run only times the table) and the table; the error per
  quantity (median, 90th percentile, max) and the time per configuration of both.
* ``--own``: rule 3 against CACTI's own optimum run at each exact capacity (N random capacities
  between powers of two at the five calibrated nodes, power-of-two widths 8-256 bits, 1-8 banks,
  1-2 ports): signed median and spread of the deviation per quantity.
* ``--steps``: from the table only, the largest cost step across a power of two (2^k - one
  word, 2^k, 2^k + one word) over the whole grid, for arrays of at least 64 words. It uses only
  ``table.lookup`` and ``table.GRID``, so it also runs against an older checkout (put it first
  on ``PYTHONPATH``) for a before/after comparison.
* ``--narrow``: from the table only, words below 8 bits priced by the current rule against the
  former one (8-bit words of the same depth, energy × (0.3 + 0.7·w/8), area and leakage × w/8).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qsnn_mem.memory import cacti, cacti_build, cacti_run, table

QUANTITIES = ("read", "write", "leakage", "area", "cycle")
WORKERS = 2  # CACTI runs are separate processes; the machine is shared


def live(point: np.ndarray) -> list[float]:
    node, cap, word, banks, ports = point
    c = cacti.query(cacti.SramConfig(float(node), int(cap), int(word), int(banks), int(ports)))
    return c.values()


def print_stats(values: np.ndarray, stats: dict) -> None:
    """A line per quantity with each named statistic of its column of ``values``."""
    print(f"{'quantity':<9}" + "".join(f" {name:>14}" for name in stats))
    for i, quantity in enumerate(QUANTITIES):
        print(f"{quantity:<9}" + "".join(f" {f(values[:, i]):14.3g}" for f in stats.values()))


def against_live(n: int) -> None:
    points = table.off_grid_sample(n, seed=11)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        ref = np.array(list(pool.map(live, points)))
    t_live = time.perf_counter() - t0
    table.lookup(*points[:1].T)  # load the table
    t_table = []
    for _ in range(5):
        t0 = time.perf_counter()
        tab = table.lookup(*points.T)
        t_table.append(time.perf_counter() - t0)
    err = 100 * np.abs(tab / ref - 1)
    print(f"{n} off-grid configurations (nodes 22-90 nm, widths 1-256 bits, 64 bit-31 Mibit)")
    print_stats(
        err, {"median %": np.median, "p90 %": lambda e: np.percentile(e, 90), "max %": np.max}
    )
    worst = int(err.max(axis=1).argmax())
    print(f"worst point (node, capacity, word, banks, ports): {points[worst].tolist()}")
    print(
        f"time per configuration: live {1e3 * t_live / n:.1f} ms (incl. cached runs), "
        f"table {1e6 * np.median(t_table) / n:.2f} µs (median of 5 batched lookups)"
    )


def own_sample(n: int, seed: int) -> np.ndarray:
    """Capacities strictly between powers of two, at calibrated nodes and power-of-two widths."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        word = int(rng.choice(table.GRID["word_bits"]))
        cap = int(2 ** rng.uniform(11, 24.9)) // word * word
        if cap & (cap - 1) == 0:
            continue
        node, banks, ports = (rng.choice(table.GRID[k]) for k in ("node_nm", "banks", "ports"))
        points.append((node, cap, word, banks, ports))
    return np.array(points, dtype=float)


def own_optimum(point: np.ndarray) -> list[float] | None:
    """CACTI's own choice at the exact configuration (None where it finds no organisation)."""
    node, cap, word, banks, ports = point
    cfg = cacti.SramConfig(float(node), int(cap), int(word), int(banks), int(ports))
    try:
        return cacti_run.cached_run(cfg).values()
    except cacti_run.CactiFailed:
        return None


def against_own_optimum(n: int) -> None:
    points = own_sample(n, seed=5)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        own = list(pool.map(own_optimum, points))
        ours = np.array(list(pool.map(live, points)))
    ok = [i for i, o in enumerate(own) if o is not None]
    dev = 100 * (ours[ok] / np.array([own[i] for i in ok]) - 1)
    print(
        f"rule 3 vs CACTI's own optimum at the exact capacity ({len(ok)} of {n} points; "
        "the rest CACTI cannot organise)"
    )
    print_stats(
        dev,
        {
            "median %": np.median,
            "|dev| median %": lambda d: np.median(np.abs(d)),
            "|dev| p90 %": lambda d: np.percentile(np.abs(d), 90),
            "|dev| max %": lambda d: np.abs(d).max(),
        },
    )


def steps() -> None:
    """Largest ratio between neighbouring capacities around each power of two on the grid."""
    grid = table.GRID
    rows = []
    for node in grid["node_nm"]:
        for word in grid["word_bits"]:
            for banks in grid["banks"]:
                for ports in grid["ports"]:
                    for cap in grid["capacity_bits"][:-1]:
                        if cap >= 64 * word:
                            rows.append((node, cap, word, banks, ports))
    at = np.array(rows, dtype=float)
    word = at[:, 2]
    below, here, above = (
        table.lookup(at[:, 0], at[:, 1] + d * word, word, at[:, 3], at[:, 4]) for d in (-1, 0, 1)
    )
    top = int(np.log2(grid["capacity_bits"][-2]))
    print(f"{len(at)} powers of two 2^k (2^10-2^{top} bits, at least 64 words): cost ratios")
    for name, ratio in (("2^k+w / 2^k", above / here), ("2^k / 2^k-w", here / below)):
        print(f"  {name}:")
        for i, quantity in enumerate(QUANTITIES):
            worst = int(np.abs(np.log(ratio[:, i])).argmax())
            print(
                f"    {quantity:<8} min {ratio[:, i].min():.3f}  max {ratio[:, i].max():.3f}  "
                f"(worst at {at[worst].tolist()})"
            )


def narrow() -> None:
    """New (8-bit words, same capacity) against former narrow-word rule at 45 nm."""
    depths = (64, 256, 1024, 4096, 16384, 65536)
    print("45 nm, 1 bank, 1 port: new / former, read energy | area")
    print("depth   " + "".join(f"{f'w = {w}':>18}" for w in (1, 2, 4, 6)))
    for depth in depths:
        line = f"{depth:<8}"
        for w in (1, 2, 4, 6):
            new = table.lookup(45, depth * w, w, 1, 1)[0]
            eight = table.lookup(45, depth * 8, 8, 1, 1)[0]
            r = w / 8
            old_read, old_area = eight[0] * (0.3 + 0.7 * r), eight[3] * r
            line += f"{new[0] / old_read:>9.2f} |{new[3] / old_area:>6.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200, help="random configurations")
    mode = parser.add_mutually_exclusive_group()
    for flag in ("--own", "--steps", "--narrow"):
        mode.add_argument(flag, action="store_true")
    args = parser.parse_args()
    if args.steps:
        return steps()
    if args.narrow:
        return narrow()
    cacti_build.build()
    return against_own_optimum(args.n) if args.own else against_live(args.n)


if __name__ == "__main__":
    main()
