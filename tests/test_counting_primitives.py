"""The per-primitive counting rules of NIR networks (qsnn_mem.counting) agree exactly with an
independent brute-force counter on small random graphs, and the check can fail."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qsnn_mem.contract import AccessTable, write_trace
from qsnn_mem.counting import count_layers, gradient, primitives, tensor_rows
from qsnn_mem.counting.synapse import synapse
from qsnn_mem.tasks.nir.activity import LayerActivity
from qsnn_mem.tasks.nir.graph import Layer, Network

from .brute_force_nir import brute_force, synapses
from .counting_cases import KINDS, Activity, neuron, precision, random_activity, random_network


def nonzero_rows(rows) -> dict:
    return {k: tuple(v) for k, v in rows.items() if any(v)}


def counted(phase, mode, network, acts, train) -> dict:
    table = AccessTable()
    count_layers(table, phase, mode, network, acts, precision(), train)
    return nonzero_rows({r[:8]: list(r[8:]) for r in table.rows()})


def case(seed, n_layers, image, kinds, bias, steps, train, conv=0.7):
    rng = np.random.default_rng(seed)
    network = random_network(rng, n_layers, image, list(kinds), bias, conv)
    return network, random_activity(rng, network, steps, train)


def check(seed, n_layers, image, kinds, bias, steps, mode, train, phase="train", conv=0.7):
    network, acts = case(seed, n_layers, image, kinds, bias, steps, train, conv)
    ours = counted(phase, mode, network, acts, train)
    theirs = nonzero_rows(brute_force(phase, mode, network, acts, precision(), train))
    assert ours == theirs
    return network, acts, ours


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_layers=st.integers(1, 3),
    image=st.booleans(),
    kinds=st.lists(st.sampled_from(KINDS), min_size=3, max_size=3),
    bias=st.booleans(),
    steps=st.integers(1, 6),
    mode=st.sampled_from(["event", "dense"]),
    train=st.booleans(),
    phase=st.sampled_from(["train", "infer"]),
)
def test_random_graphs_equal_brute_force(
    seed, n_layers, image, kinds, bias, steps, mode, train, phase
):
    check(seed, n_layers, image, kinds, bias, steps, mode, train, "train" if train else phase)


@pytest.mark.parametrize("mode", ["event", "dense"])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("synapse_kind", ["conv", "dense"])
def test_every_kind_and_synapse(mode, train, kind, synapse_kind):
    """Each neuron kind as every layer of three, all conv or all dense; the rows a kind implies
    are there: both state tensors for CubaLIF only, spikes for every kind but LI."""
    image = synapse_kind == "conv"
    for seed in range(4):
        network, acts, ours = check(seed, 3, image, [kind] * 3, True, 4, mode, train, conv=1.0)
        assert {layer.synapse for layer in network.layers} == {synapse_kind}
        for layer, act in zip(network.layers, acts, strict=True):
            written = {k[3] for k in ours if k[1:3] == ("forward", layer.name) and k[4] == "write"}
            spikes = kind != "LI" and (mode == "dense" or np.count_nonzero(act.out) > 0)
            assert written == {"mem", *(["syn"] if kind == "CubaLIF" else []),
                               *(["spk"] if spikes else [])}  # fmt: skip
        if train:  # both traversals of every layer that sends errors down, zero counts included
            table = AccessTable()
            count_layers(table, "train", mode, network, acts, precision(), True)
            variants = {(r[2], r[6]) for r in table.rows() if r[6] != "any"}
            names = [layer.name for layer in network.layers]
            assert variants == {(n, t) for n in names[1:] for t in ("row", "col")}


def test_hand_worked_conv():
    """1 input channel 3x3, kernel 2x2 [[a, 0], [b, c]], stride 1, no padding: output 2x2.

    Input (1, 1) is linked by every tap (to outputs (1-ky, 1-kx)): its row has 4 synapses, 3
    non-zero; input (0, 0) only by tap (0, 0), to output (0, 0): 1 synapse, non-zero; input
    (0, 1) by taps (0, 0) and (0, 1): 2 synapses, 1 non-zero. Every output's column: the 4
    taps, 3 non-zero. Event forward of spikes at (0, 0), (1, 1) then (0, 1): 3 rows, 7
    synapses, 5 non-zero.
    """
    w = np.array([[[[1.0, 0.0], [1.0, 1.0]]]])
    layer = Layer("c1", "conv", w, None, (1, 3, 3), (1, 2, 2), neuron("LIF", (1, 2, 2)))
    syn = synapse(layer, w)
    assert syn.row_elems.reshape(3, 3).tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert syn.row_nnz.reshape(3, 3).tolist() == [[1, 1, 0], [2, 3, 1], [1, 2, 1]]
    assert syn.col_elems.tolist() == [4] * 4 and syn.col_nnz.tolist() == [3] * 4
    assert (syn.elements, syn.nonzero, syn.update_rows) == (16, 12, 4)
    spikes = np.zeros((3, 1, 3, 3), np.float32)
    spikes[0, 0, 0, 0] = spikes[1, 0, 1, 1] = spikes[2, 0, 0, 1] = 1
    out = np.zeros((3, 1, 2, 2), np.float32)
    act = Activity(spikes, spikes, out, w, state={"mem": out})
    table = AccessTable()
    count_layers(table, "infer", "event", Network((1, 3, 3), (layer,)), [act], precision(), False)
    rows = {(r[3], r[4], r[5]): r[8:] for r in table.rows()}
    assert rows[("weight", "read", "row")] == (3, 7, 5)
    assert rows[("input", "read", "elem")] == (3, 3, 3)


def test_conv_gradient_rows_share_values():
    """Two spikes of one channel in one step touch the same kernel values: the second row's
    read sees the first one's write (here it cancels it, so the second write is all zero)."""
    w = np.ones((1, 1, 1, 1), np.float32)
    layer = Layer("c1", "conv", w, None, (1, 1, 2), (1, 1, 2), neuron("IF", (1, 1, 2)))
    geo = synapse(layer, w).geometry
    spikes = np.ones((1, 1, 1, 2), np.float32)
    error = np.array([[[[0.5, -0.5]]]], np.float32)
    # Row (0,0,0): read 0 non-zero, write 1; row (0,0,1): read 1, write 0 (0.5 - 0.5).
    # Dense: before the step 0 non-zero over both rows (each holds the one tap), after it 0.
    assert gradient.conv(geo, w.shape, spikes, error).tolist() == [1, 1, 0, 0]


def test_traces_pass_the_contract(tmp_path):
    """count_layers and tensor_rows make a trace the contract's writer accepts (vocabulary,
    paired traversals, every accessed tensor listed), for training and inference together."""
    for seed in range(6):
        network, train_acts = case(seed, 3, seed % 2 == 0, ["CubaLIF", "LI", "IF"], True, 3, True)
        rng = np.random.default_rng(seed + 100)
        infer_acts = random_activity(rng, network, 3, False)
        table = AccessTable()
        count_layers(table, "train", "event", network, train_acts, precision(), True)
        count_layers(table, "infer", "event", network, infer_acts, precision(), False)
        rows = tensor_rows(network, train_acts, precision(), True)
        norm = {"train_epochs": 1, "train_samples": 1, "infer_samples": 1, "time_steps": 3}
        write_trace(tmp_path / str(seed), table, pd.DataFrame(rows), norm, {"task": "nir"})


class _Geometry:
    """A conv layer rebuilt from its geometry, for the brute force's synapse list."""

    def __init__(self, geo, kernel_shape):
        self.synapse, self.weight = "conv", np.zeros(kernel_shape)
        self.in_shape, self.out_shape = geo.in_shape, geo.out_shape
        self.stride, self.padding, self.dilation = geo.stride, geo.padding, geo.dilation
        self.groups = geo.groups


def per_step_conv(geo, kernel_shape, spikes_in, error, faithful=gradient.conv):
    """A perturbed rule: every conv row read before the step's accumulation and written after
    it, as if rows were disjoint (they share the kernel)."""
    rows: dict = {}
    for p, q, w in synapses(_Geometry(geo, kernel_shape)):
        rows.setdefault(p, []).append((q, w))
    g = np.zeros(kernel_shape, error.dtype)
    s, e = spikes_in.reshape(len(spikes_in), -1), error.reshape(len(error), -1)
    read = written = 0
    dense = faithful(geo, kernel_shape, spikes_in, error)[2:]
    for t in range(len(s) - 1, -1, -1):
        live = [p for p in range(s.shape[1]) if s[t, p] != 0]
        before = g.copy()
        for p in live:
            for q, w in rows.get(p, []):
                g[w] += s[t, p] * e[t, q]
        for p in live:
            read += sum(before[w] != 0 for _, w in rows.get(p, []))
            written += sum(g[w] != 0 for _, w in rows.get(p, []))
    return np.array([read, written, *dense], np.int64)


@pytest.mark.parametrize("mutant", ["gather_every_step", "conv_rows_per_step"])
def test_a_perturbed_rule_is_caught(monkeypatch, mutant):
    """The exact check fails for a rule that gathers at every step instead of at steps with a
    non-zero error, and for conv gradient rows counted as if they were disjoint."""
    seeds = range(12)
    cases = [(seed, 3, True, ("LIF", "CubaLIF", "IF"), False, 4, "event", True) for seed in seeds]
    for c in cases:
        check(*c)  # the faithful rules pass
    if mutant == "gather_every_step":
        original = primitives.propagation
        monkeypatch.setattr(primitives, "propagation",
                            lambda table, mode, *a: original(table, "dense", *a))  # fmt: skip
    else:
        monkeypatch.setattr(gradient, "conv", per_step_conv)
    caught = 0
    for c in cases:
        try:
            check(*c)
        except AssertionError:
            caught += 1
    assert caught > 0


def test_missing_or_misshapen_activity_is_named():
    network, acts = case(0, 2, False, ["CubaLIF", "LIF", "LIF"], False, 3, True)
    bare = [LayerActivity(a.raw_in, a.spikes_in, a.out, a.weight, a.error, a.grad) for a in acts]
    with pytest.raises(ValueError, match=r"'l0'.*state\['syn'\]"):
        counted("infer", "event", network, bare, False)
    with pytest.raises(ValueError, match="phase 'train'"):
        counted("infer", "event", network, acts, True)
    short = [acts[0], Activity(acts[1].raw_in[:2], acts[1].spikes_in, acts[1].out, acts[1].weight,
                               state=acts[1].state)]  # fmt: skip
    with pytest.raises(ValueError, match="'l1': raw_in has shape"):
        counted("infer", "dense", network, short, False)
    no_errors = [Activity(**{**a.__dict__, "spike_error": None}) for a in acts]
    with pytest.raises(ValueError, match="spike_error"):
        counted("train", "dense", network, no_errors, True)


def test_li_readout_without_state_reads_its_output():
    """An LI layer's state defaults to its output (its membrane); the layer above reads it as
    that layer's ``mem``."""
    network, acts = case(3, 2, False, ["LI", "LIF", "LIF"], False, 3, False)
    assert np.count_nonzero(acts[0].out) > 0
    with_state = [Activity(**{**acts[0].__dict__, "state": {"mem": acts[0].out}}), acts[1]]
    without = [Activity(**{**acts[0].__dict__, "state": {}}), acts[1]]
    a, b = (counted("infer", "event", network, x, False) for x in (with_state, without))
    assert a == b
    read = ("infer", "forward", network.layers[0].name, "mem", "read", "elem", "any", 8)
    assert a[read][0] == np.count_nonzero(acts[0].out)


def test_counting_is_torch_free():
    """The counters need numpy only: importing them loads neither torch nor numba."""
    code = "import sys, qsnn_mem.counting; print(sorted({'torch', 'numba'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
