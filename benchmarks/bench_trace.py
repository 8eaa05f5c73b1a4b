"""Tracing overhead: epoch time of the smile task with and without the access counter.

    python benchmarks/bench_trace.py [--epochs 150] [--rounds 4]

Traced and untraced training alternate in rounds within one run (same process, same data),
and the ratio of median epoch times is reported; the target is at most 1.05. The fused kernels
gather their non-zero counters in both cases (a handful of integer adds per element); what
tracing adds is the counting of every table row per epoch.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

from qsnn_mem.config import SmileWorkload
from qsnn_mem.trace import SmileTracer
from qsnn_mem.train import train


def epoch_times(cfg: SmileWorkload, mode: str | None) -> list[float]:
    tracer = SmileTracer(cfg, mode) if mode else None
    stamps: list[float] = []

    def hook(result, res):
        if tracer is not None:
            tracer.on_epoch(result, res)
        stamps.append(time.perf_counter())

    train(cfg, on_epoch=hook)
    return [b - a for a, b in itertools.pairwise(stamps)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    cfg = SmileWorkload(nb_epochs=args.epochs)
    epoch_times(SmileWorkload(nb_epochs=3), "event")  # compile the kernels first
    times: dict[str, list[float]] = {"off": [], "event": [], "dense": []}
    for _ in range(args.rounds):
        for mode in times:
            times[mode] += epoch_times(cfg, None if mode == "off" else mode)
    off = statistics.median(times["off"])
    print(f"smile task, defaults; {args.rounds} rounds x {args.epochs} epochs per setting")
    print(f"  untraced epoch (median):     {off * 1e3:7.2f} ms")
    for mode in ("event", "dense"):
        med = statistics.median(times[mode])
        print(f"  traced, {mode:5s} (median):     {med * 1e3:7.2f} ms   ratio {med / off:5.3f}")


if __name__ == "__main__":
    main()
