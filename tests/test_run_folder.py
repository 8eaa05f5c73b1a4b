"""A run folder is one consistent unit, never lost or mixed: its name carries its configuration's
hash, a folder holding another run is refused unless --overwrite (which removes every old file),
estimate refuses a trace of another run, run.json says whether the tree was dirty, and a full
disk ends in one message with the finished part kept."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.errors import QsnnError
from qsnn_mem.io import write_csv, write_text
from qsnn_mem.run_folder import git_state, run_key
from qsnn_mem.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
QUICK = str(ROOT / "workloads" / "smile_quick.yaml")
ARCH = str(ROOT / "arch" / "pb-bmp.yaml")
# The smile task shrunk to a second a run.
TINY = ["nb_epochs=2", "nb_hidden=20", "nb_steps=60", "nb_inputs=60", "nb_outputs=30", "device=cpu"]
SETS = [*(x for s in TINY for x in ("--set", s)), "-q"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def run_info(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


def test_default_folder_carries_the_config_hash_so_reruns_keep_both(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", QUICK, *SETS, "--set", "nb_epochs=3"]) == 0
    assert main(["train", QUICK, *SETS]) == 0  # nb_epochs=2: another configuration
    folders = sorted((tmp_path / "reports" / "smile_quick").iterdir())
    assert len(folders) == 2
    epochs = {}
    for folder in folders:
        info = run_info(folder)
        assert folder.name == f"w2a8g8e8_seed0-{info['config_hash']}"
        assert len(info["config_hash"]) == 8 and info["status"] == "done"
        epochs[info["config"]["nb_epochs"]] = len(pd.read_csv(folder / "metrics.csv"))
    assert epochs == {3: 3, 2: 2}  # neither result was lost
    # The hash is stable: the same configuration maps to the same folder.
    assert main(["train", QUICK, *SETS, "--set", "nb_epochs=3", "--overwrite"]) == 0
    assert sorted((tmp_path / "reports" / "smile_quick").iterdir()) == folders
    # A traced run is another key (trace mode and phase change results): its own folder, with
    # the hash in trace.json too.
    assert main(["trace", QUICK, *SETS]) == 0
    traced = set((tmp_path / "reports" / "smile_quick").iterdir()) - set(folders)
    (folder,) = traced
    meta = json.loads((folder / "trace.json").read_text())
    assert meta["config_hash"] == run_info(folder)["config_hash"] == folder.name.split("-")[-1]
    assert (run_info(folder)["trace_mode"], run_info(folder)["phase"]) == ("event", "both")
    # One traced inference with its weights: a folder of its own, keyed by the weights too.
    args = ["trace", QUICK, *SETS, "--phase", "infer", "--weights", str(folder)]
    assert main(args) == 0
    (infer,) = (tmp_path / "reports" / "smile_quick").glob("w2a8g8e8_seed0_infer-*")
    meta = json.loads((infer / "trace.json").read_text())
    assert infer.name == f"w2a8g8e8_seed0_infer-{meta['config_hash']}"
    assert meta["phase"] == "infer" and len(meta["weights_sha256"]) == 64
    assert main(args) == 2  # the same again: refused, the finished trace is kept


def test_a_folder_holding_another_run_is_refused_until_overwrite(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["train", QUICK, *SETS, "--set", "nb_epochs=3", "--out", str(out)]) == 0
    before = snapshot(out)
    old_hash = run_info(out)["config_hash"]
    capsys.readouterr()
    assert main(["train", QUICK, *SETS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "another configuration" in err and "nb_epochs: 3 != 2" in err
    assert f"config {old_hash}" in err and "w2a8g8e8_seed0" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) <= 3  # one message (soft-wrapped), no traceback
    assert snapshot(out) == before  # nothing written, nothing removed
    # Rerunning the very same configuration does not silently replace its finished result.
    assert main(["train", QUICK, *SETS, "--set", "nb_epochs=3", "--out", str(out)]) == 2
    assert "already holds this run, finished" in capsys.readouterr().err
    assert snapshot(out) == before
    assert main(["train", QUICK, *SETS, "--out", str(out), "--overwrite"]) == 0
    info = run_info(out)
    assert info["config"]["nb_epochs"] == 2 and info["config_hash"] != old_hash
    assert len(pd.read_csv(out / "metrics.csv")) == 2


def test_trace_then_train_with_other_bits_leaves_no_stale_trace(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["trace", QUICK, *SETS, "--out", str(out)]) == 0
    capsys.readouterr()
    args = ["train", QUICK, *SETS, "--set", "weight_bits=4", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "another configuration" in err and "weight_bits: 2 != 4" in err
    assert (out / "trace.json").is_file()  # the refused write left the traced run whole
    (out / ".accesses.csv.dead.tmp").write_text("left by a killed write")
    assert main([*args, "--overwrite"]) == 0
    left = {p.name for p in out.iterdir()}
    assert left == {"run.json", "weights.npz", "metrics.csv", "raster.png", "loss.png"}
    assert run_info(out)["config"]["weight_bits"] == 4
    # estimate prices no trace of the old run: there is none left to price.
    assert main(["estimate", ARCH, "--trace", str(out), "--out", str(tmp_path / "e")]) == 2
    assert "trace.json: file not found" in capsys.readouterr().err


def test_estimate_refuses_a_trace_of_another_run(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["trace", QUICK, *SETS, "--out", str(a)]) == 0
    assert main(["trace", QUICK, *SETS, "--set", "weight_bits=4", "--out", str(b)]) == 0
    assert main(["estimate", ARCH, "--trace", str(a), "--out", str(tmp_path / "ea")]) == 0
    for name in ("trace.json", "accesses.csv", "tensors.csv"):  # a stale trace beside b's run
        (b / name).write_bytes((a / name).read_bytes())
    capsys.readouterr()
    assert main(["estimate", ARCH, "--trace", str(b), "--out", str(tmp_path / "eb")]) == 2
    err = capsys.readouterr().err
    assert str(b / "trace.json") in err and str(b / "run.json") in err
    assert run_info(a)["config_hash"] in err and run_info(b)["config_hash"] in err
    assert not (tmp_path / "eb").exists()


def test_an_unfinished_run_of_the_same_configuration_is_replaced(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["train", QUICK, *SETS, "--out", str(out)]) == 0
    # As a run killed after its first checkpoint leaves it: run.json still 'started'.
    info = run_info(out)
    info.update(status="started")
    (out / "run.json").write_text(json.dumps(info))
    (out / "raster.png").unlink()
    assert main(["train", QUICK, *SETS, "--out", str(out)]) == 0
    assert run_info(out)["status"] == "done" and (out / "raster.png").is_file()
    # ...but an unfinished run of another configuration is kept unless --overwrite.
    (out / "run.json").write_text(json.dumps({**run_info(out), "status": "interrupted"}))
    capsys.readouterr()
    assert main(["train", QUICK, *SETS, "--set", "lr=0.5", "--out", str(out)]) == 2
    assert "holds an interrupted run (2 epochs) of another configuration" in (
        capsys.readouterr().err
    )


def test_run_files_of_unknown_configuration_are_refused(tmp_path, capsys):
    out = tmp_path / "R"
    out.mkdir()
    (out / "weights.npz").write_bytes(b"weights of an older qsnn-mem")
    (out / "notes.txt").write_text("mine")
    assert main(["train", QUICK, *SETS, "--out", str(out)]) == 2
    assert "run of unknown configuration (weights.npz" in capsys.readouterr().err
    assert main(["train", QUICK, *SETS, "--out", str(out), "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine"  # only run files are removed


def test_git_dirty_is_recorded(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                       check=True, capture_output=True)  # fmt: skip

    git("init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "a")
    commit, dirty = git_state([repo])
    assert len(commit) == 40 and dirty is False
    (repo / "scratch.txt").write_text("untracked files do not change the source")
    assert git_state([repo])[1] is False
    (repo / "a.py").write_text("x = 2\n")
    assert git_state([repo]) == (commit, True)
    assert git_state([tmp_path / "nowhere"]) == (None, None)


def test_run_json_says_whether_the_tree_was_dirty(tmp_path):
    out = tmp_path / "R"
    assert main(["train", QUICK, *SETS, "--out", str(out)]) == 0
    info = run_info(out)
    assert "git_dirty" in info
    assert info["git_dirty"] in (True, False, None)
    assert (info["git_dirty"] is None) == (info["git_commit"] is None)


def _full_disk_on(name: str, monkeypatch) -> None:
    """Writing ``name`` fails half-way as on a full disk."""
    real = pd.DataFrame.to_csv

    def to_csv(frame, path=None, *args, **kwargs):
        if path is not None and Path(path).name.startswith(f".{name}."):
            Path(path).write_text("half a ")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)


def test_full_disk_is_one_message_and_the_finished_training_is_kept(tmp_path, capsys, monkeypatch):
    out = tmp_path / "R"
    _full_disk_on("accesses.csv", monkeypatch)
    assert main(["trace", QUICK, *SETS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {out / 'accesses.csv'}: No space left on device" in err
    assert "keeps" in err and "weights.npz" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    kept = {p.name for p in out.iterdir()}
    assert {"weights.npz", "metrics.csv", "run.json"} <= kept
    assert not {"accesses.csv", "trace.json"} & kept
    assert not list(out.glob(".*.tmp"))  # no temporary left behind
    assert run_info(out)["status"] == "writing" and len(pd.read_csv(out / "metrics.csv")) == 2
    # Space freed: the same command runs it again (it never finished: no refusal).
    monkeypatch.undo()
    assert main(["trace", QUICK, *SETS, "--out", str(out)]) == 0
    assert (out / "trace.json").is_file() and run_info(out)["status"] == "done"


def test_atomic_write_failures_name_the_file_and_leave_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    write_text(target, "old")
    _full_disk_on("t.csv", monkeypatch)
    with pytest.raises(QsnnError, match=r"cannot write .*t\.csv: No space left on device"):
        write_csv(target, pd.DataFrame({"a": [1]}))
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["t.csv"]


def test_a_data_file_changed_under_the_same_path_is_another_run(tmp_path):
    """The key holds the content of the files a workload names, not only their paths; a
    workload without data files keeps the key it had before data digests were part of it."""
    rng = np.random.default_rng(0)
    raster = tmp_path / "in.npy"
    np.save(raster, (rng.random((60, 60)) < 0.1).astype(np.float32))
    sets = [f"input={raster}", "nb_inputs=60", "nb_steps=60"]
    first = run_key(load_workload(QUICK, sets), trace_mode="event")
    again = run_key(load_workload(QUICK, sets), trace_mode="event")
    assert first.hash == again.hash and set(first.data_sha256) == {"input"}
    np.save(raster, (rng.random((60, 60)) < 0.2).astype(np.float32))
    assert run_key(load_workload(QUICK, sets), trace_mode="event").hash != first.hash
    plain = run_key(load_workload(QUICK), trace_mode="event")
    assert plain.data_sha256 == {} and "data_sha256" not in plain.record()
