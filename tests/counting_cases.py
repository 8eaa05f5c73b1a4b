"""Small random NIR networks and one sample's activity, for the counting tests.

Activities are :class:`~qsnn_mem.tasks.nir.activity.LayerActivity` records. Values
are drawn on a dyadic grid with many zeros, so sums are exact and accumulations cancel to zero.
"""

from __future__ import annotations

import numpy as np

from qsnn_mem.tasks.base import Precision
from qsnn_mem.tasks.nir.activity import LayerActivity
from qsnn_mem.tasks.nir.graph import Layer, Network, Neuron, Reshape

KINDS = ("CubaLIF", "LIF", "IF", "LI")
STATE = {"CubaLIF": ("syn", "mem"), "LIF": ("mem",), "IF": ("mem",), "LI": ("mem",)}


Activity = LayerActivity


def precision() -> Precision:
    """Distinct bits per tensor, so a value counted at the wrong width is caught."""
    stored = {"weight": 3, "syn": 7, "mem": 8, "spk": 1, "input": 1, "err": 6, "grad": 5}
    return Precision("test", {}, stored)


def neuron(kind: str, shape: tuple) -> Neuron:
    one = np.ones(shape)
    return Neuron(kind, f"{kind}_node", one, one, 0 * one, one, 0 * one,
                  one if kind == "CubaLIF" else None)  # fmt: skip


def sparse(rng, shape, density, values=(-2, -1, 1, 2), scale=0.25, dtype=np.float32):
    """Dyadic values with about ``1 - density`` zeros."""
    x = rng.choice(values, size=shape) * scale * (rng.random(shape) < density)
    return x.astype(dtype)


def pool(x: np.ndarray, r: Reshape) -> np.ndarray:
    """Sum or mean pooling of (T, C, H, W) spikes (no padding)."""
    (kh, kw), (sh, sw) = r.kernel, r.stride
    steps, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((steps, c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].sum(axis=(2, 3))
    return out / (kh * kw) if r.kind == "avgpool" else out


def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def random_network(
    rng, n_layers: int, image: bool, kinds: list[str], bias: bool, conv: float = 0.7
) -> Network:
    """Up to three layers; on an image, each layer is a conv with probability ``conv`` (after a
    pooling, sometimes), else flatten and dense."""
    shape = (int(rng.integers(1, 3)), int(rng.integers(3, 6)), int(rng.integers(3, 6)))
    if not image:
        shape = (int(rng.integers(1, 6)),)
    input_shape, layers = shape, []
    for k, kind in enumerate(kinds[:n_layers]):
        reshapes: tuple[Reshape, ...] = ()
        in_shape = shape
        use_conv = len(shape) == 3 and rng.random() < conv
        if len(shape) == 3 and use_conv and rng.random() < 0.4 and min(shape[1:]) >= 3:
            r = Reshape(str(rng.choice(["sumpool", "avgpool"])), f"pool{k}", (2, 2),
                        (int(rng.integers(1, 3)),) * 2)  # fmt: skip
            reshapes = (r,)
            kh, sh = r.kernel[0], r.stride[0]
            in_shape = (shape[0], (shape[1] - kh) // sh + 1, (shape[2] - kh) // sh + 1)
        elif len(shape) == 3 and not use_conv:
            reshapes = (Reshape("flatten", f"flat{k}"),)
            in_shape = (int(np.prod(shape)),)
        if use_conv:
            c_in = in_shape[0]
            groups = 2 if c_in % 2 == 0 and rng.random() < 0.5 else 1
            c_out = groups * int(rng.integers(1, 3))
            while True:
                kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
                padding = (int(rng.integers(0, 3)), int(rng.integers(0, 2)))
                dilation = (int(rng.integers(1, 3)), 1)
                hw = [conv_out(in_shape[1 + a], kernel[a], stride[a], padding[a], dilation[a])
                      for a in (0, 1)]  # fmt: skip
                if min(hw) >= 1:
                    break
            out_shape = (c_out, *hw)
            weight = sparse(rng, (c_out, c_in // groups, *kernel), rng.uniform(0.3, 1.0))
            extra = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
            synapse = "conv"
            n_bias = c_out
        else:
            n_out = int(rng.integers(1, 6))
            out_shape = (n_out,)
            weight = sparse(rng, (n_out, int(np.prod(in_shape))), rng.uniform(0.3, 1.0))
            extra, synapse, n_bias = {}, "dense", n_out
        b = sparse(rng, (n_bias,), 0.6) if bias and rng.random() < 0.6 else None
        layers.append(Layer(f"l{k}", synapse, weight, b, in_shape, out_shape,
                            neuron(str(kind), out_shape), reshapes, **extra))  # fmt: skip
        shape = out_shape
    return Network(input_shape, tuple(layers))


def reshaped(x: np.ndarray, layer: Layer) -> np.ndarray:
    for r in layer.reshapes:
        x = x.reshape(x.shape[0], -1) if r.kind == "flatten" else pool(x, r)
    return x.reshape(x.shape[0], *layer.in_shape)


def random_activity(rng, network: Network, steps: int, train: bool) -> list[Activity]:
    """One sample: spikes, states, errors, gradients and updated weights, drawn at random
    (idle steps included: whole steps without spikes or errors)."""
    acts = []
    raw = (rng.random((steps, *network.input_shape)) < rng.uniform(0, 0.6)).astype(np.float32)
    for k, layer in enumerate(network.layers):
        kind = layer.neuron.kind
        shape = (steps, *layer.out_shape)
        if kind == "LI":
            out = sparse(rng, shape, rng.uniform(0.2, 0.9))
        else:
            out = (rng.random(shape) < rng.uniform(0, 0.5)).astype(np.float32)
        state = {var: sparse(rng, shape, rng.uniform(0.2, 0.9)) for var in STATE[kind]}
        if kind == "LI":
            state = {"mem": out} if rng.random() < 0.5 else {}
        fields = dict(raw_in=raw, spikes_in=reshaped(raw, layer), out=out, weight=layer.weight,
                      state=state, bias=layer.bias)  # fmt: skip
        if train:
            error = sparse(rng, shape, rng.uniform(0.1, 0.8))
            error[rng.random(steps) < 0.3] = 0  # idle steps: nothing to send down
            weight_after = layer.weight.copy()
            flip = rng.random(weight_after.shape) < 0.3
            weight_after[flip] = sparse(rng, weight_after.shape, 0.5)[flip]
            fields.update(
                error=error, spike_error=sparse(rng, shape, rng.uniform(0.1, 0.8)),
                error_state={var: sparse(rng, shape, rng.uniform(0.1, 0.9))
                             for var in STATE[kind]},
                grad=sparse(rng, layer.weight.shape, 0.5),
                weight_after=weight_after if k != 1 else None,  # layer 1: no update this sample
            )  # fmt: skip
            if layer.bias is not None:
                fields.update(bias_grad=sparse(rng, layer.bias.shape, 0.5),
                              bias_after=np.where(rng.random(layer.bias.shape) < 0.5,
                                                  sparse(rng, layer.bias.shape, 0.5),
                                                  layer.bias))  # fmt: skip
        acts.append(Activity(**fields))
        raw = out
    return acts
