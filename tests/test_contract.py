"""The trace contract package: one writer and one reader that agree, and refuse bad traces."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qsnn_mem import contract, io
from qsnn_mem.contract import AccessTable, load_trace, write_trace
from qsnn_mem.contract.vocabulary import ACCESS_COLUMNS, FORMAT_VERSION, TENSOR_COLUMNS
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import synthetic

ROOT = Path(__file__).resolve().parents[1]
NORM = {"train_epochs": 2, "train_samples": 4, "infer_samples": 1, "time_steps": 10}
META = {"workload": "tiny", "mode": "dense", "command": "test"}


def counts() -> AccessTable:
    table = AccessTable()
    table.add("train", "forward", "fc1", "weight", "read", "row", 2, 3, 12, 6)
    table.add("train", "backward", "fc1", "weight", "read", "row", 2, 8, 32, 16, traversal="row")
    table.add("train", "backward", "fc1", "weight", "read", "col", 2, 2, 16, 8, traversal="col")
    table.add("train", "forward", "fc1", "mem", "write", "elem", None, 40, 40, 20)
    table.add("infer", "forward", "fc1", "weight", "read", "row", 2, 1, 4, 2)
    return table


def tensors() -> pd.DataFrame:
    return pd.DataFrame(
        [
            synthetic.tensor_row("fc1", "weight", 8, 4, 2, 0.5),
            synthetic.tensor_row("fc1", "mem", 10, 4, 32, 0.5, kernel_shape=(4, 1, 1, 10)),
        ]
    )


def written(folder: Path) -> Path:
    return write_trace(folder, counts(), tensors(), NORM, META, neurobench={"ops": 3})


# --- round trip --------------------------------------------------------------------------------


def test_round_trip(tmp_path):
    folder = written(tmp_path / "t")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["accesses.csv", "neurobench.json", "tensors.csv", "trace.json"]
    trace = load_trace(folder)
    want = counts().to_frame()
    pd.testing.assert_frame_equal(trace.accesses, want, check_dtype=False)
    assert all(trace.accesses[c].dtype == np.int64 for c in ("bits", "accesses", "nonzero"))
    ten = tensors()
    pd.testing.assert_frame_equal(trace.tensors, ten[list(TENSOR_COLUMNS)], check_dtype=False)
    assert trace.tensors["kernel"].tolist() == [False, True]
    assert (trace.normalisers, trace.workload, trace.mode) == (NORM, "tiny", "dense")
    meta = json.loads((folder / "trace.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["command"] == "test"
    assert json.loads((folder / "neurobench.json").read_text()) == {"ops": 3}


def test_a_frame_writes_as_the_table_does(tmp_path):
    a = written(tmp_path / "a")
    b = write_trace(tmp_path / "b", counts().to_frame(), tensors(), NORM, META, {"ops": 3})
    for name in ("accesses.csv", "tensors.csv", "trace.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_optional_normaliser_and_no_infer_phase(tmp_path):
    table = AccessTable()
    table.add("train", "forward", "fc1", "weight", "read", "row", 2, 3, 12, 6)
    norm = {**NORM, "infer_samples": 0, "infer_time_steps": 5}
    trace = load_trace(write_trace(tmp_path, table, tensors(), norm, {}))
    assert trace.normalisers == norm and trace.mode == "event" and trace.workload == tmp_path.name


def test_empty_trace(tmp_path):
    """A tracer that traced nothing hands frames without columns; the folder is still a trace."""
    norm = dict.fromkeys(NORM, 0)
    trace = load_trace(write_trace(tmp_path, pd.DataFrame(), pd.DataFrame(), norm, {}))
    assert trace.accesses.empty and list(trace.accesses.columns) == list(ACCESS_COLUMNS)


def test_package_is_the_one_vocabulary():
    from qsnn_mem.memory import arch

    assert arch.TENSORS is contract.TENSORS


def test_contract_loads_no_torch():
    code = (
        "import sys; import qsnn_mem.contract; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'torch'); "
        "print(bad[:5]); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-300:]


def test_nothing_else_writes_trace_files():
    """No module outside the contract writes a line that names a trace file."""
    writes = re.compile(r"(write_csv|write_json|write_text|write_bytes|to_csv|copy\w*)\(")
    names = re.compile(r"accesses\.csv|tensors\.csv|trace\.json|ACCESSES_FILE|META_FILE")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "qsnn_mem").rglob("*.py")
        if "contract" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line) and names.search(line)
    ]
    assert found == []


# --- the reader's refusals ---------------------------------------------------------------------


def edit_csv(folder: Path, name: str, column: str, value: str, row: int = 0) -> None:
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(folder / name, index=False)


def edit_meta(folder: Path, edit) -> None:
    meta = json.loads((folder / "trace.json").read_text())
    edit(meta)
    (folder / "trace.json").write_text(json.dumps(meta))


def refused(folder: Path, message: str) -> None:
    with pytest.raises(QsnnError, match=message):
        load_trace(folder)


BEYOND = r"\(allowed: an integer >= 0 and < 2\*\*63\)"


@pytest.mark.parametrize(
    ("name", "column", "value", "message"),
    [
        ("accesses.csv", "accesses", "1e30", rf"column 'accesses' = '1e30' in row 2 {BEYOND}"),
        ("accesses.csv", "elements", str(2**63), rf"column 'elements' = '{2**63}' in row 2"),
        ("accesses.csv", "nonzero", "-1", rf"column 'nonzero' = '-1' in row 2 {BEYOND}"),
        ("accesses.csv", "accesses", "2.5", "column 'accesses' = '2.5' in row 2"),
        ("accesses.csv", "bits", "0", r"column 'bits' = '0' in row 2 \(allowed: an integer 1-64"),
        ("accesses.csv", "bits", "65", r"column 'bits' = '65' in row 2 \(allowed: an integer 1-"),
        ("tensors.csv", "bits", "0", r"column 'bits' = '0' in row 2 \(allowed: an integer 1-64"),
        ("tensors.csv", "rows", "1e30", rf"column 'rows' = '1e30' in row 2 {BEYOND}"),
        ("accesses.csv", "tensor", "voltage", r"column 'tensor' = 'voltage' in row 2 \(allowed"),
        ("accesses.csv", "phase", "test", r"column 'phase' = 'test' in row 2 \(allowed: train"),
        ("accesses.csv", "stage", "replay", r"column 'stage' = 'replay' in row 2 \(allowed"),
        ("accesses.csv", "op", "erase", r"column 'op' = 'erase' in row 2 \(allowed: read"),
        ("accesses.csv", "pattern", "tile", r"column 'pattern' = 'tile' in row 2 \(allowed"),
        ("accesses.csv", "layer", "", r"column 'layer' = '' in row 2 \(allowed: a layer name"),
        ("tensors.csv", "tensor", "voltage", r"column 'tensor' = 'voltage' in row 2"),
        ("tensors.csv", "kernel", "maybe", r"column 'kernel' = 'maybe' in row 2"),
    ],
)
def test_bad_table_values(tmp_path, name, column, value, message):
    folder = written(tmp_path)
    edit_csv(folder, name, column, value)
    refused(folder, re.escape(str(folder / name)) + ": " + message)


def test_counts_whose_sum_leaves_int64(tmp_path):
    """Each count fits, their total (which an estimate adds up) does not."""
    folder = written(tmp_path)
    for row in (0, 1):
        edit_csv(folder, "accesses.csv", "accesses", str(2**62), row)
    refused(folder, r"accesses\.csv: column 'accesses' adds up to more than 2\*\*63 - 1")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m["normalisers"].update(train_epochs=-1),
            r"field 'normalisers\.train_epochs' = -1",
        ),
        (
            lambda m: m["normalisers"].update(time_steps=2.5),
            r"field 'normalisers\.time_steps' = 2\.5",
        ),
        (
            lambda m: m["normalisers"].update(infer_samples=True),
            r"field 'normalisers\.infer_samples'",
        ),
        (lambda m: m["normalisers"].pop("time_steps"), r"field 'normalisers\.time_steps' = None"),
        (lambda m: m["normalisers"].update(epochs=3), r"field 'normalisers\.epochs' is unknown"),
        (lambda m: m.pop("normalisers"), r"missing field 'normalisers'"),
        (lambda m: m.update(mode="sparse"), r"field 'mode' = 'sparse' \(allowed: event, dense"),
        (lambda m: m.update(workload=3), r"field 'workload' = 3"),
    ],
)
def test_bad_normalisers_and_fields(tmp_path, edit, message):
    folder = written(tmp_path)
    edit_meta(folder, edit)
    refused(folder, r"trace\.json: " + message)


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            {"train_samples": 1},
            r"train_samples' = 1 \(allowed: an integer >= 2, since each of the 2",
        ),
        ({"train_epochs": 0, "train_samples": 0}, r"train_samples' = 0 \(allowed: an integer >= 1"),
        ({"infer_samples": 0}, r"infer_samples' = 0 \(allowed: an integer >= 1, since the trace"),
        ({"time_steps": 0}, r"time_steps' = 0 \(allowed: an integer >= 1, since the trace has"),
        ({"infer_time_steps": 0}, r"infer_time_steps' = 0 \(allowed: an integer >= 1"),
    ],
)
def test_inconsistent_normalisers(tmp_path, update, message):
    folder = written(tmp_path)
    edit_meta(folder, lambda m: m["normalisers"].update(update))
    refused(folder, r"trace\.json: field 'normalisers\." + message)


def test_part_of_an_epoch(tmp_path):
    """A traced window that ends no epoch (train_epochs 0) is a trace: it trained samples."""
    folder = written(tmp_path)
    edit_meta(folder, lambda m: m["normalisers"].update(train_epochs=0))
    assert load_trace(folder).normalisers["train_epochs"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)), r"trace\.json: not UTF-8 text"),
        (b"[1, 2]", r"trace\.json: not a JSON object \(found a list\)"),
        (b'"trace"', r"trace\.json: not a JSON object \(found a str\)"),
        (b"{", r"trace\.json: not valid JSON"),
        (b"[" * 100_000, r"trace\.json: not valid JSON"),
    ],
)
def test_bad_trace_json(tmp_path, content, message):
    folder = written(tmp_path)
    (folder / "trace.json").write_bytes(content)
    refused(folder, message)


def test_binary_tables(tmp_path):
    folder = written(tmp_path)
    (folder / "tensors.csv").write_bytes(bytes(range(256)) * 4)
    refused(folder, r"tensors\.csv: not a readable CSV")


# --- the writer's refusals ---------------------------------------------------------------------


def test_writer_refuses_what_the_reader_would(tmp_path):
    """Nothing invalid reaches the disk: the message names the file it was to be written to."""
    folder = tmp_path / "t"
    bad = tensors().assign(bits=0)
    with pytest.raises(QsnnError, match=r"t/tensors\.csv: column 'bits' = 0 in row 2"):
        write_trace(folder, counts(), bad, NORM, META)
    huge = counts()
    huge.add("train", "forward", "fc1", "weight", "read", "row", 2, 10**30, 0, 0)
    with pytest.raises(QsnnError, match=rf"t/accesses\.csv: column 'accesses' = {10**30 + 3}"):
        write_trace(folder, huge, tensors(), NORM, META)
    with pytest.raises(QsnnError, match=r"t/trace\.json: field 'normalisers\.infer_samples' = 0"):
        write_trace(folder, counts(), tensors(), {**NORM, "infer_samples": 0}, META)
    with pytest.raises(QsnnError, match=r"tensor 'fc1\.mem' has accesses but no row in tensors"):
        write_trace(folder, counts(), tensors().iloc[:1], NORM, META)
    assert not folder.exists()


def test_writer_refusal_keeps_an_earlier_trace(tmp_path):
    folder = written(tmp_path / "t")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(QsnnError, match="'mode' = 'sparse'"):
        write_trace(folder, counts(), tensors(), NORM, {"mode": "sparse"})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_interrupted_write_leaves_no_trace_json(tmp_path, monkeypatch):
    """trace.json marks a complete trace: it goes first and comes back last."""
    folder = written(tmp_path / "t")

    def fail(path, frame):
        if path.name == "tensors.csv":
            raise OSError("disk full")
        io.write_csv(path, frame)

    monkeypatch.setattr(contract.write, "write_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        written(folder)
    assert not (folder / "trace.json").exists()
    refused(folder, r"trace\.json: file not found")


def test_table_checks_bits_when_counting():
    with pytest.raises(ValueError, match="bits 0 is not an integer 1-64"):
        AccessTable().add("train", "forward", "fc1", "weight", "read", "row", 0, 1, 1, 1)


def test_meta_cannot_set_what_the_writer_sets(tmp_path):
    with pytest.raises(ValueError, match="format_version"):
        write_trace(tmp_path, counts(), tensors(), NORM, {"format_version": 1})
