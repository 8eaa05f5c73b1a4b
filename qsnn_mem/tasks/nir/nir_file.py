"""Reading and writing .nir files (HDF5, the ``nir`` package's format) as a :class:`Network`.

:func:`load_network` reads every node with the ``nir`` package's classes, one by one (so that a
node nir cannot build is named), then checks that the graph is one feed-forward chain
``Input -> [Flatten | SumPool2d | AvgPool2d]* -> (Affine | Linear | Conv2d) -> (LIF | CubaLIF |
IF | LI) -> ... -> Output`` and infers every shape along it (:mod:`.nir_chain`). Anything else
(a missing or non-HDF5 file, recurrent edges, branches, unsupported nodes, mismatched shapes,
nonpositive time constants) is a :class:`~qsnn_mem.errors.QsnnError` naming the file and the
node. :func:`network_to_nir` and :func:`save_network` write a network back (torch-free).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import h5py
import nir
import numpy as np

from ...errors import QsnnError
from ...io import atomic_path
from .graph import Network
from .nir_chain import build_layers, chain_order, pooled
from .nir_params import neuron_to_nir

SUPPORTED = (
    "Input", "Output", "Affine", "Linear", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d",
    "LIF", "CubaLIF", "IF", "LI",
)  # fmt: skip
# Graph metadata key of qsnn-mem's own exports: the time step the network was made for.
META_DT = "qsnn_mem.dt"


def load_network(path: str | os.PathLike, dt: float) -> Network:
    """The feed-forward network of the .nir file ``path``, for time step ``dt`` (seconds)."""
    source = str(path)
    if not (isinstance(dt, int | float) and np.isfinite(dt) and dt > 0):
        raise QsnnError(f"{source}: time step dt = {dt!r} (allowed: a number of seconds > 0)")
    nodes, edges, metadata = read_graph(path)
    order = chain_order(nodes, edges, source)
    input_shape, layers = build_layers(order, nodes, source, float(dt))
    return Network(input_shape=input_shape, layers=tuple(layers), source=source, metadata=metadata)


def read_graph(path: str | os.PathLike) -> tuple[dict[str, Any], list[tuple[str, str]], dict]:
    """The nodes (nir objects, by name), edges and graph metadata (as text) of a .nir file."""
    file = Path(path)
    if not file.exists():
        raise QsnnError(f"{file}: file not found (give a .nir file written by nir.write)")
    if not file.is_file():
        raise QsnnError(f"{file}: not a file (give a .nir file written by nir.write)")
    try:
        with h5py.File(file, "r") as f:
            version = _text(f["version"][()]) if "version" in f else "?"
            if "node" not in f or not isinstance(f["node"], h5py.Group):
                raise QsnnError(f"{file}: an HDF5 file without a 'node' group: not a NIR graph")
            data = _group(f["node"])
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise QsnnError(
            f"{file}: not a readable NIR file (an HDF5 file written by nir.write): {exc}"
        ) from None
    if _text(data.get("type")) != "NIRGraph" or not isinstance(data.get("nodes"), dict):
        raise QsnnError(f"{file}: the top node is not a NIRGraph with nodes (NIR {version})")
    nodes = {name: _node(file, name, raw, version) for name, raw in data["nodes"].items()}
    edges = _edges(file, data.get("edges"), nodes)
    metadata = {str(k): _text(v) for k, v in (data.get("metadata") or {}).items()}
    return nodes, edges, metadata


def _group(group: h5py.Group) -> dict[str, Any]:
    """An HDF5 group as nested dicts of numpy values (bytes as text)."""
    out: dict[str, Any] = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            out[key] = _group(item)
        else:
            value = item[()]
            out[key] = value.decode("utf8", errors="replace") if isinstance(value, bytes) else value
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf8", errors="replace")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _node(file: Path, name: str, raw: Any, version: str) -> Any:
    """One node, built by the nir package; unsupported types and unbuildable nodes named."""
    if not isinstance(raw, dict) or "type" not in raw:
        raise QsnnError(f"{file}: node '{name}' has no type: not a NIR node")
    kind = _text(raw["type"])
    if kind == "NIRGraph":
        raise QsnnError(
            f"{file}: node '{name}' is a subgraph (NIRGraph), as exporters write recurrent layers "
            f"(snnTorch's RLeaky, RSynaptic): qsnn-mem reads feed-forward chains of "
            f"{', '.join(SUPPORTED)}"
        )
    if kind not in SUPPORTED:
        raise QsnnError(
            f"{file}: node '{name}' has type {kind!r}, which qsnn-mem does not read (supported: "
            f"{', '.join(SUPPORTED)})"
        )
    fields = {k: v for k, v in raw.items() if k != "type"}
    if kind == "Conv2d":
        fields.setdefault("input_shape", None)  # optional: qsnn-mem infers it along the chain
    try:
        return nir.dict2NIRNode({"type": kind, **fields})
    except Exception as exc:  # nir's constructors raise assertions, TypeErrors, ValueErrors
        why = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        why = why or type(exc).__name__
        raise QsnnError(
            f"{file}: node '{name}' ({kind}) cannot be built by nir {nir.version} (file written "
            f"by NIR {version}): {why} (fields: {', '.join(sorted(fields))})"
        ) from None


def _edges(file: Path, raw: Any, nodes: dict[str, Any]) -> list[tuple[str, str]]:
    if raw is None:
        return []
    arr = np.asarray(raw)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise QsnnError(f"{file}: edges of shape {arr.shape} (allowed: pairs of node names)")
    edges = [(_text(a), _text(b)) for a, b in arr]
    seen = set()
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise QsnnError(
                    f"{file}: edge '{a}' -> '{b}' names node '{end}', which the graph does not "
                    f"hold (nodes: {', '.join(nodes)})"
                )
        if (a, b) in seen:
            raise QsnnError(f"{file}: edge '{a}' -> '{b}' is given twice")
        seen.add((a, b))
    return edges


def network_to_nir(network: Network) -> nir.NIRGraph:
    """The NIR graph of ``network``: Input, per layer its reshapes, synapse and neuron, Output.
    Neuron parameters are written per neuron; qsnn-mem's reset rule and order, where they are
    not NIR's, in the neuron's metadata (docs/nir.md)."""
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array(network.input_shape))}
    chain = ["input"]
    shape = network.input_shape
    for layer in network.layers:
        for r in layer.reshapes:
            if r.kind == "flatten":
                node = nir.Flatten(input_type=np.array(shape), start_dim=0, end_dim=-1)
                shape = (int(np.prod(shape)),)
            else:
                cls = nir.SumPool2d if r.kind == "sumpool" else nir.AvgPool2d
                node = cls(np.array(r.kernel), np.array(r.stride), np.array(r.padding))
                shape = (shape[0], *pooled(shape[1:], r.kernel, r.stride, r.padding))
            nodes[r.node] = node
            chain.append(r.node)
        if layer.synapse == "dense":
            w = np.asarray(layer.weight, dtype=np.float64)
            if layer.bias is None:
                nodes[layer.name] = nir.Linear(weight=w)
            else:
                nodes[layer.name] = nir.Affine(weight=w, bias=np.asarray(layer.bias, np.float64))
        else:
            bias = np.zeros(layer.weight.shape[0]) if layer.bias is None else layer.bias
            nodes[layer.name] = nir.Conv2d(
                input_shape=tuple(layer.in_shape[1:]), weight=np.asarray(layer.weight, np.float64),
                stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                groups=layer.groups, bias=np.asarray(bias, dtype=np.float64),
            )  # fmt: skip
        nodes[layer.neuron.node] = neuron_to_nir(layer.neuron)
        chain += [layer.name, layer.neuron.node]
        shape = layer.out_shape
    nodes["output"] = nir.Output(output_type=np.array(shape))
    chain.append("output")
    if len(set(chain)) != len(chain):
        raise QsnnError(f"node names repeat in the network: {', '.join(chain)}")
    edges = list(itertools.pairwise(chain))
    metadata = {str(k): str(v) for k, v in network.metadata.items()}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def save_network(network: Network, path: str | os.PathLike) -> Path:
    """Write ``network`` as a .nir file, atomically (a failed write keeps the old file)."""
    graph = network_to_nir(network)
    target = Path(path)
    with atomic_path(target) as tmp:
        nir.write(tmp, graph)
    return target


def exported_dt(metadata: dict[str, str]) -> float | None:
    """The time step a graph records in qsnn-mem's metadata (its own exports), else None."""
    try:
        dt = float(metadata[META_DT])
    except (KeyError, ValueError):
        return None
    return dt if np.isfinite(dt) and dt > 0 else None


def _values(arr: np.ndarray) -> str:
    """One number, or the range of a parameter that differs between neurons."""
    lo, hi = float(np.min(arr)), float(np.max(arr))
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g}..{hi:.4g}"


def summary_lines(network: Network, dt: float) -> list[str]:
    """One line per layer: reshapes, synapse and shapes, neuron and its per-step decays."""
    lines = [f"input {network.input_shape}, {len(network.layers)} layers, dt = {dt:g} s"]
    for layer in network.layers:
        n = layer.neuron
        before = "".join(f"{r.kind} '{r.node}', " for r in layer.reshapes)
        what = f"{before}{layer.synapse} {layer.in_shape} -> {layer.out_shape}"
        if layer.bias is not None:
            what += " + bias"
        if n.kind == "IF":
            dyn = f"gain dt*r {_values(dt * n.r)}, no leak"
        else:
            dyn = f"membrane decay {_values(1 - dt / n.tau_mem)}"
            if n.tau_syn is not None:
                dyn = f"synaptic decay {_values(1 - dt / n.tau_syn)}, {dyn}"
        if n.kind != "LI":
            reset = f"reset to {_values(n.v_reset)}"
            if n.reset == "subtract":
                reset = f"reset: subtract {n.reset_amount:g}"
            dyn += f", threshold {_values(n.v_threshold)}, {reset}"
            dyn += ", spike before update" if n.spike_first else ""
        else:
            dyn += ", readout (no spikes)"
        lines.append(f"{layer.name}: {what}; {n.kind} '{n.node}': {dyn}")
    return lines
