"""The committed CACTI table against live CACTI: accuracy off the grid, and speed.

Run: ``python benchmarks/bench_table.py [N]`` (needs ``qsnn-mem cacti build``). Draws N random
configurations (default 200) with node, width and capacity all off the table's grid, prices
each with the live backend (CACTI runs are cached on disk, so a second run only times the
table) and the table, and prints the error per quantity (median, 90th percentile, max) and
the time per configuration of both.
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
    return [c.read_J, c.write_J, c.leak_W, c.area_m2, c.cycle_s]


def main(n: int = 200) -> None:
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
    print(f"{'quantity':<9} {'median %':>9} {'p90 %':>7} {'max %':>7} {'within 5 %':>11}")
    for i, name in enumerate(QUANTITIES):
        e = err[:, i]
        print(
            f"{name:<9} {np.median(e):9.2f} {np.percentile(e, 90):7.2f} {e.max():7.2f} "
            f"{(e <= 5).mean():11.1%}"
        )
    worst = int(err[:, :4].max(axis=1).argmax())
    print(f"worst point (node, capacity, word, banks, ports): {points[worst].tolist()}")
    per_table = np.median(t_table) / n
    print(
        f"time per configuration: live {1e3 * t_live / n:.1f} ms (incl. cached runs), "
        f"table {1e6 * per_table:.2f} µs (median of 5 batched lookups)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
