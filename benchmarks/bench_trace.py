"""Tracing overhead: epoch time of the smile task with and without the access counter.

    python benchmarks/bench_trace.py [--epochs 400]

One training run per accounting mode; the counter runs on every other epoch, so traced and
untraced epochs interleave in the same process on the same data and a busy machine slows both
alike. Reported: the ratio of median epoch times, wall clock and CPU time (target: at most 1.05).
The fused kernels gather their non-zero counters in both cases (a few integer adds per element);
what tracing adds is the counting of every table row per epoch.
"""

from __future__ import annotations

import argparse
import statistics
import time

from qsnn_mem.config import SmileWorkload
from qsnn_mem.trace import SmileTracer
from qsnn_mem.train import train


def interleaved(cfg: SmileWorkload, mode: str) -> dict[str, list[float]]:
    tracer = SmileTracer(cfg, mode)
    times: dict[str, list[float]] = {"off_wall": [], "on_wall": [], "off_cpu": [], "on_cpu": []}
    last = [time.perf_counter(), time.process_time()]

    def hook(result, res):
        traced = len(result.metrics) % 2 == 0
        if traced:
            tracer.on_epoch(result, res)
        wall, cpu = time.perf_counter(), time.process_time()
        key = "on" if traced else "off"
        times[f"{key}_wall"].append(wall - last[0])
        times[f"{key}_cpu"].append(cpu - last[1])
        last[:] = [wall, cpu]

    train(cfg, on_epoch=hook)
    return {k: v[2:] for k, v in times.items()}  # drop the first epochs (allocation, warm-up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=400)
    args = parser.parse_args()
    interleaved(SmileWorkload(nb_epochs=4), "event")  # compile the kernels first
    print(f"smile task, defaults; {args.epochs} epochs per mode, traced on every other epoch")
    for mode in ("event", "dense"):
        t = interleaved(SmileWorkload(nb_epochs=args.epochs), mode)
        med = {k: statistics.median(v) for k, v in t.items()}
        print(
            f"  {mode:5s}: untraced {med['off_wall'] * 1e3:6.2f} ms, traced "
            f"{med['on_wall'] * 1e3:6.2f} ms, ratio {med['on_wall'] / med['off_wall']:.3f} (wall); "
            f"ratio {med['on_cpu'] / med['off_cpu']:.3f} (CPU time)"
        )


if __name__ == "__main__":
    main()
