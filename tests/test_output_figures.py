"""Figures in outputs (issue 12): DECOLLE's activation sparsity, capacity units, inference-only
memory sizing, and the words an access of a packed non-weight tensor costs, each against a
count by hand or by explicit loops."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from qsnn_mem.cli import main
from qsnn_mem.contract import load_trace
from qsnn_mem.memory import estimate, synthetic, tables
from qsnn_mem.memory.arch import Arch
from qsnn_mem.schema import validate
from qsnn_mem.tasks.decolle.config import DecolleWorkload
from qsnn_mem.tasks.decolle.precision import precision
from qsnn_mem.tasks.decolle.tracer import DecolleTracer
from qsnn_mem.tasks.decolle.train import DecolleNet, run_window

from .memory_fixtures import tiny_trace

ROOT = Path(__file__).resolve().parents[1]


# DECOLLE activation sparsity ----------------------------------------------------------------


def test_decolle_activation_sparsity_counts_each_pooled_spike_once():
    cfg = DecolleWorkload(
        data_set="generated", channels=[2, 3], pooling=[2, 1], kernel_size=3, padding=1,
        train_steps=6, burn_in=2, batch_size=2, weight_mult=2e-2, seed=3,
    )  # fmt: skip
    net = DecolleNet(cfg, precision(cfg), (2, 6, 6), 3, torch.device("cpu"))
    tracer = DecolleTracer(cfg, precision(cfg), "event")
    tracer.bind(net)
    outputs = []

    def hook(phase, t, k, fwd, learn):
        tracer.on_step(phase, t, k, fwd, learn)
        if phase == "infer":
            outputs.append(fwd.out.numpy().copy())

    x = (torch.rand(6, 2, 2, 6, 6, generator=torch.Generator().manual_seed(0)) < 0.4).byte()
    y = torch.tensor([0, 2])
    run_window(net, x, y, train=True, lr=1.0, hook=hook)  # training spikes are not counted
    run_window(net, x, y, train=False, lr=0.0, hook=hook, phase="infer")
    spikes = neuron_steps = 0
    for out in outputs:  # every step of every layer: [sample, channel, y, x] pooled spikes
        for b, c, i, j in itertools.product(*(range(n) for n in out.shape)):
            spikes += int(out[b, c, i, j] != 0)
            neuron_steps += 1
    assert neuron_steps == 6 * 2 * (2 * 3 * 3 + 3 * 3 * 3)  # steps × samples × pooled outputs
    assert 0 < spikes < neuron_steps
    got = tracer.workload_metrics()["activation_sparsity"]
    assert got == pytest.approx(1.0 - spikes / neuron_steps, rel=1e-12, abs=0)
    # The access table holds each spike of conv1 twice (conv1 writes it, conv2 reads it): summing
    # its spk rows, as before, counted those spikes twice.
    acc = tracer.accesses()
    table_spk = acc.query("phase == 'infer' and tensor == 'spk'").nonzero.sum()
    assert table_spk > spikes


# Capacity units ---------------------------------------------------------------------------


def test_estimate_prints_capacities_in_kibit_of_1024_bits(tmp_path, capsys):
    out = tmp_path / "out"
    args = [str(ROOT / "arch" / "pb-bmp.yaml"), "--trace", str(tiny_trace(tmp_path / "t"))]
    assert main(["estimate", *args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    area = pd.read_csv(out / "area.csv")
    for memory, bits in area.groupby("memory")["capacity_bits"].sum().items():
        shown = re.search(rf"│ {memory}\s+│\s+([0-9.]+) (\w+) │", printed)
        assert shown is not None, memory
        assert shown.group(2) == "kibit"
        assert float(shown.group(1)) == pytest.approx(bits / 1024, abs=0.05)
    assert not re.search(r"\bk?bit\b.*\bkbit\b|\b[kM]bit\b", printed)


def test_no_decimal_unit_on_a_binary_division():
    """Wherever the package formats a number with a kbit/Mbit label, the label is kibit/Mibit
    (a division by 1024) or kbit/Mbit with a division by 1000: never mixed."""
    for file in (ROOT / "qsnn_mem").rglob("*.py"):
        for n, line in enumerate(file.read_text().splitlines(), 1):
            where = f"{file.relative_to(ROOT)}:{n}"
            if re.search(r"/\s*(1024|2\s*\*\*\s*(10|20))\b", line):
                assert not re.search(r"\b[kM]bit\b", line), where
            if re.search(r"/\s*(1000|1e3|1e6|1_000)\b", line):
                assert not re.search(r"\b[kM]ibit\b", line), where
            assert not re.search(r"\}\s*[kM]bit\b", line), where


# Inference-only traces: state memories sized for one step ----------------------------------

STEPS, N_IN, N = 64, 64, 32  # the fc1 weight has as many rows as there are steps


def _arch() -> Arch:
    return validate(
        Arch,
        {
            "name": "one-step", "tech_node_nm": 45, "clock_hz": 1e8, "backend": "table",
            "memories": [
                {"name": "weights", "kind": "sram", "encoding": "crossbar", "holds": ["weight"]},
                {"name": "states", "kind": "regfile", "word_bits": 32,
                 "holds": ["fc1.syn", "fc1.mem", "fc1.spk", "fc1.input"]},
                {"name": "lockstep", "kind": "regfile", "word_bits": 32, "holds": ["fc2.mem"]},
            ],
        },
        "test",
    )  # fmt: skip


def _history_trace(folder: Path, with_training: bool) -> Path:
    """fc1 (64 inputs, 32 neurons) listed as a 64-step history; fc2.mem listed per sample of a
    3-sample batch (rows that are not time steps)."""
    row = synthetic.tensor_row
    tensors = [
        row("fc1", "input", STEPS, N_IN, 1, 0.1),
        row("fc1", "weight", N_IN, N, 2, 0.5),
        row("fc1", "syn", STEPS, N, 8, 0.5),
        row("fc1", "mem", STEPS, N, 8, 0.5),
        row("fc1", "spk", STEPS, N, 1, 0.1),
        row("fc2", "mem", 3, N, 8, 0.5),
    ]
    acc = []
    phases = ["infer", "train"] if with_training else ["infer"]
    for phase in phases:
        a = synthetic.access_row
        acc += [
            a(phase, "forward", "fc1", "input", "read", "elem", 1, 400, 1, 1.0),
            a(phase, "forward", "fc1", "weight", "read", "row", 2, 400, N, 0.5),
            a(phase, "forward", "fc1", "syn", "read", "row", 8, STEPS, N, 0.5),
            a(phase, "forward", "fc1", "mem", "write", "row", 8, STEPS, N, 0.5),
            a(phase, "forward", "fc1", "spk", "write", "elem", 1, 200, 1, 1.0),
            a(phase, "forward", "fc2", "mem", "write", "row", 8, 3 * STEPS, N, 0.5),
        ]
    train = 1 if with_training else 0
    norm = {"train_epochs": train, "train_samples": train, "infer_samples": 1, "time_steps": STEPS}
    return synthetic.write_trace(folder, tensors, acc, norm)


def _capacity(ev) -> dict[str, float]:
    return tables.area_table(ev).groupby("memory")["capacity_bits"].sum().to_dict()


def test_inference_only_trace_sizes_state_memories_for_one_step(tmp_path):
    arch = _arch()
    infer = estimate.evaluate([(arch, load_trace(_history_trace(tmp_path / "i", False)))])
    train = estimate.evaluate([(arch, load_trace(_history_trace(tmp_path / "t", True)))])
    one_step_bits = N * 8 + N * 8 + N * 1 + N_IN * 1  # syn, mem, spk, input: 19 32-bit words
    assert _capacity(infer)["states"] == one_step_bits == 608
    assert _capacity(train)["states"] == STEPS * one_step_bits  # training keeps the history
    # Weights (even with as many rows as steps) and rows that are samples, not steps, stay.
    assert _capacity(infer)["weights"] == _capacity(train)["weights"]
    assert _capacity(infer)["lockstep"] == _capacity(train)["lockstep"] == 3 * N * 8
    # The accesses are the same; only the arrays (and so their cost per access) shrink.
    energy = tables.energy_table(infer)
    states = energy[(energy.memory == "states") & (energy.component == "memory")]
    assert states[states.op != "leak"].accesses.sum() == 400 + STEPS * 8 + STEPS * 8 + 200


# Words of a packed non-weight tensor, per pattern -------------------------------------------


def _conv_arch() -> Arch:
    return validate(
        Arch,
        {
            "name": "packed", "tech_node_nm": 45, "clock_hz": 1e8, "backend": "table",
            "memories": [
                {"name": "weights", "kind": "sram", "encoding": "crossbar", "holds": ["weight"]},
                {"name": "states", "kind": "regfile", "word_bits": 64,
                 "holds": ["trace_p", "spk", "mem"]},
                {"name": "learning", "kind": "regfile", "word_bits": 32, "holds": ["grad"]},
            ],
        },
        "test",
    )  # fmt: skip


def _conv_trace(folder: Path, c_in: int, size: int, k: int, pad: int, col: tuple[int, int]):
    """conv1 (one output channel, k×k kernel) with a 13-bit trace P of one sample, four values
    per 64-bit word; ``col`` = (accesses, values) of the receptive-field walks of P."""
    u_rows, u_cols = c_in * size * size, (size + 2 * pad - k + 1) ** 2
    row, a = synthetic.tensor_row, synthetic.access_row
    tensors = [
        row("conv1", "weight", c_in * k * k, 1, 8, 1.0, (1, c_in, k, k), (u_rows, u_cols, u_rows)),
        row("conv1", "trace_p", 1, u_rows, 13, 0.5),
        row("conv1", "spk", 1, u_cols, 1, 0.1),
        row("conv1", "grad", c_in * k * k, 1, 10, 0.5),
        row("fc2", "mem", 5, 8, 13, 0.5),
    ]
    n, e = col
    acc = [
        a("train", "backward", "conv1", "trace_p", "read", "col", 13, n, e / n, 1.0),
        a("train", "forward", "conv1", "trace_p", "read", "row", 13, 2, u_rows, 1.0),
        a("train", "forward", "conv1", "spk", "write", "elem", 1, 7, 1, 1.0),
        a("train", "backward", "conv1", "grad", "write", "col", 10, n, e / n, 1.0),
        a("train", "backward", "fc2", "mem", "read", "col", 13, 3, 5, 1.0),
    ]
    norm = {"train_epochs": 1, "train_samples": 1, "infer_samples": 0, "time_steps": 5}
    return load_trace(synthetic.write_trace(folder, tensors, acc, norm))


def _words(ev, tensor: str, pattern_op: str) -> float:
    energy = tables.energy_table(ev)
    sel = energy[(energy.tensor == tensor) & (energy.op == pattern_op)]
    return float(sel[sel.component == "memory"].accesses.sum())


def receptive_field_words(c_in: int, size: int, k: int, pad: int, per_word: int):
    """Values and distinct words the k×k receptive-field walks of every output touch in a
    [c_in, size, size] vector packed ``per_word`` values to a word in storage order."""
    out = size + 2 * pad - k + 1
    values = words = 0
    for oy, ox, c, ky in itertools.product(range(out), range(out), range(c_in), range(k)):
        y = oy - pad + ky
        if not 0 <= y < size:
            continue
        xs = [ox - pad + kx for kx in range(k) if 0 <= ox - pad + kx < size]
        values += len(xs)
        words += len({(c * size * size + y * size + x) // per_word for x in xs})
    return values, words


def test_packed_words_per_pattern_by_hand(tmp_path):
    # 2×6×6 input, 3×3 kernel, padding 1: 36 outputs; 10 walks of 150 values in all.
    ev = estimate.evaluate([(_conv_arch(), _conv_trace(tmp_path / "c", 2, 6, 3, 1, (10, 150)))])
    # col of a conv state: runs of KW = 3 adjacent 13-bit values, 4 to a 64-bit word, each run
    # touching (3 + 4 - 1)/4 = 1.5 words: 150 / 3 × 1.5 = 75.
    assert _words(ev, "conv1.trace_p", "read") == pytest.approx(75 + 2 * 18, abs=1e-9)
    # row: 2 reads of the 72-value vector, ⌈72/4⌉ = 18 words each (counted in the line above).
    # elem: a spike costs a word, though 64 fit in one.
    assert _words(ev, "conv1.spk", "write") == 7
    # grad is listed as its 18×1 matrix: a column has one value per row, a word each.
    assert _words(ev, "conv1.grad", "write") == 150
    # A column of a layer without a kernel: one value per row (5 rows), a word each.
    assert _words(ev, "fc2.mem", "read") == 3 * 5


def test_receptive_field_walk_against_a_word_by_word_count(tmp_path):
    """DECOLLE conv1 at decolle_quick's sizes (2×16×16 input, 7×7 kernel, padding 2): the rule
    is within 3 % of the words really touched, where one word per value is 2.9× and packing the
    values as if adjacent 0.72×."""
    values, words = receptive_field_words(2, 16, 7, 2, per_word=4)
    assert (values, words) == (16928, 5888)
    trace = _conv_trace(tmp_path / "q", 2, 16, 7, 2, (14 * 14, values))
    ev = estimate.evaluate([(_conv_arch(), trace)])
    priced = _words(ev, "conv1.trace_p", "read") - 2 * (512 // 4)  # less the two row reads
    assert priced == pytest.approx(values * (7 + 3) / (7 * 4), abs=1)  # energy.csv rounds
    assert abs(priced / words - 1) < 0.03
    assert values / words > 2.8 and values / 4 / words < 0.75
