"""``qsnn-mem synth``: layer-pass traces counted from the actual mask, checked by brute force."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.memory import layer_pass as lp

ACCESS_COLUMNS = [
    "phase", "stage", "layer", "tensor", "op", "pattern", "traversal", "bits", "accesses",
    "elements", "nonzero",
]  # fmt: skip
TENSOR_COLUMNS = [
    "layer", "tensor", "shape", "rows", "cols", "bits", "elements", "nonzero", "kernel",
    "unrolled_rows", "unrolled_cols", "unrolled_nonzero",
]  # fmt: skip
KEY = ["stage", "op", "pattern", "traversal"]


def _counts(folder) -> dict[tuple, tuple[int, int, int]]:
    """accesses.csv as {(stage, op, pattern, traversal): (accesses, elements, nonzero)}."""
    frame = pd.read_csv(folder / "accesses.csv")
    assert (frame["phase"] == "train").all() and (frame["tensor"] == "weight").all()
    return {
        tuple(r[KEY]): (int(r["accesses"]), int(r["elements"]), int(r["nonzero"]))
        for _, r in frame.iterrows()
    }


def _expected(row, col, update, pattern) -> dict:
    return {
        ("forward", "read", "row", "any"): row,
        ("backward", "read", "row", "row"): row,
        ("backward", "read", "col", "col"): col,
        ("update", "read", pattern, "any"): update,
        ("update", "write", pattern, "any"): update,
    }


def _brute_fc(mask):
    """Row and column reads of every neuron, counted one synapse at a time."""
    rows, cols = mask.shape
    row_nnz = col_nnz = 0
    for i in range(rows):
        for j in range(cols):
            row_nnz += bool(mask[i, j])
    for j in range(cols):
        for i in range(rows):
            col_nnz += bool(mask[i, j])
    return (rows, rows * cols, row_nnz), (cols, rows * cols, col_nnz)


def _brute_conv(mask, image):
    """Unrolled rows (input pixels) and columns (output pixels), tap by tap."""
    out_ch, in_ch, k, _ = mask.shape
    pad = k // 2
    pixels = list(itertools.product(range(image), range(image)))

    def tap(y, x, yo, xo):  # the kernel offset linking input (y, x) to output (yo, xo), if any
        ky, kx = y - yo + pad, x - xo + pad
        return (ky, kx) if 0 <= ky < k and 0 <= kx < k else None

    row = [0, 0, 0]
    for i, (y, x) in itertools.product(range(in_ch), pixels):
        row[0] += 1
        for o, (yo, xo) in itertools.product(range(out_ch), pixels):
            t = tap(y, x, yo, xo)
            if t:
                row[1] += 1
                row[2] += bool(mask[o, i, *t])
    col = [0, 0, 0]
    for o, (yo, xo) in itertools.product(range(out_ch), pixels):
        col[0] += 1
        for i, (y, x) in itertools.product(range(in_ch), pixels):
            t = tap(y, x, yo, xo)
            if t:
                col[1] += 1
                col[2] += bool(mask[o, i, *t])
    return tuple(row), tuple(col)


@pytest.mark.parametrize(
    ("rows", "cols", "density", "seed"),
    [(1, 1, 1.0, 0), (5, 3, 0.5, 1), (7, 11, 0.3, 2), (16, 4, 0.01, 3), (9, 9, 0.77, 4)],
)
def test_fc_counts_match_brute_force(tmp_path, rows, cols, density, seed):
    folder = lp.fc_pass(tmp_path / "t", rows, cols, density, 6, seed)
    mask = lp.random_mask((rows, cols), density, seed)
    assert int(mask.sum()) == round(density * rows * cols)
    row, col = _brute_fc(mask)
    assert _counts(folder) == _expected(row, col, row, "row")
    tensors = pd.read_csv(folder / "tensors.csv")
    assert list(tensors.columns) == TENSOR_COLUMNS
    t = tensors.iloc[0]
    assert (t["shape"], t["rows"], t["cols"], t["bits"]) == (f"{rows}x{cols}", rows, cols, 6)
    assert (t["elements"], t["nonzero"], bool(t["kernel"])) == (rows * cols, row[2], False)
    unrolled = (t["unrolled_rows"], t["unrolled_cols"], t["unrolled_nonzero"])
    assert unrolled == (rows, cols, row[2])


@pytest.mark.parametrize(
    ("in_ch", "out_ch", "k", "image", "density", "seed"),
    [
        (1, 1, 1, 1, 1.0, 0),
        (1, 2, 3, 4, 1.0, 1),
        (2, 3, 3, 5, 0.5, 2),
        (2, 2, 5, 3, 0.6, 3),  # kernel wider than the image: some taps never land
        (1, 3, 5, 2, 0.4, 4),
        (3, 1, 3, 1, 0.3, 5),
    ],
)
def test_conv_counts_match_brute_force(tmp_path, in_ch, out_ch, k, image, density, seed):
    folder = lp.conv_pass(tmp_path / "t", in_ch, out_ch, k, image, density, 8, seed)
    mask = lp.random_mask((out_ch, in_ch, k, k), density, seed)
    weights = out_ch * in_ch * k * k
    kernel_nnz = round(density * weights)
    assert int(mask.sum()) == kernel_nnz
    row, col = _brute_conv(mask, image)
    assert row[1:] == col[1:]  # gather and scatter touch the same synapses
    update = (weights, weights, kernel_nnz)
    assert _counts(folder) == _expected(row, col, update, "elem")
    t = pd.read_csv(folder / "tensors.csv").iloc[0]
    shape = f"{out_ch}x{in_ch}x{k}x{k}"
    assert (t["shape"], t["rows"], t["cols"]) == (shape, in_ch * k * k, out_ch)
    assert (t["elements"], t["nonzero"], bool(t["kernel"])) == (weights, kernel_nnz, True)
    unrolled = (t["unrolled_rows"], t["unrolled_cols"], t["unrolled_nonzero"])
    assert unrolled == (in_ch * image**2, out_ch * image**2, row[2])


def test_masks_are_exact_and_seeded():
    for density in (0.001, 0.1, 0.5, 0.999, 1.0):
        assert int(lp.random_mask((13, 17), density, 0).sum()) == round(density * 13 * 17)
    a = lp.random_mask((20, 20), 0.5, 7)
    assert np.array_equal(a, lp.random_mask((20, 20), 0.5, 7))
    assert not np.array_equal(a, lp.random_mask((20, 20), 0.5, 8))


def test_trace_files_follow_format_2(tmp_path):
    folder = lp.fc_pass(tmp_path / "t", 4, 3, 0.5, 8, seed=2)
    assert sorted(p.name for p in folder.iterdir()) == ["accesses.csv", "tensors.csv", "trace.json"]
    meta = json.loads((folder / "trace.json").read_text())
    assert meta["format_version"] == 2 and meta["mode"] == "event"
    assert meta["normalisers"] == {
        "train_epochs": 1,
        "train_samples": 1,
        "infer_samples": 0,
        "time_steps": 1,
    }
    assert meta["layer_pass"]["seed"] == 2 and meta["layer_pass"]["kind"] == "fc"
    assert list(pd.read_csv(folder / "accesses.csv").columns) == ACCESS_COLUMNS


FC = ["synth", "fc", "--rows", "4", "--cols", "3", "--density", "0.5", "--weight-bits", "8"]
CONV = ["synth", "conv", "--in-channels", "1", "--out-channels", "2", "--kernel", "3"]
CONV += ["--image", "4", "--density", "1", "--weight-bits", "4"]


def test_cli_writes_a_trace(tmp_path, capsys, monkeypatch):
    assert main([*FC, "--out", str(tmp_path / "fc"), "--seed", "3"]) == 0
    assert "fc-4x3-d0.5-w8-s3" in capsys.readouterr().out
    assert (tmp_path / "fc" / "trace.json").exists()
    assert main([*CONV, "--out", str(tmp_path / "conv")]) == 0
    assert "conv-1x2-k3-i4-d1-w4" in capsys.readouterr().out
    for name in ("accesses.csv", "tensors.csv", "trace.json"):
        assert (tmp_path / "conv" / name).exists()
    monkeypatch.chdir(tmp_path)
    assert main(FC) == 0
    assert (tmp_path / "reports" / "synth" / "fc-4x3-d0.5-w8" / "trace.json").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ([*FC[:2], "--rows", "0", *FC[4:]], "--rows"),
        ([*FC[:4], "--cols", "-1", *FC[6:]], "--cols"),
        ([*FC[:6], "--density", "0", *FC[8:]], "--density"),
        ([*FC[:6], "--density", "1.5", *FC[8:]], "--density"),
        ([*FC[:6], "--density", "nan", *FC[8:]], "--density"),
        ([*FC[:8], "--weight-bits", "33"], "--weight-bits"),
        ([*FC, "--seed", "-1"], "--seed"),
        ([*CONV[:6], "--kernel", "2", *CONV[8:]], "--kernel"),
        ([*CONV[:8], "--image", "0", *CONV[10:]], "--image"),
        ([*CONV[:2], "--in-channels", "0", *CONV[4:]], "--in-channels"),
    ],
)
def test_cli_refuses_bad_values(tmp_path, capsys, args, option):
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert option in err and "allowed" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_refuses_to_overwrite_a_different_trace(tmp_path, capsys):
    out = ["--out", str(tmp_path / "t")]
    assert main([*FC, *out]) == 0
    assert main([*FC, *out]) == 0  # the same parameters again: fine
    capsys.readouterr()
    assert main([*FC, *out, "--seed", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert json.loads((tmp_path / "t" / "trace.json").read_text())["layer_pass"]["seed"] == 0
    assert main([*FC, *out, "--seed", "1", "--force"]) == 0
    assert json.loads((tmp_path / "t" / "trace.json").read_text())["layer_pass"]["seed"] == 1
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "trace.json").write_text('{"workload": "smile"}')
    assert main([*FC, "--out", str(tmp_path / "other")]) == 2
