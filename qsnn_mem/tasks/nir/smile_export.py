"""The smile network (700-400-250, tasks/smile) as a NIR :class:`Network`: two Linear+CubaLIF
layers whose discrete-time equations (docs/nir.md) are the smile neuron's exactly.

With ``dt`` the workload's ``time_step``, ``alpha``/``beta`` its per-step decays:
``tau_syn = dt/(1-alpha)``, ``tau_mem = dt/(1-beta)``, ``r = tau_mem/dt``, ``w_in = tau_syn/dt``,
``v_leak = 0``, ``v_threshold = threshold``, and in qsnn-mem's metadata the reference's
subtractive reset (``reset``, 1 by default) and its order (the spike is read from the membrane
before the step's update). Then ``I_t = alpha I_{t-1} + x_t`` and
``v_t = beta v_{t-1} + I_{t-1} - reset s_t`` with ``s_t = H(v_{t-1} - threshold)``: the smile
reference's ``syn``/``mem`` one step on (``syn_delay: true``; ``false`` has no NIR form).

The weights are the forward weights the smile model multiplies by, ``W_hat = quantize(W,
weight_bits) / scale`` after the clip before each pass (:meth:`SmileNet.forward_weights`),
dequantized to float and transposed to NIR's (outputs, inputs): a run folder's final weights,
or the workload's initial ones. The states' quantization is not part of NIR: the exported
graph is the float network those weights define. Needs torch (the smile model)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import QsnnError
from ...schema import validate
from ...workload import load_workload
from ..smile.config import SmileWorkload
from ..smile.model import SmileNet
from ..smile.precision import precision as precision_of
from ..smile.run import load_weights
from .graph import Layer, Network, Neuron
from .nir_file import META_DT


def smile_source(path: str | os.PathLike, overrides: list[str] | None = None) -> tuple[Any, Any]:
    """(workload, weights) of a smile workload YAML (initial weights: None) or a smile run
    folder (its run.json's configuration and its weights.npz)."""
    source = Path(path)
    if source.is_dir():
        info_file = source / "run.json"
        try:
            info = json.loads(info_file.read_text())
        except (OSError, ValueError, RecursionError) as exc:
            raise QsnnError(
                f"{info_file}: cannot read the run's record ({exc}); give a smile run folder or "
                "a smile workload YAML"
            ) from None
        config = info.get("config") if isinstance(info, dict) else None
        if not isinstance(config, dict):
            raise QsnnError(f"{info_file}: no 'config' mapping (not a qsnn-mem run record)")
        _smile_only(config.get("task", "smile"), info_file)
        return validate(SmileWorkload, config, f"{info_file}: config"), source
    if not source.exists():
        raise QsnnError(f"{source}: not found (give a smile workload YAML or a smile run folder)")
    cfg = load_workload(source, overrides)
    _smile_only(cfg.task, source)
    return cfg, None


def _smile_only(task: Any, where: Path) -> None:
    if task != "smile":
        raise QsnnError(
            f"{where}: a {task} workload; export-nir writes the smile network only (allowed: a "
            "smile workload YAML or a smile run folder)"
        )


def smile_weights(cfg: SmileWorkload, weights: str | os.PathLike | None) -> list[np.ndarray]:
    """The forward weights ``W_hat`` of each layer, (fan_in, fan_out) float32 as the smile
    model multiplies by them: of the run folder (or weights.npz) ``weights``, else initial."""
    precision = precision_of(cfg)
    net = SmileNet(cfg, precision, torch.device("cpu"), "fused")
    if weights is not None:
        loaded = load_weights(weights, cfg, precision)
        with torch.no_grad():
            for w, (shadow, _) in zip(net.weights, loaded, strict=True):
                w.copy_(torch.from_numpy(shadow))
        net.scales = [scale for _, scale in loaded]
    net.clip_()  # as before every forward pass
    return [w.numpy().copy() for w in net.forward_weights()]


def smile_neuron(cfg: SmileWorkload, name: str, n: int) -> Neuron:
    """The smile LIF population as a CubaLIF with qsnn-mem's reset rule and spike order."""
    if not cfg.syn_delay:
        raise QsnnError(
            f"{cfg.name}: syn_delay = false (the membrane integrates the new synaptic current) "
            "has no NIR form: NIR's CubaLIF integrates the previous step's current (allowed: "
            "syn_delay true)"
        )
    dt = cfg.time_step
    tau_syn, tau_mem = dt / (1.0 - cfg.alpha), dt / (1.0 - cfg.beta)

    def full(value: float) -> np.ndarray:
        return np.full((n,), float(value))

    return Neuron(
        kind="CubaLIF", node=name, tau_mem=full(tau_mem), r=full(tau_mem / dt),
        v_leak=full(0.0), v_threshold=full(cfg.threshold), v_reset=full(0.0),
        tau_syn=full(tau_syn), w_in=full(tau_syn / dt), reset="subtract",
        reset_amount=float(cfg.reset), spike_first=True,
    )  # fmt: skip


def smile_network(
    cfg: SmileWorkload, weights: str | os.PathLike | None = None, source: str = ""
) -> Network:
    """The smile network of ``cfg`` with a run's final weights (``weights``: its folder or
    weights.npz) or, when None, the workload's initial weights."""
    sizes = [cfg.nb_inputs, cfg.nb_hidden, cfg.nb_outputs]
    w_hat = smile_weights(cfg, weights)
    layers = []
    for k, w in enumerate(w_hat, start=1):
        n_in, n_out = sizes[k - 1], sizes[k]
        layers.append(
            Layer(
                name=f"fc{k}",
                synapse="dense",
                weight=w.T.astype(np.float64),
                bias=None,
                in_shape=(n_in,),
                out_shape=(n_out,),
                neuron=smile_neuron(cfg, f"lif{k}", n_out),
            )
        )
    origin = f"run {weights}" if weights is not None else f"initial weights (seed {cfg.seed})"
    metadata = {
        META_DT: repr(float(cfg.time_step)),
        "qsnn_mem.exported_from": f"smile workload '{cfg.name}', {origin}",
        "qsnn_mem.precision": precision_of(cfg).tag,
    }
    return Network(
        input_shape=(cfg.nb_inputs,), layers=tuple(layers), source=source, metadata=metadata
    )
