"""Time per training batch of quantized DECOLLE at the reference's default sizes.

Runs a few time steps of a batch of 8 (3 conv layers 64/128/128, 7x7, 32x32x2 input) with
learning on, and extrapolates to the reference's 500-step window (50 burn-in steps forward
only, 449 learning steps). The reference takes 33-73 s per batch on a 2-core CPU
(docs/decolle.md). Usage: python benchmarks/bench_decolle.py [--steps 5] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import torch

from qsnn_mem.tasks.decolle.config import DecolleWorkload
from qsnn_mem.tasks.decolle.precision import precision
from qsnn_mem.tasks.decolle.train import DecolleNet, pick_device, run_window

REFERENCE_S = (33.0, 73.0)


def time_steps(net: DecolleNet, batch: int, steps: int, learn: bool, density: float) -> float:
    cfg = net.cfg
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand((steps, batch, 2, 32, 32), generator=gen) < density).byte()
    y = torch.arange(batch) % net.classes
    # burn_in = -1 makes every step a learning step; a huge one makes every step forward only.
    net.cfg = cfg.model_copy(update={"burn_in": -1 if learn else steps})
    start = time.perf_counter()
    run_window(net, x, y, train=True, lr=1.0)
    if net.device.type == "cuda":
        torch.cuda.synchronize()
    net.cfg = cfg
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--density", type=float, default=0.05, help="input events per pixel-ms")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = DecolleWorkload(data_set="generated", batch_size=args.batch, device=args.device)
    net = DecolleNet(cfg, precision(cfg), (2, 32, 32), 11, pick_device(cfg))
    time_steps(net, args.batch, 1, True, args.density)  # warm-up
    learn = time_steps(net, args.batch, args.steps, True, args.density)
    fwd = time_steps(net, args.batch, args.steps, False, args.density)
    per_batch = cfg.burn_in * fwd + (cfg.train_steps - cfg.burn_in) * learn
    print(f"device {net.device}, threads {torch.get_num_threads()}, batch {args.batch}")
    print(f"forward step {1e3 * fwd:.1f} ms, learning step {1e3 * learn:.1f} ms")
    print(
        f"per {cfg.train_steps}-step batch: {per_batch:.1f} s (reference {REFERENCE_S[0]:.0f}-"
        f"{REFERENCE_S[1]:.0f} s: ratio {REFERENCE_S[0] / per_batch:.2f}-"
        f"{REFERENCE_S[1] / per_batch:.2f}x)"
    )


if __name__ == "__main__":
    main()
