"""Epoch time of the smile task at default sizes and bitwidths, against baselines in the same run.

    python benchmarks/bench_train.py [--epochs 200] [--autograd-epochs 5]

Baselines measured in this run:
  * autograd: the step-by-step torch implementation (the specification; about what the
    reference code does per epoch);
  * FLOP floor: only the five dense float matrix products of one epoch (forward h1, h2;
    backward input error, two weight gradients) with torch, no neuron dynamics at all;
  * the reference's published 0.19 s per epoch on this kind of CPU (not rerun here).
Timings on shared machines are noisy: medians and ratios are what to quote.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch

from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.train import train

REFERENCE_EPOCH_S = 0.19


def epoch_times(cfg: SmileWorkload) -> list[float]:
    stamps: list[float] = []
    train(cfg, on_epoch=lambda result, res: stamps.append(time.perf_counter()))
    return [b - a for a, b in itertools.pairwise(stamps)]


def flop_floor(cfg: SmileWorkload, repeats: int) -> list[float]:
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(cfg.nb_steps, cfg.nb_inputs, generator=g) < 0.09).float()
    s1 = (torch.rand(cfg.nb_steps, cfg.nb_hidden, generator=g) < 0.05).float()
    w1 = torch.randn(cfg.nb_inputs, cfg.nb_hidden, generator=g)
    w2 = torch.randn(cfg.nb_hidden, cfg.nb_outputs, generator=g)
    e1 = torch.randn(cfg.nb_steps, cfg.nb_hidden, generator=g)
    e2 = torch.randn(cfg.nb_steps, cfg.nb_outputs, generator=g)
    times = []
    for _ in range(repeats + 3):
        t0 = time.perf_counter()
        x @ w1, s1 @ w2, e2 @ w2.T, s1.T @ e2, x.T @ e1
        times.append(time.perf_counter() - t0)
    return times[3:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--autograd-epochs", type=int, default=6)
    args = parser.parse_args()

    train(SmileWorkload(nb_epochs=3))  # compile the kernels before timing
    fused = statistics.median(epoch_times(SmileWorkload(nb_epochs=args.epochs)))
    floor = statistics.median(flop_floor(SmileWorkload(), args.epochs))
    auto = statistics.median(
        epoch_times(SmileWorkload(nb_epochs=args.autograd_epochs, backend="autograd"))
    )
    flops = 2 * 250 * (700 * 400 + 400 * 250) + 2 * 2 * 250 * 400 * 250 + 2 * 250 * 700 * 400
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("smile task, defaults (700-400-250, 250 steps, w2 a8 g8 e8, rng 16)")
    print(f"  fused epoch (median of {args.epochs - 1}):  {fused * 1e3:8.2f} ms")
    print(f"  autograd epoch (median):          {auto * 1e3:8.2f} ms")
    print(f"  FLOP floor, {flops / 1e9:.2f} GFLOP (median):  {floor * 1e3:8.2f} ms")
    print(f"  reference (published):            {REFERENCE_EPOCH_S * 1e3:8.2f} ms")
    print(f"  speed-up vs reference 0.19 s:     {REFERENCE_EPOCH_S / fused:8.1f}x")
    print(f"  speed-up vs autograd:             {auto / fused:8.1f}x")
    print(f"  fused / FLOP floor:               {fused / floor:8.2f}")


if __name__ == "__main__":
    main()
