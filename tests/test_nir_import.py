"""Reading NIR graphs: the layouts snnTorch and Norse write, a small convolutional graph, qsnn-mem's
metadata extension, every refused graph (a QsnnError naming the file and the node), and
``qsnn-mem import`` end to end. The graphs are written here with the ``nir`` package."""

from __future__ import annotations

import itertools
import subprocess
import sys

import h5py
import nir
import numpy as np
import pytest
import yaml

from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.nir.nir_file import load_network, network_to_nir, save_network

from .nir_reference import simulate

RNG = np.random.default_rng(7)


def write(path, nodes, edges, *, scalar=False):
    """A .nir file of ``nodes`` chained by ``edges`` (names). ``scalar``: 0-d parameters, which
    nir.write can store only without compression."""
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    if scalar:
        nir.write(path, graph, compression=None)
    else:
        nir.write(path, graph)
    return path


def chain(*names):
    return list(itertools.pairwise(names))


def lif(n, tau=0.01, thr=1.0, **kw):
    return nir.LIF(
        tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.full(n, thr), **kw
    )


def dense_graph(tmp_path, neuron, n_in=6, n_out=4, name="g.nir"):
    nodes = {
        "input": nir.Input(input_type=np.array([n_in])),
        "fc": nir.Linear(weight=RNG.normal(size=(n_out, n_in))),
        "neuron": neuron,
        "output": nir.Output(output_type=np.array([n_out])),
    }
    return write(tmp_path / name, nodes, chain("input", "fc", "neuron", "output"))


# --- snnTorch: per-neuron LIF arrays, tau = dt/(1-beta), r = tau/dt, v_leak 0 (dt = 1e-4) ----

SNNTORCH_DT = 1e-4


def snntorch_lif(beta, threshold):
    tau = SNNTORCH_DT / (1 - beta)
    return nir.LIF(tau=tau, r=tau / SNNTORCH_DT, v_leak=np.zeros_like(beta), v_threshold=threshold)


def snntorch_graph(tmp_path):
    beta1, beta2 = np.linspace(0.8, 0.95, 10), np.full(3, 0.9)
    w1, b1, w2 = RNG.normal(size=(10, 20)), RNG.normal(size=10), RNG.normal(size=(3, 10))
    nodes = {
        "input": nir.Input(input_type=np.array([2, 5, 2])),
        "flatten": nir.Flatten(input_type=np.array([2, 5, 2]), start_dim=0, end_dim=-1),
        "linear_1": nir.Affine(weight=w1, bias=b1),
        "leaky_1": snntorch_lif(beta1, np.ones(10)),
        "linear_2": nir.Linear(weight=w2),
        "leaky_2": snntorch_lif(beta2, np.full(3, 0.5)),
        "output": nir.Output(output_type=np.array([3])),
    }
    names = ["input", "flatten", "linear_1", "leaky_1", "linear_2", "leaky_2", "output"]
    path = write(tmp_path / "snntorch.nir", nodes, chain(*names))
    return path, (beta1, beta2, w1, b1, w2)


def test_snntorch_layout_is_read_field_by_field(tmp_path):
    path, (beta1, _, w1, b1, w2) = snntorch_graph(tmp_path)
    net = load_network(path, SNNTORCH_DT)
    assert net.input_shape == (2, 5, 2) and net.layer_names == ["linear_1", "linear_2"]
    first, second = net.layers
    assert [r.kind for r in first.reshapes] == ["flatten"] and first.reshapes[0].node == "flatten"
    assert first.synapse == "dense" and first.in_shape == (20,) and first.out_shape == (10,)
    np.testing.assert_array_equal(first.weight, w1)
    np.testing.assert_array_equal(first.bias, b1)
    assert second.bias is None and second.in_shape == (10,) and second.out_shape == (3,)
    np.testing.assert_array_equal(second.weight, w2)
    n = first.neuron
    assert (n.kind, n.node, n.reset, n.spike_first) == ("LIF", "leaky_1", "to_value", False)
    assert n.tau_syn is None and n.w_in is None
    np.testing.assert_allclose(n.tau_mem, SNNTORCH_DT / (1 - beta1))
    np.testing.assert_allclose(n.r, 1 / (1 - beta1))
    np.testing.assert_array_equal(n.v_leak, np.zeros(10))
    np.testing.assert_array_equal(n.v_reset, np.zeros(10))
    np.testing.assert_array_equal(n.v_threshold, np.ones(10))
    # With the exporter's dt the per-step decay is snnTorch's beta, and the input gain 1.
    np.testing.assert_allclose(1 - SNNTORCH_DT / n.tau_mem, beta1)
    np.testing.assert_allclose(SNNTORCH_DT / n.tau_mem * n.r, 1.0)
    np.testing.assert_array_equal(second.neuron.v_threshold, np.full(3, 0.5))


def test_snntorch_layout_simulates_as_beta_recursion(tmp_path):
    """v_t = beta v_{t-1} + W x_t + b, spike when v_t > threshold, then v = 0 (NIR's reset)."""
    path, (beta1, _, w1, b1, _) = snntorch_graph(tmp_path)
    net = load_network(path, SNNTORCH_DT)
    x = (RNG.random((30, 2, 5, 2)) < 0.3).astype(float)
    out = simulate(net, x, SNNTORCH_DT)[0]
    v, expected = np.zeros(10), []
    for t in range(30):
        v = beta1 * v + w1 @ x[t].reshape(-1) + b1
        s = (v > 1.0).astype(float)
        v = np.where(s > 0, 0.0, v)
        expected.append(s)
    np.testing.assert_array_equal(out, np.array(expected))
    assert out.sum() > 0


def test_flatten_with_a_batch_axis_is_read_as_whole_frame(tmp_path):
    nodes = {
        "input": nir.Input(input_type=np.array([2, 3, 3])),
        "flat": nir.Flatten(input_type=np.array([2, 3, 3]), start_dim=1, end_dim=-1),
        "fc": nir.Linear(weight=RNG.normal(size=(4, 18))),
        "lif": lif(4),
        "output": nir.Output(output_type=np.array([4])),
    }
    net = load_network(write(tmp_path / "f.nir", nodes, chain(*nodes)), 1e-3)
    assert net.layers[0].in_shape == (18,)


# --- Norse: CubaLIF with scalar (0-d) parameters, r = 1, w_in = 1, times in seconds ----------


def test_norse_scalar_cubalif_is_broadcast(tmp_path):
    neuron = nir.CubaLIF(
        tau_syn=np.array(5e-3), tau_mem=np.array(1e-2), r=np.array(1.0), v_leak=np.array(0.0),
        v_threshold=np.array(1.0), v_reset=np.array(0.0), w_in=np.array(1.0),
    )  # fmt: skip
    nodes = {
        "input": nir.Input(input_type=np.array([6])),
        "0": nir.Affine(weight=RNG.normal(size=(4, 6)), bias=np.zeros(4)),
        "1": neuron,
        "output": nir.Output(output_type=np.array([4])),
    }
    path = write(tmp_path / "norse.nir", nodes, chain("input", "0", "1", "output"), scalar=True)
    (layer,) = load_network(path, 1e-3).layers
    n = layer.neuron
    assert layer.name == "0" and n.node == "1" and n.kind == "CubaLIF"
    assert layer.bias is None  # an all-zero bias is no bias
    for value, expected in [
        (n.tau_syn, 5e-3), (n.tau_mem, 1e-2), (n.r, 1.0), (n.w_in, 1.0), (n.v_leak, 0.0),
        (n.v_threshold, 1.0), (n.v_reset, 0.0),
    ]:  # fmt: skip
        assert value.shape == (4,) and np.all(value == expected)
    assert (n.reset, n.spike_first) == ("to_value", False)


def test_cubalif_follows_the_nir_equations(tmp_path):
    """I_t = I + dt/tau_syn (w_in x - I); v integrates I_{t-1}; reset to v_reset."""
    neuron = nir.CubaLIF(
        tau_syn=np.full(3, 4e-3), tau_mem=np.full(3, 8e-3), r=np.full(3, 2.0),
        v_leak=np.full(3, 0.1), v_threshold=np.full(3, 0.3), v_reset=np.full(3, -0.2),
        w_in=np.full(3, 1.5),
    )  # fmt: skip
    net = load_network(dense_graph(tmp_path, neuron, n_in=5, n_out=3), 1e-3)
    x = (RNG.random((40, 5)) < 0.5).astype(float)
    out = simulate(net, x, 1e-3)[0]
    w = net.layers[0].weight
    i_syn, v, expected = np.zeros(3), np.zeros(3), []
    for t in range(40):
        i_new = i_syn + 0.25 * (1.5 * (w @ x[t]) - i_syn)
        v = v + 0.125 * (0.1 - v + 2.0 * i_syn)
        s = (v > 0.3).astype(float)
        v, i_syn = np.where(s > 0, -0.2, v), i_new
        expected.append(s)
    np.testing.assert_array_equal(out, np.array(expected))


# --- a small convolutional graph: Conv2d -> LIF -> SumPool2d -> Flatten -> Affine -> LIF/LI ---


def conv_graph(tmp_path, last="LIF", name="conv.nir"):
    c_w = RNG.normal(size=(4, 2, 3, 3))
    fc_w, fc_b = RNG.normal(size=(5, 64)), RNG.normal(size=5)
    readout = (
        lif(5, tau=0.02, thr=0.5)
        if last == "LIF"
        else nir.LI(tau=np.full(5, 0.02), r=np.ones(5), v_leak=np.zeros(5))
    )
    nodes = {
        "input": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(
            input_shape=(8, 8),
            weight=c_w,
            stride=1,
            padding=1,
            dilation=1,
            groups=1,
            bias=np.array([0.1, 0.0, -0.1, 0.2]),
        ),
        "lif1": nir.LIF(
            tau=np.full((4, 8, 8), 0.01),
            r=np.ones((4, 8, 8)),
            v_leak=np.zeros((4, 8, 8)),
            v_threshold=np.linspace(0.5, 1.0, 4 * 64).reshape(4, 8, 8),
        ),
        "pool": nir.SumPool2d(
            kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])
        ),
        "flat": nir.Flatten(input_type=np.array([4, 4, 4]), start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=fc_w, bias=fc_b),
        "out": readout,
        "output": nir.Output(output_type=np.array([5])),
    }
    path = write(tmp_path / name, nodes, chain(*nodes))
    return path, (c_w, fc_w, fc_b)


@pytest.mark.parametrize("last", ["LIF", "LI"])
def test_conv_graph_is_read_field_by_field(tmp_path, last):
    path, (c_w, fc_w, fc_b) = conv_graph(tmp_path, last)
    net = load_network(path, 1e-3)
    conv, fc = net.layers
    assert net.input_shape == (2, 8, 8) and net.layer_names == ["conv", "fc"]
    assert conv.synapse == "conv" and conv.in_shape == (2, 8, 8) and conv.out_shape == (4, 8, 8)
    assert (conv.stride, conv.padding, conv.dilation, conv.groups) == ((1, 1), (1, 1), (1, 1), 1)
    np.testing.assert_array_equal(conv.weight, c_w)
    np.testing.assert_array_equal(conv.bias, [0.1, 0.0, -0.1, 0.2])
    assert conv.neuron.v_threshold.shape == (4, 8, 8) and conv.neuron.v_threshold[3, 7, 7] == 1.0
    assert [(r.kind, r.node) for r in fc.reshapes] == [("sumpool", "pool"), ("flatten", "flat")]
    assert fc.reshapes[0].kernel == (2, 2) and fc.reshapes[0].stride == (2, 2)
    assert fc.in_shape == (64,) and fc.out_shape == (5,)
    np.testing.assert_array_equal(fc.weight, fc_w)
    np.testing.assert_array_equal(fc.bias, fc_b)
    assert fc.neuron.kind == last and fc.neuron.node == "out"
    if last == "LI":
        assert np.all(np.isinf(fc.neuron.v_threshold))
    outs = simulate(net, (RNG.random((6, 2, 8, 8)) < 0.4).astype(float), 1e-3)
    assert outs[0].shape == (6, 4, 8, 8) and outs[1].shape == (6, 5)


def test_a_written_network_reads_back_the_same(tmp_path):
    path, _ = conv_graph(tmp_path)
    net = load_network(path, 1e-3)
    again = load_network(save_network(net, tmp_path / "again.nir"), 1e-3)
    assert again.input_shape == net.input_shape
    for a, b in zip(net.layers, again.layers, strict=True):
        assert (a.name, a.synapse, a.in_shape, a.out_shape, a.reshapes) == (
            b.name, b.synapse, b.in_shape, b.out_shape, b.reshapes,
        )  # fmt: skip
        np.testing.assert_array_equal(a.weight, b.weight)
        for field in ("tau_mem", "r", "v_leak", "v_threshold", "v_reset"):
            np.testing.assert_array_equal(getattr(a.neuron, field), getattr(b.neuron, field))
    assert nir.read(tmp_path / "again.nir").nodes["conv"].weight.shape == (4, 2, 3, 3)


def test_per_channel_parameters_of_a_conv_layer(tmp_path):
    nodes = {
        "input": nir.Input(input_type=np.array([1, 4, 4])),
        "conv": nir.Conv2d(
            input_shape=(4, 4),
            weight=RNG.normal(size=(3, 1, 3, 3)),
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
            bias=np.zeros(3),
        ),
        "lif": nir.LIF(
            tau=np.array([0.01, 0.02, 0.03]),
            r=np.ones(3),
            v_leak=np.zeros(3),
            v_threshold=np.ones(3),
        ),
        "output": nir.Output(output_type=np.array([3, 2, 2])),
    }
    path = write(tmp_path / "c.nir", nodes, chain(*nodes))
    with h5py.File(path, "r+") as f:
        del f["node/nodes/conv/input_shape"]  # optional: the shape comes from the chain
    (layer,) = load_network(path, 1e-3).layers
    assert layer.out_shape == (3, 2, 2) and layer.bias is None
    np.testing.assert_array_equal(layer.neuron.tau_mem[:, 1, 0], [0.01, 0.02, 0.03])


# --- qsnn-mem's metadata extension -----------------------------------------------------------


def test_qsnn_mem_metadata_sets_reset_and_order(tmp_path):
    meta = {"qsnn_mem.reset": "subtract", "qsnn_mem.reset_amount": 0.75,
            "qsnn_mem.spike_first": True, "other.tool": "ignored"}  # fmt: skip
    (layer,) = load_network(dense_graph(tmp_path, lif(4, metadata=meta)), 1e-3).layers
    n = layer.neuron
    assert (n.reset, n.reset_amount, n.spike_first) == ("subtract", 0.75, True)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"qsnn_mem.reset": "zero"}, "'qsnn_mem.reset' = 'zero' (allowed: to_value, subtract)"),
        ({"qsnn_mem.reset": "subtract"}, "needs 'qsnn_mem.reset_amount'"),
        ({"qsnn_mem.reset_amount": 1.0}, "needs 'qsnn_mem.reset' = 'subtract'"),
        ({"qsnn_mem.spike_first": "yes"}, "'qsnn_mem.spike_first' = 'yes'"),
        ({"qsnn_mem.spike_frist": True}, "unknown metadata key 'qsnn_mem.spike_frist'"),
    ],
)
def test_bad_metadata_is_refused(tmp_path, meta, expected):
    with pytest.raises(QsnnError) as err:
        load_network(dense_graph(tmp_path, lif(4, metadata=meta)), 1e-3)
    assert "node 'neuron' (LIF)" in str(err.value) and expected in str(err.value)


# --- refused graphs: a QsnnError naming the file and the node --------------------------------


def base():
    nodes = {
        "input": nir.Input(input_type=np.array([6])),
        "fc1": nir.Linear(weight=RNG.normal(size=(4, 6))),
        "lif1": lif(4),
        "fc2": nir.Linear(weight=RNG.normal(size=(3, 4))),
        "lif2": lif(3),
        "output": nir.Output(output_type=np.array([3])),
    }
    return nodes, chain(*nodes)


def recurrent(nodes, edges):
    nodes["rec"] = nir.Linear(weight=np.eye(4))
    return nodes, [*edges, ("lif1", "rec"), ("rec", "lif1")]


def self_loop(nodes, edges):
    return nodes, [*edges, ("lif2", "lif2")]


def branch(nodes, edges):
    nodes["extra"] = nir.Output(output_type=np.array([4]))
    return nodes, [*edges, ("lif1", "extra")]


def unknown_type(nodes, edges):
    nodes["fc2"] = nir.Scale(scale=np.ones(4))
    return nodes, edges


def delay(nodes, edges):
    nodes["fc2"] = nir.Delay(delay=np.ones(4))
    return nodes, edges


def subgraph(nodes, edges):
    inner = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(4)), lif(4))
    nodes["fc2"] = inner
    return nodes, edges


def weight_mismatch(nodes, edges):
    nodes["fc2"] = nir.Linear(weight=RNG.normal(size=(3, 5)))
    return nodes, edges


def param_shape(nodes, edges):
    nodes["lif2"] = lif(2)
    return nodes, edges


def no_input(nodes, edges):
    del nodes["input"]
    return nodes, edges[1:]


def no_output(nodes, edges):
    del nodes["output"]
    return nodes, edges[:-1]


def neuron_first(nodes, edges):
    del nodes["fc1"]
    nodes["lif1"] = lif(6)
    nodes["fc2"] = nir.Linear(weight=RNG.normal(size=(3, 6)))
    return nodes, chain("input", "lif1", "fc2", "lif2", "output")


def two_synapses(nodes, edges):
    nodes["lif1"] = nir.Linear(weight=RNG.normal(size=(4, 4)))
    return nodes, edges


def tau_zero(nodes, edges):
    nodes["lif2"] = lif(3, tau=0.0)
    return nodes, edges


def tau_below_dt(nodes, edges):
    nodes["lif2"] = lif(3, tau=1e-4)
    return nodes, edges


def tau_syn_negative(nodes, edges):
    nodes["lif2"] = nir.CubaLIF(
        tau_syn=np.full(3, -1e-3), tau_mem=np.full(3, 1e-2), r=np.ones(3), v_leak=np.zeros(3),
        v_threshold=np.ones(3),
    )  # fmt: skip
    return nodes, edges


def nan_weight(nodes, edges):
    w = RNG.normal(size=(3, 4))
    w[1, 2] = np.nan
    nodes["fc2"] = nir.Linear(weight=w)
    return nodes, edges


def disconnected(nodes, edges):
    nodes["stray"] = lif(3)
    return nodes, edges


def after_last_neuron(nodes, edges):
    nodes["flat"] = nir.Flatten(input_type=np.array([3]), start_dim=0, end_dim=-1)
    return nodes, [*edges[:-1], ("lif2", "flat"), ("flat", "output")]


def synapse_to_output(nodes, edges):
    del nodes["lif2"]
    return nodes, chain("input", "fc1", "lif1", "fc2", "output")


def output_shape(nodes, edges):
    nodes["output"] = nir.Output(output_type=np.array([7]))
    return nodes, edges


def conv_on_vector(nodes, edges):
    nodes["fc2"] = nir.Conv2d(input_shape=(2, 2), weight=RNG.normal(size=(3, 1, 1, 1)), stride=1,
                              padding=0, dilation=1, groups=1, bias=np.zeros(3))  # fmt: skip
    return nodes, edges


CASES = [
    (recurrent, "rec", "closes a cycle"),
    (self_loop, "lif2", "closes a cycle"),
    (branch, "lif1", "feeds several nodes"),
    (unknown_type, "fc2", "type 'Scale'"),
    (delay, "fc2", "type 'Delay'"),
    (subgraph, "fc2", "subgraph (NIRGraph)"),
    (weight_mismatch, "fc2", "takes 5 inputs, but receives 4"),
    (param_shape, "lif2", "tau has shape (2,), but the layer's output has shape (3,)"),
    (no_input, "fc1", "exactly one Input node, it has none"),
    (no_output, "lif2", "exactly one Output node, it has none"),
    (neuron_first, "lif1", "has no synapse before it"),
    (two_synapses, "lif1", "follows synapse 'fc1' directly"),
    (tau_zero, "lif2", "tau = 0.0 (allowed: > 0 s)"),
    (tau_below_dt, "lif2", "shorter than the time step dt = 0.001 s"),
    (tau_syn_negative, "lif2", "tau_syn = -0.001 (allowed: > 0 s)"),
    (nan_weight, "fc2", "weight holds nan (allowed: finite numbers)"),
    (disconnected, "stray", "is not on the chain"),
    (after_last_neuron, "flat", "only the Output may follow"),
    (synapse_to_output, "output", "follows synapse 'fc2' directly"),
    (output_shape, "output", "declares shape [7], but the last layer 'fc2' gives (3,)"),
    (conv_on_vector, "fc2", "a Conv2d receives a (4,) frame"),
]


@pytest.mark.parametrize(("change", "node", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_refused_graphs_name_the_file_and_node(tmp_path, change, node, expected):
    nodes, edges = change(*base())
    path = write(tmp_path / "bad.nir", nodes, edges)
    with pytest.raises(QsnnError) as err:
        load_network(path, 1e-3)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert f"'{node}'" in message and expected in message, message


def test_missing_folder_and_non_hdf5_files_are_refused(tmp_path):
    junk = tmp_path / "junk.nir"
    junk.write_text("not hdf5")
    empty = tmp_path / "empty.nir"
    with h5py.File(empty, "w") as f:
        f.create_dataset("version", data="1.0")
    for path, expected in [
        (tmp_path / "missing.nir", "file not found"),
        (tmp_path, "not a file"),
        (junk, "not a readable NIR file"),
        (empty, "without a 'node' group"),
    ]:
        with pytest.raises(QsnnError, match=expected):
            load_network(path, 1e-3)
    with pytest.raises(QsnnError, match="time step dt"):
        load_network(dense_graph(tmp_path, lif(4)), 0.0)


def test_network_to_nir_is_a_valid_nir_graph(tmp_path):
    net = load_network(dense_graph(tmp_path, lif(4, metadata={"qsnn_mem.spike_first": True})), 1e-3)
    graph = network_to_nir(net)
    graph.check_types()  # nir's own type check
    assert graph.nodes["neuron"].metadata == {"qsnn_mem.spike_first": True}
    assert graph.edges == chain("input", "fc", "neuron", "output")


# --- qsnn-mem import --------------------------------------------------------------------------


def test_import_writes_a_workload(tmp_path, capsys):
    path, _ = conv_graph(tmp_path)
    out = tmp_path / "workloads" / "mynet.yaml"
    assert main(["import", str(path), "--out", str(out), "--nb-steps", "20"]) == 0
    text = out.read_text()
    data = yaml.safe_load(text)
    assert data == {
        "name": "mynet", "task": "nir", "graph": "../conv.nir", "dt": 0.001, "nb_steps": 20,
    }  # fmt: skip
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "conv.nir" in header[0]
    assert any("conv: conv (2, 8, 8) -> (4, 8, 8)" in line for line in header)
    assert any("sumpool 'pool', flatten 'flat', dense (64,) -> (5,)" in line for line in header)
    assert "wrote" in capsys.readouterr().out
    # An existing file is kept unless --overwrite.
    assert main(["import", str(path), "--out", str(out), "--dt", "2e-3"]) == 2
    assert "exists; add --overwrite" in " ".join(capsys.readouterr().err.split())
    assert out.read_text() == text
    assert main(["import", str(path), "--out", str(out), "--dt", "2e-3", "--overwrite"]) == 0
    assert yaml.safe_load(out.read_text())["dt"] == 0.002


def test_import_refuses_bad_files_without_writing(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    junk = tmp_path / "junk.nir"
    junk.write_text("not hdf5")
    nodes, edges = recurrent(*base())
    cyclic = write(tmp_path / "cyclic.nir", nodes, edges)
    for model, expected in [
        (junk, "not a readable NIR file"),
        (tmp_path / "missing.nir", "file not found"),
        (cyclic, "closes a cycle"),
        (tmp_path / "model.onnx", "not a .nir file"),
    ]:
        assert main(["import", str(model), "--out", str(out)]) == 2
        assert expected in " ".join(capsys.readouterr().err.split())
        assert not out.exists()
    good = dense_graph(tmp_path, lif(4))
    assert main(["import", str(good), "--out", str(tmp_path / "w.txt")]) == 2
    assert "allowed: .yaml, .yml" in " ".join(capsys.readouterr().err.split())
    assert main(["import", str(good), "--out", str(out), "--dt", "1"]) == 2
    assert "shorter than the time step dt = 1 s" in " ".join(capsys.readouterr().err.split())


def test_reading_a_graph_loads_no_torch():
    code = (
        "import sys; import qsnn_mem.tasks.nir.nir_file, qsnn_mem.cli.nir; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'torch'); "
        "print(bad[:5]); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr[-300:]
