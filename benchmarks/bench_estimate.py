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

from qsnn_mem.contract import load_trace
from qsnn_mem.memory import estimate, synthetic
from qsnn_mem.memory.arch import Arch
from qsnn_mem.memory.paper import PAPER_DENSITY
from qsnn_mem.schema import validate

ENCODINGS = ("crossbar", "pb-csr", "pb-bmp", "rle")
NODES = (22, 28, 32, 45, 65)
SYNAPSES_PER_ACCESS = (1, 2, 4, 8, 16)
BANKS = (1, 2, 4, 8)
STATE_BITS = (6, 7, 8, 10, 12)


def organization(encoding: str, node: int, per_access: int, banks: int) -> Arch:
    data = {
        "name": f"{encoding}-{node}nm-p{per_access}-{banks}banks",
        "tech_node_nm": node,
        "clock_hz": 1e8,
        "memories": [
            {"name": "weights", "encoding": encoding, "holds": ["weight"], "banks": banks,
             "synapses_per_access": per_access},
            {"name": "states", "word_bits": 64, "holds": ["syn", "mem", "spk", "input"]},
            {"name": "learning", "word_bits": 32, "holds": ["err", "grad"]},
        ],
    }  # fmt: skip
    return validate(Arch, data, "bench")


def build(folder: Path):
    t0 = time.perf_counter()
    traces = [
        load_trace(
            synthetic.smile_trace(
                folder / f"w{w}s{s}", weight_bits=w, density=PAPER_DENSITY[w], state_bits=s
            )
        )
        for w in PAPER_DENSITY
        for s in STATE_BITS
    ]  # 25 precisions
    archs = [
        organization(*config)
        for config in itertools.product(ENCODINGS, NODES, SYNAPSES_PER_ACCESS, BANKS)
    ]  # 400 organizations
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
    print(f"points: {len(summary)} (400 organizations x 25 precisions), setup {setup:.2f} s")
    print(
        f"estimate + summary: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}, {repeats} repeats); CPU time median "
        f"{statistics.median(cpu):.3f} s (wall time includes waiting for a busy machine)"
    )


if __name__ == "__main__":
    main()
