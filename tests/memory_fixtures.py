"""Shared helpers of the memory tests: small arch dicts and synthetic trace folders."""

from __future__ import annotations

from pathlib import Path

from qsnn_mem.contract import Trace, load_trace
from qsnn_mem.memory import synthetic
from qsnn_mem.memory.arch import Arch
from qsnn_mem.schema import validate


def arch_dict(encoding: str = "crossbar", **top) -> dict:
    """A three-memory organization like arch/crossbar.yaml, as a plain dict."""
    data = {
        "name": f"test-{encoding}",
        "tech_node_nm": 45,
        "clock_hz": 1e8,
        "backend": "table",
        "memories": [
            {"name": "weights", "kind": "sram", "encoding": encoding, "holds": ["weight"]},
            {
                "name": "states",
                "kind": "regfile",
                "word_bits": 32,
                "holds": ["syn", "mem", "spk", "input"],
            },
            {"name": "learning", "kind": "sram", "word_bits": 32, "holds": ["err", "grad"]},
        ],
    }
    data.update(top)
    return data


def make_arch(encoding: str = "crossbar", **top) -> Arch:
    return validate(Arch, arch_dict(encoding, **top), "test")


def tiny_trace(folder: Path, weight_bits: int = 2, density: float = 0.5) -> Path:
    """fc1 (8x4 weights) with hand-countable accesses: 3 forward row reads; backward, 2 column
    reads (traversal col) or 8 row reads (traversal row)."""
    tensors = [
        synthetic.tensor_row("fc1", "weight", 8, 4, weight_bits, density),
        synthetic.tensor_row("fc1", "mem", 1, 4, 8, 0.5),
        synthetic.tensor_row("fc1", "input", 1, 8, 1, 0.25),
    ]
    acc = [
        synthetic.access_row(
            "train", "forward", "fc1", "weight", "read", "row", weight_bits, 3, 4, density
        ),
        # One error propagation, both variants: 2 column scatters or 8 row gathers (one step).
        synthetic.access_row(
            "train", "backward", "fc1", "weight", "read", "col", weight_bits, 2, 8, density, "col"
        ),
        synthetic.access_row(
            "train", "backward", "fc1", "weight", "read", "row", weight_bits, 8, 4, density, "row"
        ),
        synthetic.access_row("train", "forward", "fc1", "mem", "read", "elem", 8, 40, 1, 0.5),
        synthetic.access_row("train", "forward", "fc1", "mem", "write", "elem", 8, 40, 1, 0.5),
        synthetic.access_row("train", "forward", "fc1", "input", "read", "elem", 1, 80, 1, 0.25),
        synthetic.access_row(
            "infer", "forward", "fc1", "weight", "read", "row", weight_bits, 1, 4, density
        ),
    ]
    norm = {"train_epochs": 2, "train_samples": 4, "infer_samples": 1, "time_steps": 10}
    return synthetic.write_trace(folder, tensors, acc, norm)


def smile(folder: Path, **kwargs) -> Trace:
    return load_trace(synthetic.smile_trace(folder, **kwargs))
