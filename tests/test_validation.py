"""Numbers are validated, never silently wrong (issue 12): every float of every schema is finite,
every integer bounded, sizes that cannot be allocated are refused before allocating, YAML that
is empty, duplicated or aliased is refused, values are reported under the name the user wrote,
and no exception reaches the user as a traceback."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from qsnn_mem import schema
from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import table
from qsnn_mem.memory.arch import Arch, Memory, load_arch
from qsnn_mem.tasks.decolle.config import DecolleWorkload, GeneratedEvents
from qsnn_mem.tasks.smile.config import SmileWorkload
from qsnn_mem.workload import load_workload

from .memory_fixtures import arch_dict

ROOT = Path(__file__).resolve().parents[1]
CROSSBAR = ROOT / "arch" / "crossbar.yaml"
# Every schema read from YAML, with a valid document to change one field of.
VALID: dict[type[BaseModel], dict] = {
    SmileWorkload: {},
    DecolleWorkload: {},
    GeneratedEvents: {},
    Arch: arch_dict(),
    Memory: arch_dict()["memories"][0],
}


def _fields(model: type[BaseModel], kind: type) -> list[str]:
    """Fields of ``model`` whose annotation admits ``kind`` (also in a union or a list)."""
    out = []
    for name, field in model.model_fields.items():
        args = {field.annotation, *typing.get_args(field.annotation)}
        args |= {a for arg in list(args) for a in typing.get_args(arg)}
        if kind in args:
            out.append(name)
    return out


def _refused(model: type[BaseModel], name: str, value) -> str:
    data = {**VALID[model], name: value}
    with pytest.raises(QsnnError) as info:
        schema.validate(model, data, "x.yaml")
    return str(info.value)


def _write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "w.yaml"
    file.write_text(text)
    return file


def _load_error(tmp_path: Path, text: str, overrides: list[str] | None = None) -> str:
    with pytest.raises(QsnnError) as info:
        load_workload(_write(tmp_path, text), overrides)
    return str(info.value)


# -- NaN and infinities ---------------------------------------------------------------------


@pytest.mark.parametrize("model", list(VALID), ids=lambda m: m.__name__)
def test_every_float_field_of_every_schema_refuses_nan_and_infinities(model):
    names = _fields(model, float)
    assert names or model is Memory
    for name in names:
        for value in (float("nan"), float("inf"), float("-inf"), "nan"):
            assert f"field '{name}'" in _refused(model, name, value), (name, value)


def test_nan_and_inf_in_files_and_options(tmp_path, capsys):
    assert "field 'threshold' = nan" in _load_error(tmp_path, "threshold: .nan\n")
    assert "field 'lr' = inf" in _load_error(tmp_path, "lr: .inf\n")
    assert "finite" in _load_error(tmp_path, "nb_epochs: 1\n", ["tau_syn=-.inf"])
    with pytest.raises(QsnnError, match="field 'clock_hz' = inf"):
        load_arch(CROSSBAR, ["clock_hz=.inf"])
    args = ["cacti", "query", "--capacity-bits", "65536", "--word-bits", "64", "--table"]
    for node in ("nan", "inf", "7"):
        assert main([*args, "--node", node]) == 2
        assert f"--node {node}" in capsys.readouterr().err
    assert main([*args[:2], "--node", "45", "--capacity-bits", "-5", *args[4:]]) == 2
    assert main([*args, "--node", "45", "--banks", "3"]) == 2
    assert "--banks 3" in capsys.readouterr().err


# -- sizes that cannot be allocated ---------------------------------------------------------


def test_a_workload_too_large_for_the_machine_is_refused_before_allocating(tmp_path):
    message = _load_error(tmp_path, "nb_hidden: 1000000000\n")
    assert "nb_hidden" in message and "GiB" in message and "more than this machine" in message
    message = _load_error(tmp_path, "task: decolle\nbatch_size: 100000000\n")
    assert "batch_size" in message and "GiB" in message
    message = _load_error(
        tmp_path, "task: decolle\ndata-set: generated\n", ["generated.sensor=1e5"]
    )
    assert "generated.sensor" in message  # YAML 1.1 reads 1e5 as text: refused, named
    message = _load_error(
        tmp_path, "task: decolle\ndata-set: generated\n", ["generated.sensor=99999"]
    )
    assert "sensor" in message and "GiB" in message


def test_the_memory_check_follows_the_machine(tmp_path, monkeypatch):
    file = _write(tmp_path, "nb_hidden: 10000\nnb_steps: 1000\n")
    assert load_workload(file).nb_hidden == 10000
    monkeypatch.setattr(schema, "physical_memory", lambda: 2**28)  # a 256 MiB machine
    with pytest.raises(QsnnError, match=r"needs at least 0\.\d GiB .* machine's 0\.2 GiB"):
        load_workload(file)
    monkeypatch.setattr(schema, "physical_memory", lambda: None)  # the system does not say
    assert load_workload(file).nb_steps == 1000


# -- integers beyond range ------------------------------------------------------------------


@pytest.mark.parametrize("model", list(VALID), ids=lambda m: m.__name__)
def test_every_integer_field_of_every_schema_is_bounded(model):
    for name in _fields(model, int):
        own = [m.le for m in model.model_fields[name].metadata if hasattr(m, "le")]
        for value in (max([schema.INT_MAX, *own]) + 1, 2**63, 10**20):
            data = {**VALID[model], name: value}
            if model.model_fields[name].annotation == list[int]:
                data[name] = [value] * len(getattr(model.model_validate(VALID[model]), name))
            with pytest.raises(QsnnError, match=f"field '{name}"):
                schema.validate(model, data, "x.yaml")


def test_seeds_span_what_numpy_and_torch_accept(tmp_path):
    assert load_workload(_write(tmp_path, f"seed: {2**32 - 1}\n")).seed == 2**32 - 1
    assert "field 'seed'" in _load_error(tmp_path, f"seed: {2**32}\n")
    assert "field 'seed'" in _load_error(tmp_path, "seed: 100000000000000000000\n")
    assert "field 'seed' = 1e+20" in _load_error(tmp_path, "seed: 1.0e+20\n")  # a float
    message = _load_error(tmp_path, "nb_epochs: 1e4\n")
    assert "field 'nb_epochs' = '1e4'" in message and "write it in digits" in message


# -- empty files, empty values, duplicate keys, aliases, names ------------------------------


@pytest.mark.parametrize("text", ["", "\n", "# nothing\n", "null\n", "~\n"])
def test_an_empty_workload_file_is_refused(tmp_path, text):
    assert "the file is empty" in _load_error(tmp_path, text)
    assert load_workload(_write(tmp_path, "{}\n")).nb_epochs == 10000  # all defaults: say so


def test_an_empty_override_is_not_null(tmp_path):
    file = _write(tmp_path, "nb_epochs: 1\n")
    with pytest.raises(QsnnError, match="no value after '='; write weight_bits=null"):
        load_workload(file, ["weight_bits="])
    assert load_workload(file, ["weight_bits=null"]).weight_bits is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("nb_epochs: 1\nweight_bits: 3\nweight_bits: 4\n", 3),
        ("task: decolle\ngenerated:\n  rate: 0.1\n  rate: 0.2\n", 4),
        ("generated: {a: 1, a: 2}\n", 1),
    ],
)
def test_duplicate_keys_are_refused(tmp_path, text, line):
    message = _load_error(tmp_path, text)
    assert f"(line {line}, column" in message and "is given twice" in message


def test_aliases_are_refused_and_messages_stay_short(tmp_path):
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for k in "bcdefgh":
        prev = chr(ord(k) - 1)
        laughs += f"{k}: &{k} [{','.join(['*' + prev] * 9)}]\n"
    message = _load_error(tmp_path, laughs)
    assert "aliases (*name) are not allowed" in message and len(message) < 500
    message = _load_error(tmp_path, f"weight_bits: {'x' * 100_000}\n")
    assert "weight_bits" in message and len(message) < 1000


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "a\\b", "", "x" * 101])
def test_names_used_in_paths_are_plain_folder_names(tmp_path, name):
    assert "field 'name'" in _load_error(tmp_path, f"name: '{name}'\n")
    with pytest.raises(QsnnError, match="field 'name'"):
        load_arch(CROSSBAR, [f"name='{name}'"])


# -- values reported under the name the user wrote -----------------------------------------


def test_a_bad_value_under_a_reference_name_is_reported_under_that_name(tmp_path):
    expected = "field 'global_wb' (weight_bits) = 0"
    assert f"w.yaml: {expected}" in _load_error(tmp_path, "global_wb: 0\n")
    assert f"--set: {expected}" in _load_error(tmp_path, "nb_epochs: 1\n", ["global_wb=0"])
    message = _load_error(tmp_path, "task: decolle\nPQ_cap: .inf\n")
    assert "field 'PQ_cap' (pq_cap) = inf" in message
    assert "field 'weight_bits' = 1" in _load_error(tmp_path, "weight_bits: 1\n")


# -- the CLI's last resort ------------------------------------------------------------------

QUERY = ["cacti", "query", "--node", "45", "--capacity-bits", "65536", "--word-bits", "64"]


def _raise(exc: BaseException):
    def raiser(*args, **kwargs):
        raise exc

    return raiser


def test_an_unexpected_exception_prints_one_line_and_logs_the_traceback(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("QSNN_MEM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("QSNN_MEM_DEBUG", raising=False)
    monkeypatch.setattr(table, "lookup", _raise(RuntimeError("boom\nsecond line")))
    assert main([*QUERY, "--table"]) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith("error: internal error (RuntimeError: boom); the traceback is in ")
    logs = list((tmp_path / "cache" / "logs").glob("error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text and "cacti query" in text


def test_interrupts_and_error_exit_codes(monkeypatch, capsys):
    monkeypatch.setattr(table, "lookup", _raise(KeyboardInterrupt()))
    assert main([*QUERY, "--table"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"

    class Stopped(QsnnError):
        exit_code = 130

    monkeypatch.setattr(table, "lookup", _raise(Stopped("stopped after epoch 3")))
    assert main([*QUERY, "--table"]) == 130
    assert "stopped after epoch 3" in capsys.readouterr().err
    monkeypatch.setattr(table, "lookup", _raise(QsnnError("x" * 100_000)))
    assert main([*QUERY, "--table"]) == 2
    assert len(capsys.readouterr().err) < 5000


def test_a_binary_trace_ends_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QSNN_MEM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "trace.json").write_bytes(bytes(range(256)) * 4)
    code = main(
        ["estimate", str(CROSSBAR), "--trace", str(tmp_path / "t"), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code in (1, 2) and "Traceback" not in err and len(err.strip().splitlines()) <= 2
