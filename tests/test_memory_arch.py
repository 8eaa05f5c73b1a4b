"""The arch YAML schema: every shipped file validates; bad files fail with one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qsnn_mem.errors import QsnnError
from qsnn_mem.memory.arch import Arch, load_arch
from qsnn_mem.schema import validate

from .memory_fixtures import arch_dict

ARCH_DIR = Path(__file__).resolve().parents[1] / "arch"


@pytest.mark.parametrize("path", sorted(ARCH_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_arch_validates(path):
    arch = load_arch(path)
    assert arch.memories
    # functional.yaml stores convolution kernels (the DECOLLE network); the others any weight.
    layer = "conv1" if path.stem == "functional" else "fc1"
    assert arch.owner_of(layer, "weight") is not None


def test_shipped_examples_exist():
    names = {p.stem for p in ARCH_DIR.glob("*.yaml")}
    assert {"crossbar", "pb-csr", "pb-bmp", "banked", "functional"} <= names


def _error(data: dict) -> str:
    with pytest.raises(QsnnError) as info:
        validate(Arch, data, "x.yaml")
    return str(info.value)


def test_unknown_key_is_rejected():
    data = arch_dict()
    data["memories"][0]["colour"] = "red"
    assert "unknown field 'memories.0.colour'" in _error(data)


def test_unknown_tensor_is_named():
    data = arch_dict()
    data["memories"][1]["holds"].append("voltage")
    msg = _error(data)
    assert "voltage" in msg and "allowed" in msg


def test_tensor_held_twice_names_both_memories():
    data = arch_dict()
    data["memories"][2]["holds"].append("fc1.mem")
    msg = _error(data)
    assert "fc1.mem" in msg and "states" in msg and "learning" in msg


def test_weights_need_an_encoding_and_others_must_not_have_one():
    data = arch_dict()
    del data["memories"][0]["encoding"]
    assert "no encoding" in _error(data)
    data = arch_dict()
    data["memories"][1]["encoding"] = "crossbar"
    assert "holds no weights" in _error(data)


@pytest.mark.parametrize(
    ("field", "value"),
    [("tech_node_nm", 7), ("tech_node_nm", 130), ("clock_hz", 0), ("backend", "spice")],
)
def test_out_of_range_top_level_fields(field, value):
    msg = _error(arch_dict(**{field: value}))
    assert field in msg


def test_bad_banks_and_word_bits():
    data = arch_dict()
    data["memories"][0]["banks"] = 3
    assert "banks" in _error(data)
    data = arch_dict()
    data["memories"][1]["word_bits"] = 0
    assert "word_bits" in _error(data)


def test_layer_qualified_holds_win(tmp_path):
    data = arch_dict()
    data["memories"].append({"name": "w2", "encoding": "pb-bmp", "holds": ["fc2.weight"]})
    data["memories"][0]["holds"] = ["fc1.weight"]
    arch = validate(Arch, data, "x")
    assert arch.owner_of("fc2", "weight") == 3
    assert arch.owner_of("fc1", "weight") == 0
    assert arch.owner_of("fc3", "weight") is None


def test_overrides_address_memories_by_index(tmp_path):
    file = tmp_path / "a.yaml"
    file.write_text(yaml.safe_dump(arch_dict()))
    arch = load_arch(file, ["memories.1.word_bits=16", "tech_node_nm=32"])
    assert arch.memories[1].word_bits == 16 and arch.tech_node_nm == 32
    arch = load_arch(file, ["memories.0.synapses_per_access=4", "memories.0.propagation=row"])
    assert arch.memories[0].synapses_per_access == 4
    assert arch.memories[0].propagation == "row"
    with pytest.raises(QsnnError, match="index 0-2"):
        load_arch(file, ["memories.7.word_bits=32"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"propagation": "diagonal"}, "propagation"),
        ({"synapses_per_access": 0}, "synapses_per_access"),
        ({"synapses_per_access": "lots"}, "synapses_per_access"),
        ({"word_bits": 64}, "synapses_per_access: packed"),
        ({"synapses_per_access": "packed"}, "needs word_bits"),
        ({"conv_storage": "folded"}, "conv_storage"),
        ({"arrays": {"bitmap": "regfile"}}, "allowed: values, pixels"),
        ({"arrays": {"values": "dram"}}, "arrays"),
        ({"encoding": "zigzag"}, "unknown encoding 'zigzag'"),
    ],
)
def test_bad_weight_memory_fields_are_named(change, expected):
    data = arch_dict()
    data["memories"][0].update(change)
    assert expected in _error(data)


def test_weight_only_fields_on_a_state_memory_are_refused():
    data = arch_dict()
    data["memories"][2]["propagation"] = "row"
    assert "applies to weight memories only" in _error(data)
    data = arch_dict()
    del data["memories"][2]["word_bits"]
    assert "word_bits" in _error(data)


def test_roles_follow_encoding_and_conv_storage():
    arch = validate(Arch, arch_dict("pb-bmp"), "x")
    assert arch.memories[0].roles == ("values", "bitmap", "pointers", "pixels")
    data = arch_dict("pb-csr")
    data["memories"][0]["conv_storage"] = "unrolled"
    assert validate(Arch, data, "x").memories[0].roles == ("values", "indices", "pointers")
    assert validate(Arch, arch_dict("functional"), "x").memories[0].roles == ("values",)
