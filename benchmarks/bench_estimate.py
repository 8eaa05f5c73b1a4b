"""Time the vectorised estimate: 10,000 (architecture × trace) points with the table backend.

Run: ``python benchmarks/bench_estimate.py``. Prints the median wall and CPU time of several
repeats; setup
(writing and loading traces, validating architectures) is timed separately.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

from qsnn_mem.memory import estimate, synthetic
from qsnn_mem.memory.accesses import load_trace
from qsnn_mem.memory.arch import Arch
from qsnn_mem.memory.paper import PAPER_DENSITY, paper_arch
from qsnn_mem.schema import validate


def build(folder: Path):
    t0 = time.perf_counter()
    traces = [
        load_trace(
            synthetic.smile_trace(
                folder / f"w{w}s{s}", weight_bits=w, density=PAPER_DENSITY[w], state_bits=s
            )
        )
        for w in PAPER_DENSITY
        for s in (6, 7, 8, 10)
    ]  # 20 precisions
    archs = []
    for enc, node, word, banks in itertools.product(
        ("crossbar", "pb-csr", "pb-bmp", "rle", "functional"),
        (22, 28, 32, 45, 65),
        (16, 32, 64, 128, 256),
        (1, 2, 4, 8),
    ):  # 500 organizations
        data = paper_arch(enc, node, word).model_dump()
        data["name"] = f"{enc}-{node}nm-{word}b-{banks}banks"
        data["memories"][0]["banks"] = banks
        archs.append(validate(Arch, data, "bench"))
    pairs = [(a, t) for a in archs for t in traces]
    return pairs, time.perf_counter() - t0


def main(repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pairs, setup = build(Path(tmp))
        estimate.evaluate(pairs[:10]).summary()  # load the table once
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            summary = estimate.evaluate(pairs).summary()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(f"points: {len(summary)} (500 organizations x 20 precisions), setup {setup:.2f} s")
    print(
        f"estimate + summary: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}, {repeats} repeats); CPU time median "
        f"{statistics.median(cpu):.3f} s (wall time includes waiting for a busy machine)"
    )


if __name__ == "__main__":
    main()
