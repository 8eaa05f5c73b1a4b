"""Device choice and device-independent counts (issue 11).

This machine has no GPU, so CUDA is made to look available (``torch.cuda.is_available``) while
any real CUDA initialisation fails the test: the smile commands must pass on a GPU workstation
without touching the GPU. What cannot be tested without a GPU: the real CUDA kernels behind the
DECOLLE counts. :func:`test_decolle_counts_do_not_depend_on_the_device` therefore counts the
same step tensors twice, once on the CPU and once wrapped in :class:`OnDevice`, a tensor that
reports another device and fails wherever CUDA would (a CPU tensor mixed in, ``.numpy()``
without ``.cpu()``); on a machine with a GPU the same test also runs on real CUDA tensors.
"""

import json

import pandas as pd
import pytest
import torch
from torch.utils._pytree import tree_leaves, tree_map_only

from qsnn_mem.cli import main
from qsnn_mem.tasks.decolle.config import DecolleWorkload
from qsnn_mem.tasks.decolle.precision import precision
from qsnn_mem.tasks.decolle.tracer import DecolleTracer
from qsnn_mem.tasks.decolle.train import DecolleNet, run_window
from qsnn_mem.tasks.decolle.train import pick_device as pick_decolle_device
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.tasks.smile.train import pick_device

README = ["trace", "workloads/smile_quick.yaml", "-q", "--set", "nb_epochs=3"]  # its first job
TRACE_FILES = ("accesses.csv", "tensors.csv", "trace.json", "run.json")


def _no_cuda_init():
    raise AssertionError("a CUDA call was made: tracing must stay on the CPU")


@pytest.fixture
def fake_cuda(monkeypatch):
    """CUDA looks available; actually initialising it fails the test."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "_lazy_init", _no_cuda_init)
    # DECOLLE's pick_device turns TF32 off on CUDA; keep that flag from leaking to other tests.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", torch.backends.cudnn.allow_tf32)


def test_readme_trace_passes_on_a_gpu_machine(fake_cuda, tmp_path):
    out = tmp_path / "run"
    assert main([*README, "--out", str(out)]) == 0
    for name in TRACE_FILES:
        assert (out / name).is_file(), name
    info = json.loads((out / "run.json").read_text())
    assert (info["device"], info["backend"]) == ("cpu", "fused")
    assert (info["config"]["device"], info["config"]["backend"]) == ("auto", "auto")  # as written


@pytest.mark.parametrize(
    "setting, message",
    [
        ("device=cuda", "device 'cuda' cannot trace (allowed: auto, cpu)"),
        ("backend=autograd", "backend 'autograd' cannot trace (allowed: auto, fused)"),
    ],
)
def test_explicit_cuda_or_autograd_cannot_trace(fake_cuda, tmp_path, capsys, setting, message):
    out = tmp_path / "run"
    assert main([*README, "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tracing counts accesses inside the fused CPU kernels" in err and message in err
    assert "qsnn-mem train" in err
    assert not out.exists()  # refused before training or writing


def test_training_without_trace_still_picks_cuda(fake_cuda):
    smile = SmileWorkload()
    assert pick_device(smile) == (torch.device("cuda"), "autograd")
    assert pick_device(smile, trace=True) == (torch.device("cpu"), "fused")
    assert pick_device(SmileWorkload(device="cpu"), trace=True) == (torch.device("cpu"), "fused")
    # DECOLLE traces on CUDA too, so auto keeps the GPU for training and tracing alike.
    assert pick_decolle_device(DecolleWorkload(data_set="generated")) == torch.device("cuda")


def test_smile_counts_do_not_depend_on_a_visible_gpu(tmp_path, monkeypatch):
    cpu = tmp_path / "cpu"
    assert main([*README, "--set", "device=cpu", "--out", str(cpu)]) == 0
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: True)
        m.setattr(torch.cuda, "_lazy_init", _no_cuda_init)
        auto = tmp_path / "auto"
        assert main([*README, "--out", str(auto)]) == 0
    for name in ("accesses.csv", "tensors.csv", "metrics.csv"):
        assert (cpu / name).read_bytes() == (auto / name).read_bytes(), name


class OnDevice(torch.Tensor):
    """A CPU tensor that reports the ``meta`` device and refuses what CUDA refuses: mixing with a
    CPU tensor of one or more dimensions, and ``.numpy()``; ``.cpu()`` returns the data."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    @staticmethod
    def __new__(cls, inner: torch.Tensor):
        out = torch.Tensor._make_wrapper_subclass(
            cls, inner.shape, strides=inner.stride(), dtype=inner.dtype,
            device=torch.device("meta"), requires_grad=False,
        )  # fmt: skip
        out.inner = inner
        return out

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        if any(not isinstance(t, cls) and t.dim() > 0 for t in tensors):
            raise RuntimeError(f"{func}: expected all tensors on one device, found a CPU tensor")
        to_cpu = func is torch.ops.aten._to_copy.default and kwargs.get("device") is not None
        if to_cpu and torch.device(kwargs["device"]).type == "cpu":
            rest = {k: v for k, v in kwargs.items() if k != "device"}
            return func(args[0].inner, **rest)
        args, kwargs = tree_map_only(cls, lambda t: t.inner, (args, kwargs))
        return tree_map_only(torch.Tensor, cls, func(*args, **kwargs))


def test_on_device_behaves_like_a_gpu_tensor():
    x = OnDevice(torch.tensor([0.0, 1.0, 2.0]))
    assert x.device.type != "cpu" and int(torch.count_nonzero(x)) == 2
    assert torch.equal((x * 2).cpu(), torch.tensor([0.0, 2.0, 4.0]))
    with pytest.raises(RuntimeError, match="one device"):
        x + torch.ones(3)
    with pytest.raises(RuntimeError):
        x.numpy()


class MovedLayer:
    """A DECOLLE layer whose tensors (and fresh states) the tracer sees through ``move``."""

    def __init__(self, layer, move):
        self._layer, self._move = layer, move

    def __getattr__(self, name):
        value = getattr(self._layer, name)
        return self._move(value) if isinstance(value, torch.Tensor) else value

    def init_state(self, batch):
        return tree_map_only(torch.Tensor, self._move, self._layer.init_state(batch))


class MovedNet:
    def __init__(self, net, move):
        self.layers = [MovedLayer(layer, move) for layer in net.layers]


SECOND_DEVICES = [
    pytest.param("cpu", OnDevice, id="cpu-vs-wrapped"),
    pytest.param(
        "cuda", lambda t: t.cpu(), id="cuda-vs-cpu",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    ),
]  # fmt: skip


@pytest.mark.parametrize("device, move", SECOND_DEVICES)
@pytest.mark.parametrize("mode", ["event", "dense"])
def test_decolle_counts_do_not_depend_on_the_device(device, move, mode):
    """The same step tensors, counted on ``device`` and again after ``move``: same tables."""
    cfg = DecolleWorkload(
        data_set="generated", channels=[2, 2], pooling=[2, 1], kernel_size=3, padding=1,
        train_steps=6, burn_in=2, batch_size=2, weight_mult=2e-2, seed=3,
    )  # fmt: skip
    net = DecolleNet(cfg, precision(cfg), (2, 6, 6), 3, torch.device(device))
    here, there = (DecolleTracer(cfg, precision(cfg), mode) for _ in range(2))
    here.bind(net)
    there.bind(MovedNet(net, move))

    def hook(phase, t, k, fwd, learn):
        here.on_step(phase, t, k, fwd, learn)
        moved = tree_map_only(torch.Tensor, move, (fwd, learn))
        there.on_step(phase, t, k, *moved)

    x = (torch.rand(6, 2, 2, 6, 6, generator=torch.Generator().manual_seed(0)) < 0.4).byte()
    y = torch.tensor([0, 2])
    run_window(net, x, y, train=True, lr=1.0, hook=hook)
    run_window(net, x, y, train=False, lr=0.0, hook=hook, phase="infer")
    got = here.accesses()
    assert set(got.stage) == {"forward", "backward", "update"} and got.nonzero.sum() > 0
    pd.testing.assert_frame_equal(got, there.accesses())
    pd.testing.assert_frame_equal(here.tensors(), there.tensors())
