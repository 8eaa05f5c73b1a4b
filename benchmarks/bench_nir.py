"""Epoch time of the NIR task on the smile network (700-400-250, two Linear+CubaLIF layers, 250
steps), against the smile task's fused epoch in the same run.

    python benchmarks/bench_nir.py [--epochs 100] [--rounds 5] [--autograd-epochs 3]

The smile network is exported to a .nir file (qsnn_mem.tasks.nir.smile_export, initial
weights of seed 0) and trained as a NIR workload on the smile task's input raster and target, at
the smile task's precision (w2a8g8e8, rng 16), one sample per epoch as the smile task. Rounds
alternate the two tasks; each round's figure is the median epoch time of its epochs (the first
epochs, compiling and warming caches, are dropped), and the figures quoted are the medians over
rounds, and the median of the per-round ratios NIR / smile.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from qsnn_mem.tasks.nir.config import NirWorkload
from qsnn_mem.tasks.nir.nir_file import save_network
from qsnn_mem.tasks.nir.smile_export import smile_network
from qsnn_mem.tasks.nir.train import train as train_nir
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.data import smile_input
from qsnn_mem.tasks.smile.train import train as train_smile

WARMUP = 3  # epochs dropped from each run's timings


def epoch_times(train, cfg) -> list[float]:
    stamps: list[float] = []
    train(cfg, on_epoch=lambda result, res: stamps.append(time.perf_counter()))
    return [b - a for a, b in itertools.pairwise(stamps)][WARMUP:]


def nir_workload(folder: Path, smile: SmileWorkload, **fields) -> NirWorkload:
    graph, raster = folder / "smile.nir", folder / "input.npy"
    save_network(smile_network(smile), graph)
    np.save(raster, smile_input(smile))
    return NirWorkload(
        graph=str(graph), input=str(raster), dt=smile.time_step, nb_steps=smile.nb_steps,
        target_kind="raster", tau_vr=smile.tau_vr, seed=smile.seed, **fields,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--autograd-epochs", type=int, default=3)
    args = parser.parse_args()
    n = args.epochs + WARMUP + 1
    with tempfile.TemporaryDirectory() as tmp:
        smile = SmileWorkload(nb_epochs=n)
        nir = nir_workload(Path(tmp), smile, nb_epochs=n)
        train_smile(smile.model_copy(update={"nb_epochs": 3}))  # compile the kernels
        train_nir(nir.model_copy(update={"nb_epochs": 3}))
        rounds = []
        for _ in range(args.rounds):
            s = statistics.median(epoch_times(train_smile, smile))
            f = statistics.median(epoch_times(train_nir, nir))
            rounds.append((s, f, f / s))
        auto_cfg = nir.model_copy(
            update={"nb_epochs": args.autograd_epochs + WARMUP + 1, "backend": "autograd"}
        )
        auto = statistics.median(epoch_times(train_nir, auto_cfg))
    smile_ms, nir_ms, ratio = (statistics.median(r[i] for r in rounds) for i in range(3))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("smile network (700-400-250, 250 steps, w2 a8 g8 e8, rng 16), one sample per epoch")
    for k, (s, f, r) in enumerate(rounds, start=1):
        print(f"  round {k}: smile {s * 1e3:7.2f} ms, nir {f * 1e3:7.2f} ms, ratio {r:5.2f}")
    print(f"  smile task, fused epoch (median of rounds): {smile_ms * 1e3:8.2f} ms")
    print(f"  nir task, fused epoch (median of rounds):   {nir_ms * 1e3:8.2f} ms")
    print(f"  nir / smile (median of round ratios):       {ratio:8.2f}  (target <= 3)")
    print(f"  nir task, autograd epoch (median):          {auto * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
