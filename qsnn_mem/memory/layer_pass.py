"""Trace folders of one pass of one layer, as the ISCAS 2020 authors measured their memories.

A layer pass reads every input row once in the forward pass, propagates every output error once
(written both as a gather over rows and a scatter over columns; the estimator keeps one) and
read-modify-writes every stored weight once. The counts come from an actual random mask with
exactly ``round(density · size)`` non-zeros, so a seed fixes them. The folders are written
through :mod:`qsnn_mem.contract` and never need torch.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import ACCESS_COLUMNS, TENSOR_COLUMNS, write_trace
from ..contract.read import read_json
from ..contract.vocabulary import META_FILE
from ..errors import QsnnError

# One pass of one training sample: the estimator's per-epoch energy is then the pass energy.
NORMALISERS = {"train_epochs": 1, "train_samples": 1, "infer_samples": 0, "time_steps": 1}
# The mask is materialized (and numpy's sampler needs 8 bytes per candidate): cap its size.
MAX_WEIGHTS = 2**26


# --- validation --------------------------------------------------------------------------------


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_positive(name: str, value: int) -> None:
    """Raise unless ``value`` is an integer >= 1; the message names the CLI option."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise QsnnError(f"{_option(name)} = {value!r} is not allowed (allowed: an integer >= 1)")


def check_density(density: float) -> None:
    # Written as a negation so that NaN is refused too.
    if not (isinstance(density, int | float) and 0 < density <= 1):
        raise QsnnError(f"--density = {density!r} is out of range (allowed: 0 < density <= 1)")


def check_bits(bits: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= 32:
        raise QsnnError(f"--weight-bits = {bits!r} is not allowed (allowed: an integer 1-32)")


def check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise QsnnError(f"--seed = {seed!r} is not allowed (allowed: an integer >= 0)")


def check_size(what: str, size: int) -> None:
    if size > MAX_WEIGHTS:
        raise QsnnError(f"{what} = {size} weights is too large (allowed: at most {MAX_WEIGHTS})")


# --- masks and counts --------------------------------------------------------------------------


def random_mask(shape: tuple[int, ...], density: float, seed: int) -> np.ndarray:
    """A boolean mask with exactly ``round(density · size)`` True entries at seeded positions."""
    size = math.prod(shape)
    nnz = round(density * size)
    flat = np.zeros(size, dtype=bool)
    flat[np.random.default_rng(seed).choice(size, nnz, replace=False)] = True
    return flat.reshape(shape)


def tap_cover(kernel: int, image: int) -> np.ndarray:
    """Per kernel offset k along one axis: how many (input, output) position pairs it links.

    With stride 1 and padding K//2, tap k links input y to output y - k + K//2; both must lie
    in [0, image), which leaves image - |k - K//2| pairs (none once the offset leaves the image).
    """
    offsets = np.abs(np.arange(kernel) - kernel // 2)
    return np.maximum(image - offsets, 0).astype(np.int64)


def conv_counts(mask: np.ndarray, image: int) -> tuple[int, int]:
    """(positions, non-zeros) of the unrolled connectivity of an O×I×K×K kernel mask.

    Positions count every in-image tap (kernel zeros included); non-zeros only the mask's.
    A 2-D tap (ky, kx) is used tap_cover[ky] · tap_cover[kx] times over the image.
    """
    out_ch, in_ch, kernel, _ = mask.shape
    cover = tap_cover(kernel, image)
    per_tap = np.outer(cover, cover)
    taps_set = mask.sum(axis=(0, 1), dtype=np.int64)  # how many (o, i) pairs hold each tap
    # Python ints: exact however large the image.
    positions = out_ch * in_ch * int(cover.sum()) ** 2
    nonzero = sum(int(n) * int(c) for n, c in zip(taps_set.ravel(), per_tap.ravel(), strict=True))
    return positions, nonzero


# --- table rows --------------------------------------------------------------------------------


def _access(
    stage: str, layer: str, op: str, pattern: str, traversal: str, bits: int, counts: tuple
) -> dict:
    keys = ("train", stage, layer, "weight", op, pattern, traversal, bits)
    return dict(zip(ACCESS_COLUMNS, (*keys, *(int(c) for c in counts)), strict=True))


def _tensor(
    layer: str, shape: tuple[int, ...], rows: int, cols: int, bits: int, nnz: int, unrolled: tuple
) -> dict:
    values = (layer, "weight", "x".join(map(str, shape)), rows, cols, bits, rows * cols, nnz)
    values += (len(shape) == 4, *(int(u) for u in unrolled))
    return dict(zip(TENSOR_COLUMNS, values, strict=True))


def _pass_rows(layer: str, bits: int, row: tuple, col: tuple, update: tuple, pattern: str):
    """The five access rows of a pass; row/col/update are (accesses, elements, nonzero)."""
    return [
        _access("forward", layer, "read", "row", "any", bits, row),
        _access("backward", layer, "read", "row", "row", bits, row),
        _access("backward", layer, "read", "col", "col", bits, col),
        _access("update", layer, "read", pattern, "any", bits, update),
        _access("update", layer, "write", pattern, "any", bits, update),
    ]


def fc_tables(mask: np.ndarray, bits: int, layer: str = "fc1") -> tuple[list[dict], list[dict]]:
    """(tensors rows, access rows) of one pass through a fully connected R×C weight mask."""
    rows, cols = mask.shape
    row_nnz = mask.sum(axis=1, dtype=np.int64)  # each pre-synaptic row is read once
    col_nnz = mask.sum(axis=0, dtype=np.int64)  # each post-synaptic column once
    nnz = int(row_nnz.sum())
    row = (rows, rows * cols, nnz)
    col = (cols, rows * cols, int(col_nnz.sum()))
    tensors = [_tensor(layer, (rows, cols), rows, cols, bits, nnz, (rows, cols, nnz))]
    return tensors, _pass_rows(layer, bits, row, col, row, "row")


def conv_tables(
    mask: np.ndarray, image: int, bits: int, layer: str = "conv1"
) -> tuple[list[dict], list[dict]]:
    """(tensors rows, access rows) of one pass of a stride-1 'same' convolution over image²."""
    out_ch, in_ch, kernel, _ = mask.shape
    pixels = image * image
    positions, unrolled_nnz = conv_counts(mask, image)
    kernel_nnz = int(mask.sum())
    weights = out_ch * in_ch * kernel * kernel
    row = (in_ch * pixels, positions, unrolled_nnz)
    col = (out_ch * pixels, positions, unrolled_nnz)
    # The update touches each kernel weight once; the estimator scales elem accesses by the
    # kernel's unrolled copies where the storage is index-based and unrolled.
    update = (weights, weights, kernel_nnz)
    unrolled = (in_ch * pixels, out_ch * pixels, unrolled_nnz)
    tensors = [
        _tensor(layer, mask.shape, in_ch * kernel * kernel, out_ch, bits, kernel_nnz, unrolled)
    ]
    return tensors, _pass_rows(layer, bits, row, col, update, "elem")


# --- folders -----------------------------------------------------------------------------------


def pass_name(params: dict) -> str:
    """A folder name such as ``fc-784x128-d0.5-w8`` (``-s3`` appended for seed 3)."""
    p = params
    if p["kind"] == "fc":
        head = f"fc-{p['rows']}x{p['cols']}"
    else:
        head = f"conv-{p['in_channels']}x{p['out_channels']}-k{p['kernel']}-i{p['image']}"
    seed = f"-s{p['seed']}" if p["seed"] else ""
    return f"{head}-d{p['density']:g}-w{p['weight_bits']}{seed}"


def _check_target(folder: Path, params: dict, force: bool) -> None:
    """Refuse to replace a different trace: a sweep's results must not change silently."""
    meta_file = folder / META_FILE
    if force or not meta_file.exists():
        return
    try:
        meta = read_json(meta_file)
        existing = meta.get("layer_pass")
        held = pass_name(existing) if existing else f"workload {meta.get('workload')!r}"
    except (QsnnError, AttributeError, KeyError, TypeError):
        existing, held = None, "an unreadable trace.json"
    if existing != params:
        raise QsnnError(
            f"{folder} already holds a different trace ({held}, not {pass_name(params)}); "
            "use --force to overwrite it, or another --out"
        )


def write_pass(
    folder: str | Path, params: dict, tensors: list[dict], accesses: list[dict], force: bool
) -> Path:
    """Write the trace files through the trace contract (which writes trace.json last)."""
    out = Path(folder)
    _check_target(out, params, force)
    meta = {
        "workload": f"layer-pass-{pass_name(params)}",
        "mode": "event",
        "layer_pass": params,
        "description": "one pass of one layer: every input row read once (forward), every "
        "output error propagated once (backward), every stored weight read and written once "
        "(update)",
    }
    acc = pd.DataFrame(accesses, columns=list(ACCESS_COLUMNS))
    ten = pd.DataFrame(tensors, columns=list(TENSOR_COLUMNS))
    return write_trace(out, acc, ten, dict(NORMALISERS), meta)


def fc_params(rows: int, cols: int, density: float, weight_bits: int, seed: int = 0) -> dict:
    """Checked parameters of a fully connected pass (as stored in trace.json's layer_pass)."""
    check_positive("rows", rows)
    check_positive("cols", cols)
    check_density(density)
    check_bits(weight_bits)
    check_seed(seed)
    check_size(f"--rows × --cols = {rows}×{cols}", rows * cols)
    return {
        "kind": "fc",
        "rows": int(rows),
        "cols": int(cols),
        "density": float(density),
        "weight_bits": int(weight_bits),
        "seed": int(seed),
    }


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel: int,
    image: int,
    density: float,
    weight_bits: int,
    seed: int = 0,
) -> dict:
    """Checked parameters of a convolution pass (as stored in trace.json's layer_pass)."""
    for name, value in (
        ("in_channels", in_channels),
        ("out_channels", out_channels),
        ("kernel", kernel),
        ("image", image),
    ):
        check_positive(name, value)
    if kernel % 2 == 0:
        raise QsnnError(f"--kernel = {kernel} is even (allowed: an odd integer >= 1)")
    check_density(density)
    check_bits(weight_bits)
    check_seed(seed)
    check_size("the kernel", out_channels * in_channels * kernel * kernel)
    return {
        "kind": "conv",
        "in_channels": int(in_channels),
        "out_channels": int(out_channels),
        "kernel": int(kernel),
        "image": int(image),
        "stride": 1,
        "padding": int(kernel) // 2,
        "density": float(density),
        "weight_bits": int(weight_bits),
        "seed": int(seed),
    }


def fc_pass(
    folder: str | Path,
    rows: int,
    cols: int,
    density: float,
    weight_bits: int,
    seed: int = 0,
    *,
    force: bool = False,
) -> Path:
    """Write the trace of one pass through a rows×cols fully connected layer; the folder."""
    params = fc_params(rows, cols, density, weight_bits, seed)
    mask = random_mask((rows, cols), density, seed)
    tensors, accesses = fc_tables(mask, weight_bits)
    return write_pass(folder, params, tensors, accesses, force)


def conv_pass(
    folder: str | Path,
    in_channels: int,
    out_channels: int,
    kernel: int,
    image: int,
    density: float,
    weight_bits: int,
    seed: int = 0,
    *,
    force: bool = False,
) -> Path:
    """Write the trace of one pass of a kernel×kernel convolution over an image×image input."""
    params = conv_params(in_channels, out_channels, kernel, image, density, weight_bits, seed)
    mask = random_mask((out_channels, in_channels, kernel, kernel), density, seed)
    tensors, accesses = conv_tables(mask, image, weight_bits)
    return write_pass(folder, params, tensors, accesses, force)
