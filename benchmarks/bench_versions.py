"""The benchmarks of two versions of qsnn-mem in one run: the working tree against a git revision.

    python benchmarks/bench_versions.py [--before REV] [--rounds 2] [--only bench_estimate]

Each round runs every benchmark script once in each tree (the revision is checked out into a
temporary folder; each tree runs its own scripts with its own package first on PYTHONPATH),
alternating which goes first, and reports per figure the median over rounds and the ratio
after / before. Timings on shared machines are noisy: quote the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# (script and arguments, {figure: regular expression capturing it in the script's output}).
BENCHMARKS = [
    (["bench_train.py", "--epochs", "200", "--autograd-epochs", "2"],
     {"smile epoch, fused (ms)": r"fused epoch \(median[^)]*\):\s+([\d.]+) ms"}),
    (["bench_trace.py", "--epochs", "200"],
     {"traced / untraced, event": r"event: .*traced/untraced ([\d.]+)",
      "traced / untraced, dense": r"dense: .*traced/untraced ([\d.]+)"}),
    (["bench_estimate.py"],
     {"10,000-point estimate (s)": r"estimate \+ summary: median ([\d.]+) s"}),
    (["bench_decolle.py", "--steps", "3", "--threads", "2"],
     {"DECOLLE batch (s)": r"batch: ([\d.]+) s"}),
]  # fmt: skip


def checkout(rev: str, folder: Path) -> Path:
    """The tree of ``rev`` in ``folder`` (a git archive: no worktree bookkeeping left behind)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def measure(tree: Path, script: list[str], patterns: dict[str, str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / script[0]), *script[1:]],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    out: dict[str, float] = {}
    for name, pattern in patterns.items():
        match = re.search(pattern, done.stdout)
        if match is None:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            print(f"  {tree.name}: {name}: not found ({' | '.join(tail)})", file=sys.stderr)
            continue
        out[name] = float(match.group(1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="867bfe9", help="git revision of the baseline")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="run only the scripts whose name holds this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": checkout(args.before, Path(tmp)), "after": ROOT}
        values: dict[str, dict[str, list[float]]] = {}
        for r in range(args.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for script, patterns in BENCHMARKS:
                if args.only not in script[0]:
                    continue
                for which in order:
                    for name, value in measure(trees[which], script, patterns).items():
                        values.setdefault(name, {}).setdefault(which, []).append(value)
    print(f"before = {args.before}, after = working tree; medians of {args.rounds} rounds")
    for name, by in values.items():
        before = statistics.median(by.get("before", [float("nan")]))
        after = statistics.median(by.get("after", [float("nan")]))
        print(f"  {name:30s} before {before:9.3f}  after {after:9.3f}  after/before "
              f"{after / before:6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
