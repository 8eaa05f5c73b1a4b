"""The committed CACTI table against live CACTI: accuracy off the grid, and speed.

Run: ``python benchmarks/bench_table.py [N] [--own]`` (needs ``qsnn-mem cacti build``). Draws N
random configurations (default 200) with node, width and capacity all off the table's grid,
prices each with the live backend (CACTI runs are cached on disk, so a second run only times
the table) and the table, and prints the error per quantity (median, 90th percentile, max)
and the time per configuration of both. ``--own`` also compares the live backend's rules with
CACTI's own optimum run at each exact configuration (node handed to CACTI, whole-byte width):
what the rules change, as a signed median (bias) and spread.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qsnn_mem.memory import cacti, table

QUANTITIES = ("read", "write", "leakage", "area", "cycle")


def live(point: np.ndarray) -> list[float]:
    node, cap, word, banks, ports = point
    c = cacti.query(cacti.SramConfig(float(node), int(cap), int(word), int(banks), int(ports)))
    return c.values()


def own_optimum(point: np.ndarray) -> list[float] | None:
    """CACTI's own choice at the exact configuration (None where it finds no organisation)."""
    node, cap, word, banks, ports = point
    w8 = int(-(-word // 8) * 8)
    cfg = cacti.SramConfig(float(node), int(-(-cap // word) * w8), w8, int(banks), int(ports))
    try:
        c = cacti.cached_run(cfg).cost
    except cacti.CactiFailed:
        return None
    r = word / w8  # a width that is not whole bytes: the byte above, scaled as in rule 2
    return [
        c.read_J * (0.7 * r + 0.3),
        c.write_J * (0.7 * r + 0.3),
        c.leak_W * r,
        c.area_m2 * r,
        c.cycle_s,
    ]


def compare_with_own_optimum(points: np.ndarray, ref: np.ndarray) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        own = list(pool.map(own_optimum, points))
    ok = [i for i, o in enumerate(own) if o is not None]
    dev = 100 * (ref[ok] / np.array([own[i] for i in ok]) - 1)
    print(f"live rules vs CACTI's own optimum at the exact configuration ({len(ok)} points):")
    print_stats(
        dev,
        {
            "median %": np.median,
            "|dev| median %": lambda d: np.median(np.abs(d)),
            "|dev| p90 %": lambda d: np.percentile(np.abs(d), 90),
        },
    )


def print_stats(values: np.ndarray, stats: dict) -> None:
    """A line per quantity with each named statistic of its column of ``values``."""
    print(f"{'quantity':<9}" + "".join(f" {name:>14}" for name in stats))
    for i, quantity in enumerate(QUANTITIES):
        print(f"{quantity:<9}" + "".join(f" {f(values[:, i]):14.2f}" for f in stats.values()))


def main(n: int = 200, own: bool = False) -> None:
    cacti.build()
    points = table.off_grid_sample(n, seed=11)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:  # CACTI runs are separate processes
        ref = np.array(list(pool.map(live, points)))
    t_live = time.perf_counter() - t0
    table.lookup(*points[:1].T)  # load the table
    t_table = []
    for _ in range(5):
        t0 = time.perf_counter()
        tab = table.lookup(*points.T)
        t_table.append(time.perf_counter() - t0)
    err = 100 * np.abs(tab / ref - 1)
    print(f"{n} off-grid configurations (nodes 22-90 nm, widths 8-256 bits, 2 kbit-31 Mbit)")
    print_stats(
        err,
        {
            "median %": np.median,
            "p90 %": lambda e: np.percentile(e, 90),
            "max %": np.max,
            "within 5 % (%)": lambda e: 100 * (e <= 5).mean(),
        },
    )
    worst = int(err[:, :4].max(axis=1).argmax())
    print(f"worst point (node, capacity, word, banks, ports): {points[worst].tolist()}")
    per_table = np.median(t_table) / n
    print(
        f"time per configuration: live {1e3 * t_live / n:.1f} ms (incl. cached runs), "
        f"table {1e6 * per_table:.2f} µs (median of 5 batched lookups)"
    )
    if own:
        compare_with_own_optimum(points, ref)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--own"]
    main(int(args[0]) if args else 200, own="--own" in sys.argv[1:])
