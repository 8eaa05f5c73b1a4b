"""Workload schema: the shipped files carry every seed option with the seed's default."""

from pathlib import Path

import pytest
import yaml

from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.smile.config import SEED_NAMES, SmileWorkload
from qsnn_mem.workload import load_workload

# The first argument table of the reference README, with its defaults.
SEED_TABLE = {
    "global_wb": 2,
    "global_ab": 8,
    "global_gb": 8,
    "global_eb": 8,
    "global_rb": 16,
    "time_step": 0.001,
    "nb_steps": 250,
    "nb_epochs": 10000,
    "tau_mem": 0.01,
    "tau_syn": 0.005,
    "tau_vr": 0.005,
    "alpha": 0.75,
    "beta": 0.875,
    "nb_inputs": 700,
    "nb_hidden": 400,
    "nb_outputs": 250,
}


def test_smile_yaml_has_every_field_at_its_default():
    data = yaml.safe_load(Path("workloads/smile.yaml").read_text())
    defaults = SmileWorkload().model_dump()
    assert set(data) == set(defaults)
    assert data == defaults


def test_seed_options_map_to_fields_with_the_seed_defaults():
    cfg = SmileWorkload()
    for seed_name, value in SEED_TABLE.items():
        assert getattr(cfg, SEED_NAMES.get(seed_name, seed_name)) == value


def test_every_field_is_documented():
    text = Path("docs/workloads.md").read_text()
    for name in SmileWorkload.model_fields:
        assert f"`{name}`" in text
    for seed_name in SEED_NAMES:
        assert f"`--{seed_name}`" in text


def test_quick_workload_is_the_same_task_shorter():
    quick = load_workload("workloads/smile_quick.yaml")
    full = load_workload("workloads/smile.yaml")
    assert quick.nb_epochs < full.nb_epochs / 10
    same = {"nb_inputs", "nb_hidden", "nb_outputs", "nb_steps", "weight_bits", "state_bits"}
    assert all(getattr(quick, f) == getattr(full, f) for f in same)


def test_overrides_under_both_names(tmp_path):
    cfg = load_workload("workloads/smile_quick.yaml", ["global_eb=6", "grad_bits=null"])
    assert cfg.error_bits == 6 and cfg.grad_bits is None
    assert cfg.precision_tag == "w2a8gfe6"
    with pytest.raises(QsnnError, match="--set: 'global_eb' and 'error_bits'"):
        load_workload("workloads/smile_quick.yaml", ["global_eb=6", "error_bits=5"])


def test_relative_data_paths_are_relative_to_the_yaml_file(tmp_path):
    (tmp_path / "w.yaml").write_text("input: data/in.npy\n")
    assert load_workload(tmp_path / "w.yaml").input == str(tmp_path / "data" / "in.npy")
