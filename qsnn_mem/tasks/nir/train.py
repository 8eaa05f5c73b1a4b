"""The training loop of the NIR task: reads top to bottom, returns metrics, never prints.

One epoch is every sample once, in order; each sample is one forward pass, its loss, the BPTT
backward pass and one Adamax step of the quantized gradients (on-chip learning, one sample at a
time), the shadow weights clipped to the weight grid's range before every pass (docs/nir.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ... import interrupts
from ...errors import QsnnError
from ...schema import check_memory
from ..base import Precision
from ..run_common import training
from ..smile.optim import Adamax
from .config import NirWorkload
from .data import load_input, load_target
from .graph import Network
from .model import NirNet, fusable
from .nir_file import load_network
from .precision import precision as precision_of
from .records import SamplePass


def load(cfg: NirWorkload) -> Network:
    """The workload's network (its graph at time step ``dt``), refused if a run of it cannot
    fit in this machine's memory."""
    network = load_network(cfg.graph, cfg.dt)
    try:
        check_memory(memory_needs(cfg, network))
    except ValueError as exc:
        raise QsnnError(f"{cfg.graph}: {exc}") from None
    return network


def load_data(cfg: NirWorkload, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """The input (samples, steps, *input_shape) and the target of every sample."""
    x = load_input(cfg, network)
    return x, load_target(cfg, network, x.shape[0])


def memory_needs(cfg: NirWorkload, network: Network) -> list[tuple[str, float]]:
    """Weights with their gradients, Adamax moments and rounding noise (six float32 arrays),
    the BPTT histories of one sample (about twenty float32 values per neuron and step), and
    the input rasters of every sample."""
    synapses = sum(layer.weight.size for layer in network.layers)
    neurons = sum(layer.n_out + layer.n_in for layer in network.layers)
    inputs = int(np.prod(network.input_shape)) * cfg.nb_steps * 4
    samples = cfg.nb_samples if cfg.input == "poisson" else 1
    return [
        ("weights of the graph's layers", 6 * 4 * synapses),
        ("BPTT histories, nb_steps x neurons", 20 * 4 * cfg.nb_steps * neurons),
        ("input rasters, nb_samples x nb_steps x inputs", samples * inputs),
    ]


def pick_device(cfg: NirWorkload, network: Network) -> tuple[torch.device, str]:
    """Resolve ``device`` and ``backend``: auto means the fused CPU kernels where the network
    allows them (dense layers, no pooling), else autograd on CUDA when torch sees a GPU, else
    autograd on the CPU. Every backend traces."""
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise QsnnError("device: cuda was asked for, but torch sees no CUDA GPU (use auto or cpu)")
    can_fuse = fusable(network)
    if cfg.backend == "fused":
        if cfg.device == "cuda":
            raise QsnnError("backend: fused runs on the CPU only; use autograd (or auto) on CUDA")
        if not can_fuse:
            layer = next(la for la in network.layers if la.synapse != "dense" or la.reshapes)
            raise QsnnError(
                f"{network.source}: backend 'fused' runs dense layers only, and layer "
                f"'{layer.name}' is {layer.synapse} with {len(layer.reshapes)} reshape(s) "
                "(allowed: backend auto or autograd)"
            )
        return torch.device("cpu"), "fused"
    if cfg.backend == "auto" and can_fuse and cfg.device != "cuda":
        return torch.device("cpu"), "fused"
    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    return torch.device("cuda" if use_cuda else "cpu"), "autograd"


@dataclass
class TrainResult:
    cfg: NirWorkload
    network: Network
    net: NirNet
    optimizer: Adamax
    x: np.ndarray  # (samples, steps, *input_shape)
    target: np.ndarray  # labels (samples,) or rasters (samples, steps, *output_shape)
    metrics: list[dict] = field(default_factory=list)
    last: list[SamplePass] = field(default_factory=list)  # the last epoch's samples
    interrupted: bool = False
    wall_s: float = 0.0


def epoch_metrics(epoch: int, result: TrainResult, passes: list[SamplePass]) -> dict:
    """Per epoch: mean loss, accuracy (classes) or van Rossum distance (raster), spikes per
    spiking layer over the epoch's samples, non-zero forward weights per layer."""
    loss = float(np.mean([p.loss for p in passes]))
    row: dict = {"epoch": epoch, "loss": loss}
    if result.cfg.target_kind == "classes":
        row["accuracy"] = float(np.mean([p.correct for p in passes]))
    else:
        row["van_rossum"] = loss
    layers = result.network.layers
    for k, layer in enumerate(layers):
        if layer.neuron.kind != "LI":
            row[f"spikes_{layer.name}"] = int(sum(int(p.layers[k].out.sum()) for p in passes))
    for k, layer in enumerate(layers):
        weight = passes[-1].layers[k].weight
        row[f"nonzero_w_{layer.name}"] = float(np.count_nonzero(weight)) / weight.size
    return row


EpochHook = Callable[[TrainResult, list[SamplePass]], None]
SampleHook = Callable[[TrainResult, SamplePass], None]


def train(
    cfg: NirWorkload,
    network: Network | None = None,
    on_epoch: EpochHook | None = None,
    *,
    on_sample: SampleHook | None = None,
    precision: Precision | None = None,
    data: tuple[np.ndarray, np.ndarray] | None = None,
) -> TrainResult:
    """Train the workload's network for ``cfg.nb_epochs``; Ctrl-C (or SIGTERM) stops after
    the current epoch and returns what was trained, marked ``interrupted``. ``on_sample`` is
    called after every optimizer step, ``on_epoch`` after every epoch; ``data`` is the input
    and target (:func:`load_data`, read here when not given)."""
    if network is None:
        network = load(cfg)
    if precision is None:
        precision = precision_of(cfg)
    device, backend = pick_device(cfg, network)
    torch.manual_seed(cfg.seed)
    x, target = load_data(cfg, network) if data is None else data
    net = NirNet(network, cfg, precision, device, backend)
    optimizer = Adamax(net.weights, lr=cfg.lr, betas=(0.9, 0.999), stored=net.stored_forms())
    result = TrainResult(cfg, network, net, optimizer, x, target)
    with training(result):  # a deferred Ctrl-C stops at an epoch's start
        for epoch in range(cfg.nb_epochs):
            interrupts.check()
            passes = []
            for k in range(x.shape[0]):
                net.clip_()
                res = net.sample(x[k], target[k])
                optimizer.step()
                passes.append(res)
                if on_sample is not None:
                    on_sample(result, res)
            result.metrics.append(epoch_metrics(epoch, result, passes))
            result.last = passes
            if on_epoch is not None:
                on_epoch(result, passes)
    return result
