"""The training loop of the smile task: reads top to bottom, returns metrics, never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ... import interrupts
from ...errors import QsnnError
from ..base import Precision
from ..run_common import training
from .config import SmileWorkload
from .data import smile_input, smile_target_raster
from .distance import distance_per_loss
from .model import SmileNet
from .optim import Adamax
from .precision import precision as precision_of
from .records import EpochResult


def pick_device(cfg: SmileWorkload, *, trace: bool = False) -> tuple[torch.device, str]:
    """Resolve ``device: auto`` and ``backend: auto`` to what this machine can run.

    Without tracing, auto means autograd on CUDA when torch sees a GPU, else the fused CPU
    kernels. The tracer counts accesses inside the fused kernels, so with ``trace`` auto means
    the fused CPU backend even on a GPU machine (the fastest backend that can trace), and an
    explicit cuda or autograd is refused here, before anything trains or is written.
    """
    if trace:
        for name, value, allowed in (
            ("device", cfg.device, ("auto", "cpu")),
            ("backend", cfg.backend, ("auto", "fused")),
        ):
            if value not in allowed:
                raise QsnnError(
                    f"tracing counts accesses inside the fused CPU kernels: {name} {value!r} "
                    f"cannot trace (allowed: {', '.join(allowed)}); qsnn-mem train runs "
                    f"{name} {value!r} without tracing"
                )
        return torch.device("cpu"), "fused"
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise QsnnError("device: cuda was asked for, but torch sees no CUDA GPU (use auto or cpu)")
    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    backend = cfg.backend
    if backend == "auto":
        backend = "autograd" if use_cuda else "fused"
    if backend == "fused" and use_cuda:
        raise QsnnError("backend: fused runs on the CPU only; use autograd (or auto) on CUDA")
    return device, backend


@dataclass
class TrainResult:
    cfg: SmileWorkload
    net: SmileNet
    optimizer: Adamax
    x: torch.Tensor
    target: torch.Tensor
    metrics: list[dict] = field(default_factory=list)
    last: EpochResult | None = None
    interrupted: bool = False
    wall_s: float = 0.0


def epoch_metrics(epoch: int, cfg: SmileWorkload, res: EpochResult) -> dict:
    """Per-epoch metrics: loss, van Rossum distance, spikes and non-zero weights per layer."""
    # The training loss is sqrt(SSE / tau_syn) (reference); van_rossum is the textbook
    # normalisation sqrt(SSE * time_step / tau_vr) of the same filtered difference (.distance).
    vr = res.loss * distance_per_loss(cfg.time_step, cfg.tau_syn, cfg.tau_vr)
    row = {"epoch": epoch, "loss": res.loss, "van_rossum": vr}
    for k, layer in enumerate(res.layers, start=1):
        row[f"spikes_fc{k}"] = layer.spike_count
    for k, layer in enumerate(res.layers, start=1):
        row[f"nonzero_w_fc{k}"] = layer.weight_nonzero / layer.weight.numel()
    return row


EpochHook = Callable[[TrainResult, EpochResult], None]


def train(
    cfg: SmileWorkload, on_epoch: EpochHook | None = None, *, precision: Precision | None = None
) -> TrainResult:
    """Train the smile network for ``cfg.nb_epochs``; Ctrl-C (or SIGTERM) stops after the
    current epoch and returns what was trained, marked ``interrupted`` (:mod:`...interrupts`;
    a second Ctrl-C aborts at once). ``precision`` is the run's record (built here from
    ``cfg`` when not given)."""
    if precision is None:
        precision = precision_of(cfg)
    device, backend = pick_device(cfg)
    torch.manual_seed(cfg.seed)
    x = torch.from_numpy(smile_input(cfg)).to(device)
    target = torch.from_numpy(smile_target_raster(cfg)).to(device)
    net = SmileNet(cfg, precision, device, backend)
    optimizer = Adamax(net.weights, lr=cfg.lr, betas=(0.9, 0.999), stored=net.stored_forms())
    result = TrainResult(cfg, net, optimizer, x, target)
    with training(result):  # a deferred Ctrl-C stops at an epoch's start
        for epoch in range(cfg.nb_epochs):
            interrupts.check()
            net.clip_()
            res = net.epoch(x, target)
            optimizer.step()
            row = epoch_metrics(epoch, cfg, res)
            result.metrics.append(row)
            result.last = res
            if on_epoch is not None:
                on_epoch(result, res)
    return result
