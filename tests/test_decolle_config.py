"""DECOLLE workload schema: every option of the seed's second table, under its seed name too."""

from pathlib import Path

import pytest
import yaml

from qsnn_mem.errors import QsnnError
from qsnn_mem.tasks.decolle.config import DECOLLE_SEED_NAMES, DecolleWorkload
from qsnn_mem.workload import load_workload

# The second argument table of the seed README, with its defaults.
SEED_TABLE = {
    "data-set": "Gesture", "global_wb": 8, "global_qb": 10, "global_pb": 12, "global_rfb": 2,
    "global_sb": 6, "global_gb": 10, "global_eb": 6, "global_ub": 6, "global_ab": 6,
    "global_sig": 6, "global_rb": 16, "global_lr": 1, "global_lr_sgd": 1e-9, "global_beta": 1.5,
    "delta_t": 0.001, "input_mode": 0, "ds": 4, "epochs": 320, "lr_div": 80, "batch_size": 72,
    "PQ_cap": 1, "weight_mult": 4e-5, "dropout_p": 0.5, "lc_ampl": 0.5, "l1": 0.001,
    "l2": 0.001, "tau_mem_lower": 5, "tau_mem_upper": 35, "tau_syn_lower": 5,
    "tau_syn_upper": 10, "tau_ref": 1 / 0.35,
}  # fmt: skip


def test_every_seed_option_has_the_seed_default():
    cfg = DecolleWorkload()
    for seed_name, default in SEED_TABLE.items():
        field = DECOLLE_SEED_NAMES.get(seed_name, seed_name)
        assert getattr(cfg, field) == pytest.approx(default), seed_name
        assert DecolleWorkload.model_fields[field].description


@pytest.mark.parametrize("name", ["gesture", "poker"])
def test_shipped_yaml_carries_every_field_at_its_default(name):
    data = yaml.safe_load(Path(f"workloads/{name}.yaml").read_text())
    defaults = DecolleWorkload(data_set=data["data_set"]).model_dump(mode="json")
    defaults.pop("generated")
    assert set(data) == set(defaults)
    for key, value in defaults.items():
        if key not in ("name", "train_file", "test_file", "data_set"):
            assert data[key] == value, key


def test_seed_names_are_accepted(tmp_path):
    file = tmp_path / "w.yaml"
    file.write_text("task: decolle\ndata-set: poker\nglobal_wb: 4\nPQ_cap: 2\n")
    cfg = load_workload(file, ["global_ub=5"])
    assert (cfg.data_set, cfg.weight_bits, cfg.pq_cap, cfg.mem_bits) == ("Poker", 4, 2.0, 5)
    assert cfg.train_file == str(tmp_path / "data/poker/poker_train.npz")
    assert cfg.steps_test == 500


def test_unknown_and_duplicate_fields_are_refused(tmp_path):
    file = tmp_path / "w.yaml"
    file.write_text("task: decolle\nglobal_wbb: 4\n")
    with pytest.raises(QsnnError, match="unknown field 'global_wbb'"):
        load_workload(file)
    file.write_text("task: decolle\nglobal_wb: 4\nweight_bits: 3\n")
    with pytest.raises(QsnnError, match="set the same field"):
        load_workload(file)
    file.write_text("task: decolle\nchannels: [4, 4]\n")
    with pytest.raises(QsnnError, match="one entry per layer"):
        load_workload(file)


def test_quick_workload_loads():
    cfg = load_workload("workloads/decolle_quick.yaml")
    assert cfg.data_set == "generated" and cfg.train_file == "generate"
    assert cfg.precision_tag == "w8u6p12q10r2s6a6sig6e6g10"
