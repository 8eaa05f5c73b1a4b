"""An estimate's folder is one estimate, whole: named by what it depends on, refused when it
holds another estimate (unless --overwrite) or files an estimate does not write, never a mix
of two writes, and kept as it was when a write fails."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from qsnn_mem import api, io
from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError

from .memory_fixtures import smile

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    return smile(tmp_path_factory.mktemp("smile"), epochs=2, infer_samples=1)


def _cli(arch: str, trace, *options: str) -> int:
    return main(["estimate", str(ROOT / "arch" / f"{arch}.yaml"), "--trace", str(trace.folder),
                 "--format", "json", *options])  # fmt: skip


def test_default_folders_differ_by_what_the_estimate_depends_on(trace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _cli("crossbar", trace) == 0
    assert _cli("crossbar", trace) == 0  # the same estimate again: the same folder
    assert _cli("crossbar", trace, "--set", "clock_hz=2e8") == 0
    folders = sorted((tmp_path / "reports" / "estimate").iterdir())
    assert len(folders) == 2 and not [p for p in folders if p.name.startswith(".")]
    keys = {json.loads((f / "run.json").read_text())["estimate_key"] for f in folders}
    assert {f.name.rsplit("-", 1)[1] for f in folders} == keys


def test_another_estimate_in_out_is_refused_unless_overwrite(trace, tmp_path, capsys):
    out = tmp_path / "est"
    assert _cli("crossbar", trace, "--out", str(out)) == 0
    before = (out / "energy.csv").read_bytes()
    assert _cli("pb-bmp", trace, "--out", str(out)) == 2
    assert "holds another estimate" in capsys.readouterr().err
    assert (out / "energy.csv").read_bytes() == before
    assert _cli("pb-bmp", trace, "--out", str(out), "--overwrite") == 0
    assert json.loads((out / "run.json").read_text())["arch"]["name"] == "pb-bmp"


def test_a_folder_with_other_files_is_never_replaced(trace, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert _cli("crossbar", trace, "--out", str(out), "--overwrite") == 2
    assert "notes.txt" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_failed_write_keeps_the_earlier_estimate(trace, tmp_path, monkeypatch):
    out = tmp_path / "est"
    first = api.save_estimate(api.estimate(ROOT / "arch" / "crossbar.yaml", trace), out)
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    other = api.estimate(ROOT / "arch" / "pb-bmp.yaml", trace)

    def full_disk(path, frame):
        if Path(path).name == "arrays.csv":
            raise QsnnError(f"cannot write {path}: No space left on device")
        return io.write_csv(path, frame)

    monkeypatch.setattr(api, "write_csv", full_disk)
    with pytest.raises(QsnnError, match="No space left"):
        api.save_estimate(other, out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["est"]  # no staging folder left behind


def test_two_writers_at_once_never_mix_their_files(trace, tmp_path):
    """Writers of two organizations race into one folder; whatever is there at the end is one
    estimate whole: its run.json, energy.csv and summary.json belong together."""
    out = tmp_path / "race"
    results = {a: api.estimate(ROOT / "arch" / f"{a}.yaml", trace) for a in ("crossbar", "rle")}
    errors: list[BaseException] = []

    def write(result) -> None:
        try:
            for _ in range(6):
                api.save_estimate(result, out, overwrite=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(r,)) for r in results.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    name = json.loads((out / "run.json").read_text())["arch"]["name"]
    energy = pd.read_csv(out / "energy.csv")
    pd.testing.assert_frame_equal(energy, results[name].energy.reset_index(drop=True),
                                  check_dtype=False)  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["organization"]["name"] == name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
