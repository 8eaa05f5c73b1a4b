"""Estimate end to end on synthetic traces (table backend): words, energies, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import components, estimate, table, tables
from qsnn_mem.memory.accesses import load_trace

from .memory_fixtures import make_arch, smile, tiny_trace


@pytest.fixture
def tiny(tmp_path):
    return load_trace(tiny_trace(tmp_path / "tiny"))


def _words(energy: pd.DataFrame, memory: str, tensor: str, stage: str, op: str, phase="train"):
    sel = energy[
        (energy.memory == memory)
        & (energy.tensor == tensor)
        & (energy.stage == stage)
        & (energy.op == op)
        & (energy.phase == phase)
    ]
    return int(sel["words"].sum())


def test_hand_counted_words_and_energy(tiny):
    ev = estimate.evaluate([(make_arch("crossbar"), tiny)])
    energy, area = tables.energy_table(ev), tables.area_table(ev)
    # 2-bit weights, 64-bit words: a 4-value row is one word; a column is one word per row.
    assert _words(energy, "weights", "fc1.weight", "forward", "read") == 3
    assert _words(energy, "weights", "fc1.weight", "backward", "read") == 16
    assert _words(energy, "weights", "fc1.weight", "forward", "read", phase="infer") == 1
    # State vectors stream packed: 40 8-bit values in 32-bit words = 10; 80 spikes = ⌈80/32⌉.
    assert _words(energy, "states", "fc1.mem", "forward", "read") == 10
    assert _words(energy, "states", "fc1.input", "forward", "read") == 3
    # depth auto: 8 rows x ⌈4/32⌉ words of 64 bits.
    assert area.set_index("memory").loc["weights", "capacity_bits"] == 8 * 64
    reg = components.regfile_cost(np.array([45.0]), np.array([1.0]), np.array([32.0]))[0]
    mem_read = energy[(energy.tensor == "fc1.mem") & (energy.op == "read")]["energy_J"].sum()
    assert mem_read == pytest.approx(10 * reg[0])
    sram = table.lookup(45, 8 * 64, 64, 1, 1)[0]
    fwd = energy[
        (energy.tensor == "fc1.weight")
        & (energy.stage == "forward")
        & (energy.op == "read")
        & (energy.phase == "train")
    ]["energy_J"].sum()
    assert fwd == pytest.approx(3 * sram[0])


def test_summary_matches_tables_and_normalisers(tiny):
    ev = estimate.evaluate([(make_arch("pb-bmp"), tiny)])
    summary = ev.summary().iloc[0]
    energy = tables.energy_table(ev)
    by_phase = energy.groupby("phase")["energy_J"].sum()
    assert summary["train_J"] == pytest.approx(by_phase["train"])
    assert summary["energy_per_epoch_J"] == pytest.approx(by_phase["train"] / 2)
    assert summary["energy_per_inference_J"] == pytest.approx(by_phase["infer"] / 1)
    assert summary["area_m2"] == pytest.approx(tables.area_table(ev)["area_m2"].sum())
    assert set(energy.columns) >= {
        "memory",
        "tensor",
        "phase",
        "stage",
        "op",
        "words",
        "energy_J",
        "source",
    }


def test_leakage_follows_the_cycle_model(tiny):
    ev = estimate.evaluate([(make_arch("crossbar"), tiny)])
    # Training words: weights SRAM 3 + 16 = 19, states register file 10 + 10 + 3 = 23; one
    # word per cycle each, so the phase lasts 23 cycles and every memory leaks for that long.
    assert ev.phase_time_s[0, 0] == pytest.approx(23 / 1e8)
    assert ev.leak_J[:, 0] == pytest.approx(ev.costs[:, 2] * 23 / 1e8)
    banked = estimate.evaluate([(make_arch("crossbar", clock_hz=1e9), tiny)])
    cycle = banked.costs[0, 4]  # the SRAM is slower than 1 ns: ⌈t·f⌉ cycles per word
    assert banked.phase_time_s[0, 0] == pytest.approx(max(19 * np.ceil(cycle * 1e9), 23) / 1e9)


def test_many_pairs_equal_single_pairs(tmp_path, tiny):
    traces = [tiny, smile(tmp_path / "s", weight_bits=3, density=0.85)]
    archs = [make_arch(e) for e in ("crossbar", "pb-csr", "pb-bmp", "rle", "functional")]
    pairs = [(a, t) for a in archs for t in traces]
    many = estimate.evaluate(pairs).summary()
    for i, pair in enumerate(pairs):
        one = estimate.evaluate([pair]).summary().iloc[0]
        assert many.iloc[i]["train_J"] == pytest.approx(one["train_J"])
        assert many.iloc[i]["area_m2"] == pytest.approx(one["area_m2"])


def test_narrower_weights_mean_smaller_cheaper_memory(tmp_path):
    arch = make_arch("crossbar")
    wide = estimate.evaluate([(arch, smile(tmp_path / "w", weight_bits=8))])
    narrow = estimate.evaluate([(arch, smile(tmp_path / "n", weight_bits=2))])
    w, n = tables.area_table(wide), tables.area_table(narrow)
    assert n.loc[0, "capacity_bits"] == pytest.approx(w.loc[0, "capacity_bits"] / 4, rel=0.05)
    assert narrow.summary().iloc[0]["train_J"] < wide.summary().iloc[0]["train_J"]


def test_tensor_held_by_nobody(tiny):
    arch = make_arch("crossbar")
    data = arch.model_dump()
    data["memories"][1]["holds"] = ["syn", "mem", "spk"]
    from qsnn_mem.memory.arch import Arch

    with pytest.raises(QsnnError, match=r"'fc1\.input'.*held by no memory"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])


def test_depth_too_small_and_capacity_too_large(tiny, tmp_path):
    from qsnn_mem.memory.arch import Arch

    data = make_arch("crossbar").model_dump()
    data["memories"][0]["depth"] = 4
    with pytest.raises(QsnnError, match=r"memory 'weights'.*depth.*need 8 words"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])
    data["memories"][0]["depth"] = 2**24
    with pytest.raises(QsnnError, match=r"memory 'weights'.*above the CACTI table"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])


@pytest.mark.parametrize(
    ("file", "edit", "match"),
    [
        ("accesses.csv", lambda f: f.drop(columns="nonzero"), "missing column"),
        ("accesses.csv", lambda f: f.assign(op="erase"), "column 'op' = 'erase'"),
        ("accesses.csv", lambda f: f.assign(accesses=-1), "column 'accesses'"),
        ("accesses.csv", lambda f: f.assign(nonzero=f["elements"] + 1), "nonzero > elements"),
        ("tensors.csv", lambda f: f.assign(tensor="voltage"), "column 'tensor' = 'voltage'"),
    ],
)
def test_bad_trace_files(tmp_path, file, edit, match):
    folder = tiny_trace(tmp_path / "bad")
    frame = pd.read_csv(folder / file)
    edit(frame).to_csv(folder / file, index=False)
    with pytest.raises(QsnnError, match=match):
        load_trace(folder)


def test_missing_trace_pieces(tmp_path):
    with pytest.raises(QsnnError, match="not found"):
        load_trace(tmp_path / "nothing")
    folder = tiny_trace(tmp_path / "t")
    (folder / "trace.json").unlink()
    with pytest.raises(QsnnError, match=r"trace\.json: file not found"):
        load_trace(folder)
