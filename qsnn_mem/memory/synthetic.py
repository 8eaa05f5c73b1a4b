"""Synthetic trace folders with hand-set counts: for tests, benchmarks and the paper comparison.

They follow the tracer's contract exactly (accesses.csv, tensors.csv, trace.json), so the
estimate cannot tell them from a real trace. The event model behind :func:`smile_trace` and
:func:`conv_trace` is described in docs/memory.md ("Synthetic traces").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract import ACCESS_COLUMNS, TENSOR_COLUMNS
from ..contract import write_trace as write_files


def tensor_row(
    layer: str,
    tensor: str,
    rows: int,
    cols: int,
    bits: int,
    density: float = 1.0,
    kernel_shape: tuple[int, ...] | None = None,
    unrolled: tuple[int, int, int] | None = None,
) -> dict:
    """One tensors.csv row; a kernel gives its O×I×KH×KW shape and unrolled (rows, cols, nnz)."""
    elements = rows * cols
    nnz = round(elements * density)
    shape = "x".join(map(str, kernel_shape)) if kernel_shape else f"{rows}x{cols}"
    u_rows, u_cols, u_nnz = unrolled if unrolled else (rows, cols, nnz)
    return {
        "layer": layer,
        "tensor": tensor,
        "shape": shape,
        "rows": rows,
        "cols": cols,
        "bits": bits,
        "elements": elements,
        "nonzero": nnz,
        "kernel": kernel_shape is not None,
        "unrolled_rows": u_rows,
        "unrolled_cols": u_cols,
        "unrolled_nonzero": u_nnz,
    }


def access_row(
    phase: str,
    stage: str,
    layer: str,
    tensor: str,
    op: str,
    pattern: str,
    bits: int,
    accesses: float,
    per_access: float,
    density: float,
    traversal: str = "any",
) -> dict:
    """One accesses.csv row: ``accesses`` accesses of ``per_access`` values each."""
    accesses = round(accesses)
    elements = round(accesses * per_access)
    return {
        "phase": phase,
        "stage": stage,
        "layer": layer,
        "tensor": tensor,
        "op": op,
        "pattern": pattern,
        "traversal": traversal,
        "bits": bits,
        "accesses": accesses,
        "elements": elements,
        "nonzero": min(elements, round(elements * density)),
    }


def write_trace(
    folder: str | Path,
    tensors: list[dict],
    accesses: list[dict],
    normalisers: dict[str, int],
    workload: str = "synthetic",
) -> Path:
    """Write rows made with :func:`tensor_row` and :func:`access_row` as a trace folder."""
    return write_files(
        folder,
        pd.DataFrame(accesses, columns=list(ACCESS_COLUMNS)),
        pd.DataFrame(tensors, columns=list(TENSOR_COLUMNS)),
        normalisers,
        {"workload": workload, "mode": "event"},
    )


def _layer_rows(
    phase: str,
    layer: str,
    fan_in: int,
    n: int,
    steps: float,
    in_rate: float,
    out_rate: float,
    wb: int,
    density: float,
    sb: int,
) -> list[dict]:
    """Forward of one fully connected LIF layer for ``steps`` time steps (all samples)."""
    spikes_in = fan_in * steps * in_rate
    rows = [access_row(phase, "forward", layer, "weight", "read", "row", wb, spikes_in, n, density)]
    for state in ("syn", "mem"):
        for op in ("read", "write"):
            rows.append(
                access_row(phase, "forward", layer, state, op, "elem", sb, n * steps, 1, 0.5)
            )
    rows.append(
        access_row(phase, "forward", layer, "spk", "write", "elem", 1, n * steps, 1, out_rate)
    )
    return rows


def smile_trace(
    folder: str | Path,
    weight_bits: int = 2,
    density: float = 0.65,
    state_bits: int = 8,
    err_bits: int = 8,
    grad_bits: int = 8,
    time_steps: int = 250,
    input_rate: float = 0.05,
    hidden_rate: float = 0.05,
    train_samples: int = 1,
    epochs: int = 1,
    infer_samples: int = 1,
) -> Path:
    """The ISCAS smile network (700→400→250) with synthetic spike and error counts.

    The backward weight reads come as both variants (traversal ``row``: each pre-synaptic neuron
    gathers its error from its outgoing row every step; ``col``: each non-zero post-synaptic
    error, half of them, scatters through its incoming column); the architecture picks one.
    """
    sizes = [("fc1", 700, 400, input_rate, hidden_rate), ("fc2", 400, 250, hidden_rate, 0.05)]
    tensors = [tensor_row("fc1", "input", 1, 700, 1, input_rate)]
    acc = []
    for phase, samples in (("train", train_samples * epochs), ("infer", infer_samples)):
        steps = time_steps * samples
        if samples == 0:
            continue
        acc.append(
            access_row(
                phase, "forward", "fc1", "input", "read", "elem", 1, 700 * steps, 1, input_rate
            )
        )
        for layer, fan_in, n, rin, rout in sizes:
            acc += _layer_rows(
                phase, layer, fan_in, n, steps, rin, rout, weight_bits, density, state_bits
            )
        if phase != "train":
            continue
        for layer, fan_in, n, rin, _ in sizes:
            for op in ("write", "read"):
                acc.append(
                    access_row(
                        phase, "backward", layer, "err", op, "elem", err_bits, n * steps, 1, 0.5
                    )
                )
            # Error propagation, both variants: each pre-synaptic neuron gathers through its
            # outgoing row every step, or each non-zero error scatters through its column.
            prop = (phase, "backward", layer, "weight", "read")
            acc += [
                access_row(*prop, "row", weight_bits, fan_in * steps, n, density, "row"),
                access_row(*prop, "col", weight_bits, n * steps * 0.5, fan_in, density, "col"),
            ]
            # Update: on each pre-synaptic spike, accumulate the gradient of its row; weights
            # are read-modify-written once per sample.
            for op in ("read", "write"):
                acc.append(
                    access_row(
                        phase,
                        "update",
                        layer,
                        "grad",
                        op,
                        "row",
                        grad_bits,
                        fan_in * steps * rin,
                        n,
                        0.5,
                    )
                )
                acc.append(
                    access_row(
                        phase,
                        "update",
                        layer,
                        "weight",
                        op,
                        "row",
                        weight_bits,
                        fan_in * samples,
                        n,
                        density,
                    )
                )
    for layer, fan_in, n, _, rout in sizes:
        tensors += [
            tensor_row(layer, "weight", fan_in, n, weight_bits, density),
            tensor_row(layer, "syn", 1, n, state_bits, 0.5),
            tensor_row(layer, "mem", 1, n, state_bits, 0.5),
            tensor_row(layer, "spk", 1, n, 1, rout),
            tensor_row(layer, "err", 1, n, err_bits, 0.5),
            tensor_row(layer, "grad", fan_in, n, grad_bits, 0.5),
        ]
    norm = {
        "train_epochs": epochs,
        "train_samples": train_samples * epochs,
        "infer_samples": infer_samples,
        "time_steps": time_steps,
    }
    return write_trace(folder, tensors, acc, norm, workload="smile-synthetic")


def conv_geometry(c_in: int, c_out: int, k: int, size: int) -> tuple[int, int, int]:
    """Unrolled (rows, cols, non-zeros) of a stride-1, 'same'-padded k×k convolution."""
    rows, cols = c_in * size * size, c_out * size * size
    covered = sum(min(size, x + k // 2 + 1) - max(0, x - k // 2) for x in range(size))
    return rows, cols, c_in * c_out * covered * covered


def conv_trace(
    folder: str | Path,
    c_in: int = 2,
    c_out: int = 8,
    k: int = 3,
    size: int = 16,
    weight_bits: int = 8,
    density: float = 1.0,
    time_steps: int = 100,
    input_rate: float = 0.1,
) -> Path:
    """One convolution layer trained for one sample: forward, backward and update counts."""
    u_rows, u_cols, u_nnz = conv_geometry(c_in, c_out, k, size)
    u_nnz = round(u_nnz * density)
    out_per_in = u_nnz / u_rows  # unrolled outgoing synapses of one input neuron (average)
    in_per_out = u_nnz / u_cols  # ... incoming synapses of one output neuron
    tensors = [
        tensor_row(
            "conv1",
            "weight",
            c_in * k * k,
            c_out,
            weight_bits,
            density,
            kernel_shape=(c_out, c_in, k, k),
            unrolled=(u_rows, u_cols, u_nnz),
        ),
        tensor_row("conv1", "err", 1, u_cols, 8, 0.5),
    ]
    spikes = u_rows * time_steps * input_rate
    acc = [
        access_row(
            "train",
            "forward",
            "conv1",
            "weight",
            "read",
            "row",
            weight_bits,
            spikes,
            out_per_in,
            1.0,
        ),
        access_row(
            "train", "backward", "conv1", "err", "read", "elem", 8, u_cols * time_steps, 1, 0.5
        ),
    ]
    # The error sent down, both variants at the same density: a row gather per input position,
    # or a column scatter per output position (in_per_out incoming synapses each).
    prop = ("train", "backward", "conv1", "weight", "read")
    acc += [
        access_row(*prop, "row", weight_bits, u_rows * time_steps, out_per_in, 1.0, "row"),
        access_row(*prop, "col", weight_bits, u_cols * time_steps, in_per_out, 1.0, "col"),
    ]
    for op in ("read", "write"):
        acc.append(
            access_row(
                "train",
                "update",
                "conv1",
                "weight",
                op,
                "row",
                weight_bits,
                spikes,
                out_per_in,
                1.0,
            )
        )
    norm = {"train_epochs": 1, "train_samples": 1, "infer_samples": 0, "time_steps": time_steps}
    return write_trace(folder, tensors, acc, norm, workload="conv-synthetic")
