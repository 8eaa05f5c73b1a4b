"""The train command: outputs, overrides under seed names, and clear errors for bad input."""

import json

import pandas as pd
import pytest

from qsnn_mem.cli import main

QUICK = ["--set", "nb_epochs=3", "--set", "nb_hidden=50", "--set", "nb_outputs=250", "-q"]


def test_train_writes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "workloads/smile_quick.yaml", *QUICK, "--out", str(out)]) == 0
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics["epoch"]) == [0, 1, 2]
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["weight_bits"] == 2 and info["config"]["nb_hidden"] == 50
    assert info["epochs_done"] == 3 and not info["interrupted"]
    assert "torch" in info["versions"]
    assert (out / "raster.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import numpy as np

    weights = np.load(out / "weights.npz")
    assert weights["fc1_code"].shape == (700, 50)
    assert set(np.unique(weights["fc1_code"])) <= {-1, 0, 1}


def test_seed_names_work_in_set_and_yaml(tmp_path):
    yaml_file = tmp_path / "w.yaml"
    yaml_file.write_text("name: w\nglobal_ab: 6\nnb_epochs: 2\nnb_hidden: 20\n")
    out = tmp_path / "run"
    assert main(["train", str(yaml_file), "--set", "global_wb=4", "-q", "--out", str(out)]) == 0
    config = json.loads((out / "run.json").read_text())["config"]
    assert config["weight_bits"] == 4 and config["state_bits"] == 6


def test_default_output_folder_names_the_precision(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.yaml").write_text("nb_epochs: 1\nnb_hidden: 10\nglobal_wb: 3\n")
    assert main(["train", "w.yaml", "-q"]) == 0
    # The folder names the precision and a hash of the whole configuration.
    (folder,) = (tmp_path / "reports" / "w").glob("w3a8g8e8_seed0-*")
    assert len(folder.name.rsplit("-", 1)[1]) == 8
    assert (folder / "metrics.csv").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nb_epochs: 2\nweigth_bits: 3\n", "unknown field 'weigth_bits'"),
        ("weight_bits: two\n", "field 'weight_bits' = 'two'"),
        ("weight_bits: 1\n", "field 'weight_bits' = 1"),
        ("global_wb: 3\nweight_bits: 3\n", "'global_wb' and 'weight_bits' set the same field"),
        ("nb_epochs: [\n", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("input: nowhere.npy\n", "input file not found"),
    ],
)
def test_bad_workloads_give_one_clear_message(tmp_path, capsys, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["train", str(bad), "-q", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "bad.yaml" in err or "nowhere.npy" in err
    assert "Traceback" not in err


def test_missing_workload_file(capsys):
    assert main(["train", "no/such.yaml"]) == 2
    assert "no/such.yaml: file not found" in capsys.readouterr().err


def test_bad_override(tmp_path, capsys):
    assert main(["train", "workloads/smile_quick.yaml", "--set", "nb_epochs"]) == 2
    assert "expected key=value" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["train", "workloads/smile_quick.yaml", *QUICK, "--out", str(blocker / "x")]) == 2
    assert "cannot create output folder" in capsys.readouterr().err
