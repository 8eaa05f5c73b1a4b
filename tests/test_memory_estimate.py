"""Estimate end to end on synthetic traces (table backend): words, energies, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.contract import load_trace
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import datapath, estimate, kinds, table, tables
from qsnn_mem.memory.arch import Arch

from .memory_fixtures import make_arch, smile, tiny_trace


@pytest.fixture
def tiny(tmp_path):
    return load_trace(tiny_trace(tmp_path / "tiny"))


def _accesses(energy: pd.DataFrame, memory: str, tensor: str, stage: str, op: str, phase="train"):
    sel = energy[
        (energy.memory == memory)
        & (energy.tensor == tensor)
        & (energy.stage == stage)
        & (energy.op == op)
        & (energy.phase == phase)
        & (energy.component == "memory")
    ]
    return int(sel["accesses"].sum())


def test_hand_counted_accesses_and_energy(tiny):
    ev = estimate.evaluate([(make_arch("crossbar"), tiny)])
    energy, area = tables.energy_table(ev), tables.area_table(ev)
    # One 2-bit synapse per value read: 3 rows of 4 values; the propagation as 2 columns of 8
    # (16 reads) is cheaper than the gather (8 rows of 4 = 32 reads), so auto keeps it.
    assert _accesses(energy, "weights", "fc1.weight", "forward", "read") == 12
    assert _accesses(energy, "weights", "fc1.weight", "backward", "read") == 16
    assert _accesses(energy, "weights", "fc1.weight", "forward", "read", phase="infer") == 4
    assert tables.traversal_table(ev).set_index("tensor").loc["fc1.weight", "propagation"] == "col"
    # Element accesses of a packed tensor touch one word each (docs/memory.md, "Non-weight
    # tensors"): 40 single 8-bit values, 80 single spikes, whatever fits in a 32-bit word.
    assert _accesses(energy, "states", "fc1.mem", "forward", "read") == 40
    assert _accesses(energy, "states", "fc1.input", "forward", "read") == 80
    # depth auto: the value array holds 8 x 4 synapses in 2-bit words.
    weights = area.set_index("memory").loc["weights"]
    assert (weights["array"], weights["word_bits"], weights["depth"]) == ("values", 2, 32)
    reg = kinds.regfile.cost("table", [45.0], [1.0], [32.0], [1], [1])[0][0]
    mem_read = energy[
        (energy.tensor == "fc1.mem") & (energy.op == "read") & (energy.component == "memory")
    ]["energy_J"].sum()
    assert mem_read == pytest.approx(40 * reg[0], rel=1e-6, abs=0)
    # 2-bit words: a byte-wide macro of the same depth (narrow_words: same-depth).
    sram = table.lookup(45, 32 * 8, 8, 1, 1)[0]
    fwd = energy[
        (energy.tensor == "fc1.weight") & (energy.stage == "forward") & (energy.op == "read")
        & (energy.phase == "train") & (energy.component == "memory")
    ]["energy_J"].sum()  # fmt: skip
    assert fwd == pytest.approx(12 * sram[0], rel=1e-6, abs=0)
    ctrl = energy[(energy.tensor == "fc1.weight") & (energy.component == "controller")]
    assert ctrl["energy_J"].sum() == pytest.approx(
        (12 + 16 + 4) * datapath.controller_J(45.0), rel=1e-6, abs=0
    )


def test_row_propagation_keeps_the_gather(tiny):
    data = make_arch("crossbar").model_dump()
    data["memories"][0]["propagation"] = "row"
    ev = estimate.evaluate([(Arch.model_validate(data), tiny)])
    energy = tables.energy_table(ev)
    assert _accesses(energy, "weights", "fc1.weight", "backward", "read") == 32
    assert tables.traversal_table(ev)["propagation"].tolist() == ["row"]


def test_summary_matches_tables_and_normalisers(tiny):
    ev = estimate.evaluate([(make_arch("pb-bmp"), tiny)])
    summary = ev.summary().iloc[0]
    energy = tables.energy_table(ev)
    by_phase = energy.groupby("phase")["energy_J"].sum()
    assert summary["train_J"] == pytest.approx(by_phase["train"], rel=1e-6, abs=0)
    assert summary["energy_per_epoch_J"] == pytest.approx(by_phase["train"] / 2, rel=1e-6, abs=0)
    assert summary["energy_per_inference_J"] == pytest.approx(
        by_phase["infer"] / 1, rel=1e-6, abs=0
    )
    assert summary["area_m2"] == pytest.approx(
        tables.area_table(ev)["area_m2"].sum(), rel=1e-6, abs=0
    )
    train = energy[energy.phase == "train"]
    parts = train.groupby("component")["energy_J"].sum()
    leak = train[train.op == "leak"]["energy_J"].sum()
    assert summary["train_controller_J"] == pytest.approx(parts["controller"], rel=1e-6, abs=0)
    assert summary["train_datapath_J"] == pytest.approx(parts["datapath"], rel=1e-6, abs=0)
    assert summary["train_memory_J"] == pytest.approx(parts["memory"] - leak, rel=1e-6, abs=0)
    assert list(energy.columns) == tables.ENERGY_COLUMNS
    assert set(tables.area_table(ev)["array"]) >= {"values", "bitmap", "pointers"}


def test_leakage_follows_the_cycle_model(tiny):
    ev = estimate.evaluate([(make_arch("crossbar"), tiny)])
    # Training accesses: weights 12 + 16 = 28, states register file 40 + 40 + 80 = 160 (single
    # values, a word each); one per cycle each, so the phase lasts 160 cycles and every array
    # leaks for that long.
    assert ev.phase_time_s[0, 0] == pytest.approx(160 / 1e8, rel=1e-6, abs=0)
    assert ev.leak_J[:, 0] == pytest.approx(ev.costs[:, 2] * 160 / 1e8, rel=1e-6, abs=0)
    fast = estimate.evaluate([(make_arch("crossbar", clock_hz=1e11), tiny)])
    cycle = fast.costs[0, 4]  # the SRAM is slower than 0.01 ns: ⌈t·f⌉ cycles per access
    assert 28 * np.ceil(cycle * 1e11) > 160  # now the weight SRAM is the busiest
    assert fast.phase_time_s[0, 0] == pytest.approx(
        28 * np.ceil(cycle * 1e11) / 1e11, rel=1e-6, abs=0
    )


def test_many_pairs_equal_single_pairs(tmp_path, tiny):
    traces = [tiny, smile(tmp_path / "s", weight_bits=3, density=0.85)]
    archs = [make_arch(e) for e in ("crossbar", "pb-csr", "pb-bmp", "rle")]
    pairs = [(a, t) for a in archs for t in traces]
    many = estimate.evaluate(pairs).summary()
    for i, pair in enumerate(pairs):
        one = estimate.evaluate([pair]).summary().iloc[0]
        assert many.iloc[i]["train_J"] == pytest.approx(one["train_J"], rel=1e-6, abs=0)
        assert many.iloc[i]["area_m2"] == pytest.approx(one["area_m2"], rel=1e-6, abs=0)


def test_narrower_weights_mean_smaller_cheaper_memory(tmp_path):
    arch = make_arch("crossbar")
    wide = estimate.evaluate([(arch, smile(tmp_path / "w", weight_bits=8))])
    narrow = estimate.evaluate([(arch, smile(tmp_path / "n", weight_bits=2))])
    w, n = tables.area_table(wide), tables.area_table(narrow)
    assert n.loc[0, "capacity_bits"] == pytest.approx(
        w.loc[0, "capacity_bits"] / 4, rel=1e-6, abs=0
    )
    assert narrow.summary().iloc[0]["train_J"] < wide.summary().iloc[0]["train_J"]


def test_tensor_held_by_nobody(tiny):
    arch = make_arch("crossbar")
    data = arch.model_dump()
    data["memories"][1]["holds"] = ["syn", "mem", "spk"]

    with pytest.raises(QsnnError, match=r"'fc1\.input'.*held by no memory"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])


def test_depth_too_small_and_capacity_too_large(tiny, tmp_path):
    data = make_arch("crossbar").model_dump()
    data["memories"][0]["depth"] = 4
    with pytest.raises(QsnnError, match=r"memory 'weights'.*depth.*need 32 words"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])
    data["memories"][0]["depth"] = 2**26
    with pytest.raises(QsnnError, match=r"memory 'weights', array 'values'.*capacity"):
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


def test_datapath_energy_by_hand(tmp_path):
    from qsnn_mem.memory import layer_pass

    trace = load_trace(layer_pass.fc_pass(tmp_path / "fc", 8, 6, 0.5, 4))
    data = make_arch("crossbar").model_dump()
    data["memories"][0]["propagation"] = "col"
    ev = estimate.evaluate([(Arch.model_validate(data), trace)])
    energy = tables.energy_table(ev)
    dp = energy[energy.component == "datapath"].groupby("stage")["energy_J"].sum()
    h = 45 / 45  # Horowitz figures are at 45 nm
    a = 45 / 40  # Aladdin figures at 40 nm
    # Forward: the crossbar reads all 48 values and accumulates each at 16 bits (the trace
    # lists no state of the layer).
    add16 = 0.03e-12 + 0.07e-12 * 8 / 24
    assert dp["forward"] == pytest.approx(48 * add16 * h, rel=1e-6, abs=0)
    # Backward (scatter, 6 columns of 8): per value read a 4x16 multiply and a 16-bit add, one
    # 16-bit error-buffer read per column; update: a 4-bit add per rewritten value (all 48
    # stored values of the crossbar; 4-bit add = 0.03 pJ x 4/8).
    propagate = 48 * (0.2e-12 * 4 * 16 / 64 + add16) * h + 6 * 16 * 0.009e-12 * a
    update = 48 * 0.03e-12 * 4 / 8 * h
    assert dp["backward"] == pytest.approx(propagate, rel=1e-6, abs=0)
    assert dp["update"] == pytest.approx(update, rel=1e-6, abs=0)


def test_narrow_words_same_depth_or_same_capacity(tiny):
    """A 2-bit value array of 32 words: a byte-wide 32-word macro, or 64 cells column-muxed."""
    costs = {}
    for rule in ("same-depth", "same-capacity"):
        ev = estimate.evaluate([(make_arch("crossbar", narrow_words=rule), tiny)])
        costs[rule] = ev.costs[0]
    assert costs["same-depth"] == pytest.approx(table.lookup(45, 256, 8, 1, 1)[0], rel=1e-9, abs=0)
    assert costs["same-capacity"] == pytest.approx(
        table.lookup(45, 64, 2, 1, 1)[0], rel=1e-9, abs=0
    )
    assert costs["same-depth"][0] > costs["same-capacity"][0]


def test_an_array_wider_than_the_table_names_memory_and_array(tiny):
    data = make_arch("crossbar").model_dump()
    data["memories"][0]["synapses_per_access"] = 200  # 200 two-bit synapses: a 400-bit array
    with pytest.raises(QsnnError, match=r"memory 'weights', array 'values'.*400-bit words"):
        estimate.evaluate([(Arch.model_validate(data), tiny)])
