"""A feed-forward spiking network as qsnn-mem holds it after reading a NIR graph (torch-free).

A :class:`Network` is a chain of :class:`Layer` s. Each layer is what one synapse node of the
graph and the neuron node after it make: optional reshapes of the incoming spikes (Flatten,
SumPool2d, AvgPool2d), then the synapse (Affine/Linear as ``dense``, Conv2d as ``conv``), then
the neuron population (LIF, CubaLIF, IF or LI). Neuron parameters are held per neuron (arrays
of the layer's output shape); a scalar in the graph is broadcast when it is read.

Units are the NIR's: time constants in seconds, ``dt`` (from the workload) in seconds. The
continuous NIR equations and their discretisation are in docs/nir.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

SynapseKind = Literal["dense", "conv"]
NeuronKind = Literal["LIF", "CubaLIF", "IF", "LI"]
ReshapeKind = Literal["flatten", "sumpool", "avgpool"]
ResetKind = Literal["to_value", "subtract"]


@dataclass(frozen=True)
class Reshape:
    """Flatten or a 2-D pooling of the incoming spikes (no state, no weights)."""

    kind: ReshapeKind
    node: str  # NIR node name, for messages
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Neuron:
    """Parameters of one population, each of the layer's output shape (float64).

    ``tau_syn`` only for CubaLIF; ``tau_mem`` unused by IF; ``v_threshold``/``v_reset``
    unused by LI (it does not spike)."""

    kind: NeuronKind
    node: str
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    tau_syn: np.ndarray | None = None
    w_in: np.ndarray | None = None  # CubaLIF input scaling (NIR ``w_in``), default 1
    # NIR resets to ``v_reset``. qsnn-mem's own exports (the smile network) carry, in the node's
    # metadata, the reference's subtractive reset and its order (spike from the membrane before
    # the step's update); other exporters never set these.
    reset: ResetKind = "to_value"
    reset_amount: float = 0.0  # subtracted on a spike when reset == "subtract"
    spike_first: bool = False


@dataclass(frozen=True)
class Layer:
    """One synapse node and the neuron node it feeds."""

    name: str  # the synapse node's name in the graph (fc1, conv1, ...)
    synapse: SynapseKind
    weight: np.ndarray  # dense: (out, in); conv: (out_ch, in_ch, kh, kw)
    bias: np.ndarray | None
    in_shape: tuple[int, ...]  # after the reshapes: (in,) or (ch, h, w)
    out_shape: tuple[int, ...]  # (out,) or (ch, h, w)
    neuron: Neuron
    reshapes: tuple[Reshape, ...] = ()
    stride: tuple[int, int] = (1, 1)  # conv only
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def n_in(self) -> int:
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass(frozen=True)
class Network:
    """The chain of layers, the input shape and where it came from."""

    input_shape: tuple[int, ...]  # per time step: (n,) or (ch, h, w)
    layers: tuple[Layer, ...]
    source: str = ""  # the .nir file, for messages
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]
