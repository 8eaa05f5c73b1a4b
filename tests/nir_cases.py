"""Small random NIR networks with lively dynamics for the model and training tests (dense chains
of every neuron kind and reset rule, and a convolutional chain with pooling and flatten)."""

from __future__ import annotations

import itertools

import numpy as np

from qsnn_mem.tasks.nir.graph import Layer, Network, Neuron, Reshape

KINDS = ("CubaLIF", "LIF", "IF", "LI")


def neuron(rng, kind: str, shape: tuple, spike_first: bool, reset: str, node: str) -> Neuron:
    def draw(lo, hi):
        return rng.uniform(lo, hi, shape)

    return Neuron(
        kind, node, tau_mem=draw(0.003, 0.02), r=draw(0.5, 2.0),
        v_leak=draw(-0.1, 0.1), v_threshold=draw(0.2, 0.9), v_reset=draw(-0.2, 0.1),
        tau_syn=draw(0.002, 0.01) if kind == "CubaLIF" else None,
        w_in=draw(0.5, 3.0) if kind == "CubaLIF" else None, reset=reset,
        reset_amount=float(rng.uniform(0.3, 1.0)), spike_first=spike_first,
    )  # fmt: skip


def dense_network(rng, sizes, kinds, *, bias=False, spike_first=None, reset=None) -> Network:
    layers = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        kind = kinds[k]
        # IF integrates dt * r * x: it needs far larger weights to fire.
        gain = 400.0 if kind == "IF" else 4.0
        w = rng.normal(0.0, gain / np.sqrt(n_in), (n_out, n_in))
        b = rng.normal(0.0, 0.2, n_out) if bias else None
        first = bool(rng.random() < 0.5) if spike_first is None else spike_first
        rule = str(rng.choice(["subtract", "to_value"])) if reset is None else reset
        population = neuron(rng, kind, (n_out,), first, rule, f"neuron{k + 1}")
        layers.append(Layer(f"fc{k + 1}", "dense", w, b, (n_in,), (n_out,), population))
    return Network((sizes[0],), tuple(layers))


def conv_network(rng, pool: str = "sumpool", bias: bool = True) -> Network:
    """(2, 8, 8) -> pool 2x2 -> conv 3x3 (4 channels, 2 groups, padding 1) -> LIF -> conv 3x3
    stride 2 (3 channels) -> CubaLIF -> flatten -> dense 5 -> LI."""
    first = Layer(
        "conv1", "conv", rng.normal(0, 1.5, (4, 1, 3, 3)),
        rng.normal(0, 0.2, 4) if bias else None, (2, 4, 4), (4, 4, 4),
        neuron(rng, "LIF", (4, 4, 4), False, "to_value", "lif1"),
        (Reshape(pool, "pool1", (2, 2), (2, 2)),), padding=(1, 1), groups=2,
    )  # fmt: skip
    second = Layer(
        "conv2", "conv", rng.normal(0, 1.5, (3, 4, 3, 3)), None, (4, 4, 4), (3, 2, 2),
        neuron(rng, "CubaLIF", (3, 2, 2), True, "subtract", "cuba2"), stride=(2, 2), padding=(1, 1),
    )  # fmt: skip
    third = Layer(
        "fc3", "dense", rng.normal(0, 2.0, (5, 12)), None, (12,), (5,),
        neuron(rng, "LI", (5,), False, "to_value", "li3"), (Reshape("flatten", "flat3"),),
    )  # fmt: skip
    return Network((2, 8, 8), (first, second, third))


def spikes(rng, steps: int, shape: tuple, rate: float = 0.3) -> np.ndarray:
    return (rng.random((steps, *shape)) < rate).astype(np.float32)
