"""Tracing overhead: epoch time of the smile task with and without the access counter.

    python benchmarks/bench_trace.py [--epochs 400]

One training run per accounting mode. Every epoch is timed; the counter (the tracer's per-epoch
hook) runs on every other epoch and is timed on its own. Reported: median epoch time without
the counter, median time of the counter, and their ratio (target: traced epoch at most 1.05x the
untraced one); also the plain ratio of traced to untraced epochs, which on a shared machine is
noisier. The fused kernels gather their non-zero counters in both cases (a few integer adds per
element); what tracing adds is the counting of every table row per epoch.
"""

from __future__ import annotations

import argparse
import statistics
import time

from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.precision import precision
from qsnn_mem.tasks.smile.tracer import SmileTracer
from qsnn_mem.tasks.smile.train import train


def timings(cfg: SmileWorkload, mode: str) -> dict[str, list[float]]:
    tracer = SmileTracer(cfg, precision(cfg), mode)
    times: dict[str, list[float]] = {"epoch": [], "counter": [], "on": [], "off": []}
    last = [time.perf_counter()]

    def hook(result, res):
        start = time.perf_counter()
        traced = len(result.metrics) % 2 == 0
        if traced:
            tracer.on_epoch(result, res)
        end = time.perf_counter()
        times["epoch"].append(start - last[0])
        if traced:
            times["counter"].append(end - start)
        times["on" if traced else "off"].append(end - last[0])
        last[0] = end

    train(cfg, on_epoch=hook)
    return {k: v[2:] for k, v in times.items()}  # drop the first epochs (warm-up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=400)
    args = parser.parse_args()
    timings(SmileWorkload(nb_epochs=4), "event")  # compile the kernels first
    print(f"smile task, defaults; {args.epochs} epochs per mode, counter on every other epoch")
    for mode in ("event", "dense"):
        med = {
            k: statistics.median(v)
            for k, v in timings(SmileWorkload(nb_epochs=args.epochs), mode).items()
        }
        print(
            f"  {mode:5s}: epoch {med['epoch'] * 1e3:6.2f} ms,"
            f" counter {med['counter'] * 1e3:5.3f} ms"
            f" -> traced/untraced {(med['epoch'] + med['counter']) / med['epoch']:.3f}"
            f" (alternating epochs: {med['on'] / med['off']:.3f})"
        )


if __name__ == "__main__":
    main()
