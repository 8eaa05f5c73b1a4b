"""Writing the smile network as NIR: its fields, and the float smile model's spikes equal, step by
step, the numpy oracle's (tests/nir_reference.py) on the exported-then-imported graph; the
``qsnn-mem export-nir`` command; the oracle's convolution against torch's; and, where snnTorch or
Norse is installed, a graph exported by them read back."""

from __future__ import annotations

import importlib.util

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.nir.graph import Layer, Neuron, Reshape
from qsnn_mem.tasks.nir.nir_file import load_network, save_network
from qsnn_mem.tasks.nir.smile_export import smile_network
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.data import smile_input
from qsnn_mem.tasks.smile.model import SmileNet
from qsnn_mem.tasks.smile.precision import precision as precision_of
from qsnn_mem.tasks.smile.run import load_weights

from . import nir_reference
from .nir_reference import simulate
from .plain_float import lif_layer

FLOAT = dict(weight_bits=None, state_bits=None, grad_bits=None, error_bits=None)
FLOAT_SET = [arg for k in FLOAT for arg in ("--set", f"{k}=null")]


def model_spikes(cfg, x, weights=None):
    """The smile model's spikes per layer (autograd backend, states not quantized)."""
    net = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "autograd")
    if weights is not None:
        loaded = load_weights(weights, cfg, precision_of(cfg))
        with torch.no_grad():
            for w, (shadow, _) in zip(net.weights, loaded, strict=True):
                w.copy_(torch.from_numpy(shadow))
        net.scales = [scale for _, scale in loaded]
    net.clip_()
    return [rec.spikes_out.numpy() for rec in net.infer(torch.from_numpy(x))], net


def oracle_spikes(tmp_path, cfg, weights=None):
    path = save_network(smile_network(cfg, weights), tmp_path / "smile.nir")
    return simulate(load_network(path, cfg.time_step), smile_input(cfg), cfg.time_step)


@pytest.mark.parametrize(
    "setup",
    [
        dict(**FLOAT),
        dict(**FLOAT, float_mode="scaled"),
        dict(FLOAT, weight_bits=2),  # quantized forward weights, float states
        dict(FLOAT, weight_bits=4, threshold=0.5, reset=0.9, alpha=0.5, beta=0.75),
    ],
    ids=["float", "float-scaled", "w2", "w4-other-neuron"],
)
def test_exported_smile_spikes_as_the_float_model(tmp_path, setup):
    cfg = SmileWorkload(**setup)  # 700-400-250, 250 steps, initial weights
    x = smile_input(cfg)
    ours = oracle_spikes(tmp_path, cfg)
    model, net = model_spikes(cfg, x)
    w1, w2 = (w.T for w in net.forward_weights())
    plain = lif_layer(cfg, torch.from_numpy(x) @ w1.T)
    plain_out = lif_layer(cfg, plain @ w2.T)
    for layer, ref, independent in zip(ours, model, (plain, plain_out), strict=True):
        assert layer.shape == ref.shape and layer.sum() > 0
        np.testing.assert_array_equal(layer, ref)  # step by step, every neuron
        np.testing.assert_array_equal(layer, independent.numpy())


def test_smile_export_fields(tmp_path):
    cfg = SmileWorkload()
    dt = cfg.time_step
    network = smile_network(cfg)
    net = load_network(save_network(network, tmp_path / "smile.nir"), dt)
    assert net.input_shape == (700,) and net.layer_names == ["fc1", "fc2"]
    assert net.metadata["qsnn_mem.dt"] == repr(dt) and net.metadata["qsnn_mem.precision"]
    model = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "autograd")
    model.clip_()
    for layer, w_hat, (n_in, n_out) in zip(
        net.layers, model.forward_weights(), [(700, 400), (400, 250)], strict=True
    ):
        assert (layer.in_shape, layer.out_shape, layer.bias) == ((n_in,), (n_out,), None)
        np.testing.assert_array_equal(layer.weight, w_hat.numpy().T)
        # 2-bit codes (-1, 0, 1) over the step 2 and the forward scale 16
        assert set(np.unique(layer.weight * 2 * 16)) <= {-1.0, 0.0, 1.0}
        n = layer.neuron
        assert (n.kind, n.reset, n.reset_amount) == ("CubaLIF", "subtract", 1.0) and n.spike_first
        for value, expected in [
            (n.tau_syn, 4 * dt), (n.tau_mem, 8 * dt), (n.r, 8.0), (n.w_in, 4.0),
            (n.v_leak, 0.0), (n.v_threshold, 0.9), (n.v_reset, 0.0),
        ]:  # fmt: skip
            assert value.shape == (n_out,)
            np.testing.assert_allclose(value, expected, rtol=1e-12)
        np.testing.assert_allclose(1 - dt / n.tau_syn, 0.75, rtol=1e-12)
        np.testing.assert_allclose(1 - dt / n.tau_mem, 0.875, rtol=1e-12)
    graph = nir.read(tmp_path / "smile.nir")  # nir's own reader and type check accept it
    assert graph.nodes["lif1"].metadata["qsnn_mem.reset"] == "subtract"


def test_syn_delay_false_has_no_nir_form():
    with pytest.raises(QsnnError, match="syn_delay = false"):
        smile_network(SmileWorkload(syn_delay=False))


def test_export_nir_command(tmp_path, capsys):
    workload = tmp_path / "small.yaml"
    workload.write_text("name: small\nnb_hidden: 30\nnb_steps: 40\n")
    out = tmp_path / "small.nir"
    assert main(["export-nir", str(workload), "--out", str(out), "--set", "nb_outputs=20"]) == 0
    assert "initial weights" in " ".join(capsys.readouterr().out.split())
    net = load_network(out, 1e-3)
    assert [layer.out_shape for layer in net.layers] == [(30,), (20,)]
    before = out.read_bytes()
    assert main(["export-nir", str(workload), "--out", str(out)]) == 2
    assert "exists; add --overwrite" in " ".join(capsys.readouterr().err.split())
    assert out.read_bytes() == before
    assert main(["export-nir", str(workload), "--out", str(out), "--overwrite"]) == 0
    assert load_network(out, 1e-3).layers[1].out_shape == (250,)
    decolle = tmp_path / "d.yaml"
    decolle.write_text("task: decolle\n")
    for args, expected in [
        ([str(decolle), "--out", str(tmp_path / "d.nir")], "smile network only"),
        ([str(tmp_path / "none.yaml"), "--out", str(tmp_path / "n.nir")], "not found"),
        ([str(workload), "--out", str(tmp_path / "x.h5")], "ends in .nir"),
        ([str(tmp_path), "--out", str(tmp_path / "r.nir")], "run.json"),
    ]:
        assert main(["export-nir", *args]) == 2
        assert expected in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "d.nir").exists()


def test_export_of_a_trained_run_spikes_as_the_model(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["--set", "nb_epochs=3", "--set", "nb_steps=100", *FLOAT_SET, "-q", "--out", str(run)]
    assert main(["train", "workloads/smile_quick.yaml", *args]) == 0
    out = tmp_path / "trained.nir"
    assert main(["export-nir", str(run), "--out", str(out)]) == 0
    assert "final weights of the run" in " ".join(capsys.readouterr().out.split())
    cfg = SmileWorkload(**FLOAT, nb_steps=100, nb_epochs=3, name="smile_quick")
    x = smile_input(cfg)
    model, net = model_spikes(cfg, x, run)
    initial = SmileNet(cfg, precision_of(cfg), torch.device("cpu"), "autograd").weights[0]
    assert not torch.equal(net.weights[0], initial)  # trained, not the initial weights
    ours = simulate(load_network(out, cfg.time_step), x, cfg.time_step)
    for layer, ref in zip(ours, model, strict=True):
        np.testing.assert_array_equal(layer, ref)


def test_reference_conv_and_pooling_match_torch():
    """The oracle's own convolution and pooling against torch's (strides, padding, dilation,
    groups, bias)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 9, 8))
    lif = Neuron("LIF", "n", *[np.zeros(1)] * 5)
    setups = [((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (2, 1), 2)]
    for stride, padding, dilation, groups in setups:
        w, b = rng.normal(size=(6, 4 // groups, 3, 2)), rng.normal(size=6)
        layer = Layer(
            "c", "conv", w, b, (4, 9, 8), (6, 0, 0), lif, stride=stride, padding=padding,
            dilation=dilation, groups=groups,
        )  # fmt: skip
        ref = F.conv2d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride, padding,
                       dilation, groups)[0]  # fmt: skip
        np.testing.assert_allclose(nir_reference._conv(x, layer), ref.numpy(), rtol=1e-12)
    for kind, fn in [("sumpool", F.avg_pool2d), ("avgpool", F.avg_pool2d)]:
        r = Reshape(kind, "p", (2, 3), (2, 2), (1, 1))
        ref = fn(torch.tensor(x)[None], (2, 3), (2, 2), (1, 1))[0].numpy()
        ref = ref * 6 if kind == "sumpool" else ref
        np.testing.assert_allclose(nir_reference._pool(x, r), ref, rtol=1e-12, atol=1e-12)


# --- optional: graphs exported by snnTorch and Norse themselves ------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("snntorch") is None or importlib.util.find_spec("nirtorch") is None,
    reason="snnTorch (and nirtorch) not installed",
)
@pytest.mark.filterwarnings("ignore:nirtorch.extract_nir_graph is being deprecated")
def test_a_graph_exported_by_snntorch_is_read(tmp_path):
    import snntorch as snn
    from snntorch.export_nir import export_to_nir

    beta, thr = torch.linspace(0.8, 0.95, 8), torch.full((4,), 0.5)
    model = torch.nn.Sequential(
        torch.nn.Linear(12, 8), snn.Leaky(beta=beta, threshold=torch.ones(8), init_hidden=True),
        torch.nn.Linear(8, 4),
        snn.Leaky(beta=torch.full((4,), 0.9), threshold=thr, init_hidden=True, output=True),
    )  # fmt: skip
    nir.write(tmp_path / "snntorch.nir", export_to_nir(model, torch.randn(12)))
    net = load_network(tmp_path / "snntorch.nir", 1e-4)  # snnTorch exports for dt = 1e-4
    first = net.layers[0]
    assert first.neuron.kind == "LIF" and first.in_shape == (12,) and first.out_shape == (8,)
    np.testing.assert_allclose(first.weight, model[0].weight.detach().numpy())
    np.testing.assert_allclose(1 - 1e-4 / first.neuron.tau_mem, beta.numpy(), atol=1e-6)
    np.testing.assert_array_equal(net.layers[1].neuron.v_threshold, thr.numpy())


@pytest.mark.skipif(importlib.util.find_spec("norse") is None, reason="Norse not installed")
def test_a_graph_exported_by_norse_is_read(tmp_path):
    import norse.torch as norse
    from norse.torch.utils.export_nir import to_nir

    model = norse.SequentialState(torch.nn.Linear(12, 8), norse.LIFCell())
    graph = to_nir(model, torch.randn(12))
    nir.write(tmp_path / "norse.nir", graph, compression=None)  # 0-d parameters
    cuba = next(n for n in graph.nodes.values() if isinstance(n, nir.CubaLIF))
    tau_mem, tau_syn = float(np.asarray(cuba.tau_mem)), float(np.asarray(cuba.tau_syn))
    dt = min(tau_mem, tau_syn) / 10  # Norse's time constants depend on its version
    (layer,) = load_network(tmp_path / "norse.nir", dt).layers
    n = layer.neuron
    assert n.kind == "CubaLIF" and layer.out_shape == (8,)
    np.testing.assert_allclose(n.tau_mem, tau_mem)
    np.testing.assert_allclose(n.tau_syn, tau_syn)
    assert np.all(n.r == 1.0) and np.all(n.w_in == 1.0)
