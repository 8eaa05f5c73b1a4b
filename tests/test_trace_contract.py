"""The trace contract, version 2: the reader refuses old versions and misused traversal rows."""

import json

import pandas as pd
import pytest

from qsnn_mem.contract import ACCESS_COLUMNS, FORMAT_VERSION, KEY_COLUMNS, AccessTable, load_trace
from qsnn_mem.contract.vocabulary import TRAVERSALS
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import synthetic

from .memory_fixtures import tiny_trace


def edit_meta(folder, **fields):
    meta = json.loads((folder / "trace.json").read_text())
    for key, value in fields.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    (folder / "trace.json").write_text(json.dumps(meta))


def edit_accesses(folder, edit):
    frame = pd.read_csv(folder / "accesses.csv")
    edit(frame).to_csv(folder / "accesses.csv", index=False)


def test_version_and_columns():
    assert FORMAT_VERSION == 2
    assert TRAVERSALS == ("any", "row", "col")
    assert list(ACCESS_COLUMNS) == [*KEY_COLUMNS, "accesses", "elements", "nonzero"]
    assert KEY_COLUMNS.index("traversal") == KEY_COLUMNS.index("pattern") + 1


def test_synthetic_traces_load(tmp_path):
    tiny = load_trace(tiny_trace(tmp_path / "tiny"))
    assert json.loads((tmp_path / "tiny" / "trace.json").read_text())["format_version"] == 2
    assert set(tiny.accesses.traversal) == {"any", "row", "col"}
    smile = load_trace(synthetic.smile_trace(tmp_path / "smile"))
    conv = load_trace(synthetic.conv_trace(tmp_path / "conv"))
    for trace, layers in ((smile, {"fc1", "fc2"}), (conv, {"conv1"})):
        variants = trace.accesses[trace.accesses.traversal != "any"]
        assert set(variants.layer) == layers
        assert (variants.pattern == variants.traversal).all()
        assert len(variants) == 2 * len(layers)


def test_conv_variants_touch_the_same_synapses(tmp_path):
    """Row gathers and column scatters over every step both touch every unrolled synapse."""
    acc = load_trace(synthetic.conv_trace(tmp_path / "conv")).accesses
    prop = acc[acc.traversal != "any"].set_index("traversal")
    assert abs(prop.loc["row", "elements"] - prop.loc["col", "elements"]) <= 1


@pytest.mark.parametrize(("version", "shown"), [(None, "1"), (1, "1"), (3, "3"), ("2", "'2'")])
def test_other_format_versions_are_refused(tmp_path, version, shown):
    folder = tiny_trace(tmp_path / "t")
    edit_meta(folder, format_version=version)
    message = rf"trace\.json: field 'format_version' = {shown} \(allowed: 2; .*re-run qsnn-mem"
    with pytest.raises(QsnnError, match=message):
        load_trace(folder)


def test_version_1_trace_is_named_as_such(tmp_path):
    """A trace written before the traversal column: the version is the problem named."""
    folder = tiny_trace(tmp_path / "t")
    edit_meta(folder, format_version=None)
    edit_accesses(folder, lambda f: f[f.traversal != "row"].drop(columns="traversal"))
    with pytest.raises(QsnnError, match=r"field 'format_version' = 1 \(allowed: 2; traces"):
        load_trace(folder)


def test_bad_traversal_value(tmp_path):
    folder = tiny_trace(tmp_path / "t")
    edit_accesses(folder, lambda f: f.assign(traversal=f.traversal.replace("any", "diagonal")))
    with pytest.raises(QsnnError, match=r"accesses\.csv: column 'traversal' = 'diagonal' in row"):
        load_trace(folder)


def test_missing_traversal_column(tmp_path):
    folder = tiny_trace(tmp_path / "t")
    edit_accesses(folder, lambda f: f.drop(columns="traversal"))
    with pytest.raises(QsnnError, match=r"missing column\(s\) traversal"):
        load_trace(folder)


def variant_on(frame, **where):
    """Mark the first row matching ``where`` as a traversal-row variant."""
    mask = pd.Series(True, index=frame.index)
    for col, value in where.items():
        mask &= frame[col] == value
    frame.loc[mask.idxmax(), "traversal"] = "row"
    return frame


@pytest.mark.parametrize(
    "where",
    [
        {"stage": "forward", "tensor": "weight"},  # a forward read is no error propagation
        {"tensor": "mem"},  # not a weight
        {"stage": "backward", "traversal": "col"},  # pattern col tagged as a row gather
    ],
)
def test_variant_on_another_row(tmp_path, where):
    folder = tiny_trace(tmp_path / "t")
    edit_accesses(folder, lambda f: variant_on(f, **where))
    with pytest.raises(QsnnError, match=r"column 'traversal' = 'row' in row \d+ \(allowed: any"):
        load_trace(folder)


@pytest.mark.parametrize("drop", ["row", "col"])
def test_unpaired_variant(tmp_path, drop):
    folder = tiny_trace(tmp_path / "t")
    edit_accesses(folder, lambda f: f[f.traversal != drop])
    kept = "col" if drop == "row" else "row"
    message = rf"accesses\.csv: layer 'fc1' \(train\) has a traversal '{kept}' row but no '{drop}'"
    with pytest.raises(QsnnError, match=message):
        load_trace(folder)


def test_access_table_checks_traversal():
    table = AccessTable()
    table.add("train", "backward", "fc2", "weight", "read", "row", 2, 1, 4, 2, traversal="row")
    assert next(iter(table.rows()))[6:] == ("row", 2, 1, 4, 2)
    with pytest.raises(ValueError, match="'diagonal' is not one of"):
        table.add("train", "backward", "fc2", "weight", "read", "row", 2, 1, 4, 2,
                  traversal="diagonal")  # fmt: skip
    with pytest.raises(ValueError, match="only for backward weight reads"):
        table.add("train", "forward", "fc2", "weight", "read", "row", 2, 1, 4, 2, traversal="row")
    with pytest.raises(ValueError, match="only for backward weight reads"):
        table.add("train", "backward", "fc2", "weight", "read", "row", 2, 1, 4, 2, traversal="col")
    merged = AccessTable()
    merged.merge(table)
    assert list(merged.rows()) == list(table.rows())
