"""A NIR graph's nodes and edges as one feed-forward chain of layers, every shape inferred.

:func:`chain_order` checks the structure (no cycle, no branch or merge, one Input, one Output,
every node on the path between them); :func:`build_layers` walks the path: reshapes
(Flatten, SumPool2d, AvgPool2d) gather before a synapse (Affine, Linear, Conv2d), which must
feed a neuron (LIF, CubaLIF, IF, LI) directly. Each problem is a QsnnError naming the file and
the node (torch-free)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import QsnnError
from .graph import Layer, Reshape
from .nir_params import Where, as_float_array, neuron_from_nir, pair, shown

SYNAPSES = ("Affine", "Linear", "Conv2d")
NEURONS = ("LIF", "CubaLIF", "IF", "LI")
RESHAPES = {"Flatten": "flatten", "SumPool2d": "sumpool", "AvgPool2d": "avgpool"}


def _kind(node: Any) -> str:
    return type(node).__name__


def chain_order(nodes: dict[str, Any], edges: list[tuple[str, str]], source: str) -> list[str]:
    """The node names from Input to Output, or an error saying why the graph is not a chain."""
    succ: dict[str, list[str]] = {name: [] for name in nodes}
    pred: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    _refuse_cycles(succ, nodes, source)

    def label(name: str) -> str:
        return f"node '{name}' ({_kind(nodes[name])})"

    for name in nodes:
        if len(succ[name]) > 1:
            raise QsnnError(
                f"{source}: {label(name)} feeds several nodes ({', '.join(succ[name])}): "
                "branches are not supported (qsnn-mem reads one feed-forward chain)"
            )
        if len(pred[name]) > 1:
            raise QsnnError(
                f"{source}: {label(name)} receives several nodes ({', '.join(pred[name])}): "
                "merges are not supported (qsnn-mem reads one feed-forward chain)"
            )
    inputs = [n for n in nodes if _kind(nodes[n]) == "Input"]
    outputs = [n for n in nodes if _kind(nodes[n]) == "Output"]
    ends = {
        "Input": [n for n in nodes if not pred[n]],  # where the chain starts
        "Output": [n for n in nodes if not succ[n]],  # and where it ends
    }
    for what, found in (("Input", inputs), ("Output", outputs)):
        if len(found) > 1:
            raise QsnnError(
                f"{source}: the graph needs exactly one {what} node, it has {len(found)} "
                f"({', '.join(found)})"
            )
        if not found:
            where = f"; the chain {'starts' if what == 'Input' else 'ends'} at " + ", ".join(
                label(n) for n in ends[what]
            )
            raise QsnnError(
                f"{source}: the graph needs exactly one {what} node, it has none"
                f"{where if ends[what] else ''}"
            )
    order = [inputs[0]]
    if pred[inputs[0]]:
        raise QsnnError(f"{source}: {label(inputs[0])} receives an edge from '{pred[order[0]][0]}'")
    while succ[order[-1]]:
        order.append(succ[order[-1]][0])
    if order[-1] != outputs[0]:
        raise QsnnError(
            f"{source}: the chain from Input '{inputs[0]}' ends at {label(order[-1])}, not at the "
            f"Output '{outputs[0]}' (connect it with an edge)"
        )
    stray = [n for n in nodes if n not in order]
    if stray:
        raise QsnnError(
            f"{source}: {label(stray[0])} is not on the chain from Input '{inputs[0]}' to Output "
            f"'{outputs[0]}' (disconnected nodes are not supported)"
        )
    return order


def _refuse_cycles(succ: dict[str, list[str]], nodes: dict[str, Any], source: str) -> None:
    """A recurrent edge (one that closes a cycle, a self-loop included) is an error."""
    state: dict[str, int] = {}
    for root in succ:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            name, nexts = stack[-1]
            nxt = next(nexts, None)
            if nxt is None:
                state[name] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                raise QsnnError(
                    f"{source}: edge '{name}' -> '{nxt}' closes a cycle (a recurrent connection "
                    f"into node '{nxt}' ({_kind(nodes[nxt])})): qsnn-mem reads feed-forward "
                    "networks only"
                )
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))


def _input_shape(node: Any, where: Where) -> tuple[int, ...]:
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    arr = np.asarray(shape) if shape is not None else None
    if arr is None or arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size not in (1, 3):
        raise where.error(
            f"input shape {shape!r} (allowed: (neurons,) or (channels, height, width))"
        )
    dims = tuple(int(v) for v in arr)
    if min(dims) < 1 or not np.all(arr == np.asarray(dims)):
        raise where.error(f"input shape {dims} (allowed: positive integers)")
    return dims


def _flatten(node: Any, where: Where, shape: tuple[int, ...]) -> tuple[int, ...]:
    declared = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if declared is not None and int(np.prod(declared)) != int(np.prod(shape)):
        raise where.error(f"declares input shape {shown(declared)}, but receives {shape}")
    start, end, nd = int(node.start_dim), int(node.end_dim), len(shape)
    whole = (start == 0 and end in (-1, nd - 1)) or (start == 1 and end == -1)
    if not whole and nd > 1:
        raise where.error(
            f"start_dim {start}, end_dim {end} flatten part of a {shape} frame (allowed: the "
            "whole frame: start_dim 0, or 1 counting a batch axis, and end_dim -1)"
        )
    return (int(np.prod(shape)),)


def pooled(size, kernel, stride, padding) -> tuple[int, int]:
    """(height, width) after a pooling window (no dilation)."""
    h, w = ((size[i] + 2 * padding[i] - kernel[i]) // stride[i] + 1 for i in range(2))
    return h, w


def _pool(node: Any, where: Where, shape: tuple[int, ...]) -> tuple[Reshape, tuple[int, ...]]:
    if len(shape) != 3:
        raise where.error(f"pools a (channels, height, width) frame, but receives {shape}")
    k = pair(node.kernel_size, where, "kernel_size", 1)
    s = pair(node.stride, where, "stride", 1)
    p = pair(node.padding, where, "padding", 0)
    out = pooled(shape[1:], k, s, p)
    if min(out) < 1:
        raise where.error(f"kernel {k} (padding {p}) is larger than the {shape} frame it pools")
    return Reshape(RESHAPES[_kind(node)], where.name, k, s, p), (shape[0], *out)


def _dense(node: Any, where: Where, shape: tuple[int, ...]) -> dict[str, Any]:
    w = as_float_array(node.weight, where, "weight")
    if w.ndim != 2:
        raise where.error(f"weight has shape {w.shape} (allowed: (outputs, inputs))")
    if len(shape) != 1:
        raise where.error(f"a dense layer receives a {shape} frame: put a Flatten before it")
    if w.shape[1] != shape[0]:
        raise where.error(
            f"weight (outputs, inputs) = {w.shape} takes {w.shape[1]} inputs, but receives "
            f"{shape[0]}"
        )
    bias = None
    if _kind(node) == "Affine":
        bias = as_float_array(node.bias, where, "bias")
        if bias.size == 1:
            bias = np.full(w.shape[0], float(bias.reshape(-1)[0]))
        if bias.shape != (w.shape[0],):
            raise where.error(f"bias has shape {bias.shape} (allowed: ({w.shape[0]},))")
    return dict(synapse="dense", weight=w, bias=bias, out_shape=(w.shape[0],))


def _conv(node: Any, where: Where, shape: tuple[int, ...]) -> dict[str, Any]:
    w = as_float_array(node.weight, where, "weight")
    if w.ndim != 4:
        raise where.error(f"weight has shape {w.shape} (allowed: (out_ch, in_ch/groups, kh, kw))")
    if len(shape) != 3:
        raise where.error(f"a Conv2d receives a {shape} frame (allowed: (channels, height, width))")
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    if groups < 1 or w.shape[0] % groups or w.shape[1] * groups != shape[0]:
        raise where.error(
            f"weight {w.shape} with groups {groups} takes {w.shape[1] * groups} channels, but "
            f"receives {shape[0]} (a {shape} frame)"
        )
    if node.input_shape is not None:
        declared = tuple(int(v) for v in np.asarray(node.input_shape).reshape(-1))
        if declared != tuple(shape[1:]):
            raise where.error(f"input_shape {declared}, but receives a {shape} frame")
    stride = pair(node.stride, where, "stride", 1)
    dilation = pair(node.dilation, where, "dilation", 1)
    kernel = w.shape[2:]
    if isinstance(node.padding, str) and node.padding in ("same", "valid"):
        span = [dilation[i] * (kernel[i] - 1) for i in range(2)]
        if node.padding == "same" and (any(v % 2 for v in span) or stride != (1, 1)):
            raise where.error(
                f"padding 'same' with kernel {kernel}, dilation {dilation} and stride {stride} "
                "needs uneven padding (allowed: 'same' with stride 1 and odd kernels)"
            )
        padding = (span[0] // 2, span[1] // 2) if node.padding == "same" else (0, 0)
    else:
        padding = pair(node.padding, where, "padding", 0)
    out = tuple(
        (shape[i + 1] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
        for i in range(2)
    )
    if min(out) < 1:
        raise where.error(f"kernel {kernel} is larger than the {shape} frame (padding {padding})")
    bias = as_float_array(node.bias, where, "bias")
    if bias.size == 1:
        bias = np.full(w.shape[0], float(bias.reshape(-1)[0]))
    if bias.shape != (w.shape[0],):
        raise where.error(f"bias has shape {bias.shape} (allowed: ({w.shape[0]},))")
    return dict(
        synapse="conv", weight=w, bias=bias, out_shape=(w.shape[0], *out), stride=stride,
        padding=padding, dilation=dilation, groups=groups,
    )  # fmt: skip


def build_layers(
    order: list[str], nodes: dict[str, Any], source: str, dt: float
) -> tuple[tuple[int, ...], list[Layer]]:
    """The input shape and the layers along ``order`` (Input first, Output last).

    An all-zero bias is read as no bias (snnTorch writes zeros for a convolution without one,
    Norse 1.1.0 an Affine with zeros for a Linear without one)."""
    input_shape = shape = _input_shape(nodes[order[0]], Where(source, order[0], "Input"))
    layers: list[Layer] = []
    reshapes: list[Reshape] = []
    synapse: dict[str, Any] | None = None
    for name in order[1:]:
        node = nodes[name]
        kind = _kind(node)
        where = Where(source, name, kind)
        if synapse is not None and kind not in NEURONS:
            raise where.error(
                f"follows synapse '{synapse['name']}' directly: a synapse (Affine, Linear, "
                f"Conv2d) must feed a neuron ({', '.join(NEURONS)})"
            )
        if kind == "Flatten":
            reshapes.append(Reshape("flatten", name))
            shape = _flatten(node, where, shape)
        elif kind in RESHAPES:
            reshape, shape = _pool(node, where, shape)
            reshapes.append(reshape)
        elif kind in SYNAPSES:
            parts = _dense(node, where, shape) if kind != "Conv2d" else _conv(node, where, shape)
            if parts["bias"] is not None and not np.any(parts["bias"]):
                parts["bias"] = None
            synapse = dict(name=name, in_shape=shape, **parts)
        elif kind in NEURONS:
            if synapse is None:
                raise where.error(
                    f"has no synapse before it (a neuron must follow one of {', '.join(SYNAPSES)})"
                )
            out_shape = synapse["out_shape"]
            neuron = neuron_from_nir(node, where, out_shape, dt)
            del synapse["out_shape"]
            layers.append(
                Layer(neuron=neuron, out_shape=out_shape, reshapes=tuple(reshapes), **synapse)
            )
            reshapes, synapse, shape = [], None, out_shape
        elif kind == "Output":
            if reshapes:
                raise Where(source, reshapes[-1].node, reshapes[-1].kind).error(
                    "comes after the last neuron: only the Output may follow it"
                )
            _check_output(node, where, shape, layers)
        else:
            raise where.error(f"is not supported inside the chain (kind {kind})")
    return input_shape, layers


def _check_output(node: Any, where: Where, shape: tuple[int, ...], layers: list[Layer]) -> None:
    if not layers:
        raise where.error("the graph has no layer (a synapse and a neuron) before its Output")
    declared = node.output_type.get("output") if isinstance(node.output_type, dict) else None
    size = None if declared is None else np.asarray(declared)
    if size is not None and size.size and int(np.prod(size)) != int(np.prod(shape)):
        raise where.error(
            f"declares shape {shown(declared)}, but the last layer '{layers[-1].name}' "
            f"gives {shape}"
        )
