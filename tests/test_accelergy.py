"""Accelergy interoperability: the exported ERT × action counts reproduce energy.csv; a user's
ERT prices our traces; bad ERTs are one clear message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from qsnn_mem.cli import main
from qsnn_mem.contract import Trace, load_trace
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import estimate, synthetic, tables
from qsnn_mem.memory.accelergy.ert import load_ert
from qsnn_mem.memory.accelergy.export import COUNT_FILES, export_accelergy
from qsnn_mem.memory.arch import Arch, load_arch

from .memory_fixtures import tiny_trace

ROOT = Path(__file__).resolve().parents[1]
ARCHS = sorted((ROOT / "arch").glob("*.yaml"))


def conv_trace(folder: Path) -> Path:
    """A small trained-and-inferred convolution layer (conv1: 2→4 channels, 3×3, 8×8 image)
    with state, input, error and gradient tensors: every shipped arch can hold it."""
    c_in, c_out, k, size, wb, d, steps = 2, 4, 3, 8, 4, 0.75, 20
    u_rows, u_cols, u_nnz = synthetic.conv_geometry(c_in, c_out, k, size)
    u_nnz = round(u_nnz * d)
    row = synthetic.access_row
    tensors = [
        synthetic.tensor_row("conv1", "weight", c_in * k * k, c_out, wb, d,
                             kernel_shape=(c_out, c_in, k, k), unrolled=(u_rows, u_cols, u_nnz)),
        synthetic.tensor_row("conv1", "mem", 1, u_cols, 8, 0.5),
        synthetic.tensor_row("conv1", "input", 1, u_rows, 1, 0.1),
        synthetic.tensor_row("conv1", "err", 1, u_cols, 8, 0.5),
        synthetic.tensor_row("conv1", "grad", c_in * k * k, c_out, 8, 0.5),
    ]  # fmt: skip
    out_per_in, in_per_out = u_nnz / u_rows, u_nnz / u_cols
    acc = []
    for phase, samples in (("train", 2), ("infer", 1)):
        spikes = u_rows * steps * samples * 0.1
        acc += [
            row(phase, "forward", "conv1", "weight", "read", "row", wb, spikes, out_per_in, d),
            row(phase, "forward", "conv1", "input", "read", "elem", 1, spikes, 1, 1.0),
            row(phase, "forward", "conv1", "mem", "read", "elem", 8, u_cols * steps, 1, 0.5),
            row(phase, "forward", "conv1", "mem", "write", "elem", 8, u_cols * steps, 1, 0.5),
        ]
    prop = ("train", "backward", "conv1", "weight", "read")
    acc += [
        row("train", "backward", "conv1", "err", "read", "elem", 8, u_cols * steps, 1, 0.5),
        row(*prop, "row", wb, u_rows * steps, out_per_in, d, "row"),
        row(*prop, "col", wb, u_cols * steps / 2, in_per_out, d, "col"),
        row("train", "update", "conv1", "weight", "read", "row", wb, u_rows, out_per_in, d),
        row("train", "update", "conv1", "weight", "write", "row", wb, u_rows, out_per_in, d),
        row("train", "update", "conv1", "grad", "read", "row", 8, 40, c_out, 0.5),
        row("train", "update", "conv1", "grad", "write", "row", 8, 40, c_out, 0.5),
    ]
    norm = {"train_epochs": 2, "train_samples": 2, "infer_samples": 1, "time_steps": steps}
    return synthetic.write_trace(folder, tensors, acc, norm, workload="conv-synthetic")


@pytest.fixture(scope="module")
def traces(tmp_path_factory) -> dict[str, Trace]:
    base = tmp_path_factory.mktemp("traces")
    return {
        "conv": load_trace(conv_trace(base / "conv")),
        "fc": load_trace(tiny_trace(base / "fc")),
    }


def _cases():
    for path in ARCHS:
        for kind in ("conv", "fc"):
            if path.stem == "functional" and kind == "fc":
                continue  # functional stores convolution kernels only
            yield pytest.param(path, kind, id=f"{path.stem}-{kind}")


def _key(action: dict) -> tuple:
    return action["name"], tuple(sorted((action.get("arguments") or {}).items()))


@pytest.mark.parametrize(("arch_file", "kind"), list(_cases()))
def test_ert_times_action_counts_is_the_energy_csv_total(arch_file, kind, traces, tmp_path):
    """Read the exported files back with plain yaml.safe_load (no qsnn-mem code) and multiply:
    Σ counts × energy per action, leakage per cycle × cycles included, is energy.csv's total of
    each phase within 0.1 %."""
    arch = load_arch(arch_file)
    ev = estimate.evaluate([(arch, traces[kind])])
    written = export_accelergy(ev, 0, tmp_path / "acc")
    assert {p.name for p in written} == {
        "ERT.yaml", "ART.yaml", "architecture.yaml", *COUNT_FILES.values()
    }  # fmt: skip
    ert = yaml.safe_load((tmp_path / "acc" / "ERT.yaml").read_text())["ERT"]
    energy = {(t["name"], *_key(a)): a["energy"] for t in ert["tables"] for a in t["actions"]}  # pJ
    table = tables.energy_table(ev)
    for phase, name in COUNT_FILES.items():
        counts = yaml.safe_load((tmp_path / "acc" / name).read_text())["action_counts"]
        total = sum(
            c["counts"] * energy[(comp["name"], *_key(c))]
            for comp in counts["local"]
            for c in comp["action_counts"]
        )
        expected = table.loc[table["phase"] == phase, "energy_J"].sum() * 1e12
        assert expected > 0
        error = abs(total - expected) / expected
        print(f"{arch_file.stem} {kind} {phase}: {total:.6g} pJ vs {expected:.6g} pJ, {error:.2e}")
        assert error < 1e-3
    area = yaml.safe_load((tmp_path / "acc" / "ART.yaml").read_text())["ART"]["tables"]
    assert sum(t["area"] for t in area) == pytest.approx(
        tables.area_table(ev)["area_m2"].sum() * 1e12, rel=1e-9
    )


class _TagLoader(yaml.SafeLoader):
    """safe_load plus Accelergy v0.4's node tags (!Container, !Component, ...)."""


_TagLoader.add_multi_constructor(
    "!", lambda loader, tag, node: {"tag": tag, **loader.construct_mapping(node, deep=True)}
)


def test_architecture_uses_the_field_names(traces, tmp_path):
    ev = estimate.evaluate([(load_arch(ROOT / "arch" / "banked.yaml"), traces["fc"])])
    export_accelergy(ev, 0, tmp_path)
    arch = yaml.load((tmp_path / "architecture.yaml").read_text(), Loader=_TagLoader)
    top, branches = arch["architecture"]["nodes"]
    assert arch["architecture"]["version"] == "0.4"
    assert top["tag"] == "Container" and top["name"] == "banked"
    assert top["attributes"] == {
        "technology": "28nm", "tech_node": 28e-9, "global_cycle_seconds": 5e-9
    }  # fmt: skip
    weights = branches["nodes"][0]["nodes"]
    assert weights[0]["name"] == "weights" and weights[0]["attributes"]["n_banks"] == 4
    arrays = {c["name"]: c for c in weights[1]["nodes"]}
    assert set(arrays) == {"values", "bitmap", "pointers", "controller", "datapath"}
    area = tables.area_table(ev).set_index(["memory", "array"])
    values = arrays["values"]
    assert values["class"] == "SRAM"
    assert values["attributes"]["width"] == area.loc[("weights", "values"), "word_bits"]
    assert values["attributes"]["depth"] == area.loc[("weights", "values"), "depth"]
    assert values["attributes"]["n_rw_ports"] == 1


def _arch(**weights) -> Arch:
    data = load_arch(ROOT / "arch" / "crossbar.yaml").model_dump()
    data["memories"][0].update(weights)
    return Arch.model_validate(data)


def _array_energy(ev) -> pd.Series:
    """Memory-component energy (reads, writes, leakage) per array and phase."""
    e = tables.energy_table(ev)
    e = e[e["component"] == "memory"]
    return e.groupby([e["memory"] + "." + e["array"], "phase"])["energy_J"].sum()


@pytest.mark.parametrize("component", ["weights.values", "states.values"])
def test_a_scaled_ert_component_doubles_its_energy(component, traces, tmp_path):
    """Export the ERT, double one component's energies, price with it: that component's
    energy doubles, every other component's stays (the rest of the ERT is our own numbers)."""
    arch = _arch(propagation="row")
    base = estimate.evaluate([(arch, traces["fc"])])
    export_accelergy(base, 0, tmp_path)
    data = yaml.safe_load((tmp_path / "ERT.yaml").read_text())
    for table in data["ERT"]["tables"]:
        if table["name"].endswith("." + component):
            for action in table["actions"]:
                action["energy"] *= 2
    user = tmp_path / "user_ERT.yaml"
    user.write_text(yaml.safe_dump(data, sort_keys=False))
    ev = estimate.evaluate([(arch, traces["fc"])], ert=load_ert(user))
    ratio = _array_energy(ev) / _array_energy(base)
    assert len(ratio) >= 4 and set(ratio.index.get_level_values(0)) > {component}
    for (name, _), value in ratio.items():
        assert value == pytest.approx(2.0 if name == component else 1.0, rel=1e-12), name
    total = ev.summary()[["train_J", "infer_J"]].to_numpy()
    assert total.sum() > base.summary()[["train_J", "infer_J"]].to_numpy().sum()
    report = ev.ert_report
    assert any(line.startswith(component) for line in report.applied)
    assert report.kept == []  # the exported ERT names every component
    assert report.ignored == ["weights.datapath"]  # the only memory with datapath operations
    assert ev.sources[0].startswith(f"ERT {user}")


def _write(tmp_path, data, name="ERT.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def test_a_partial_ert_in_accelergy_v03_and_per_component_form(traces, tmp_path):
    """Accelergy's own layout (instance ranges, address/data deltas, an idle action) and the
    per-component mapping; unnamed components keep their built-in costs and are reported."""
    arch = _arch(propagation="row")
    base = estimate.evaluate([(arch, traces["fc"])])
    v03 = {
        "ERT": {
            "version": 0.3,
            "tables": [
                {
                    "name": "system.chip.weights[0..0].values",
                    "actions": [
                        {"name": "read", "arguments": {"address_delta": 0, "data_delta": 0},
                         "energy": 0.1},
                        {"name": "read", "arguments": {"address_delta": 1, "data_delta": 1},
                         "energy": 4.0},
                        {"name": "write", "arguments": None, "energy": 5.0},
                        {"name": "idle", "arguments": None, "energy": 0.0},
                    ],
                }
            ],
        }
    }  # fmt: skip
    per_component = {"weights.values": {"read": 4.0, "write": {"energy": 5.0}, "idle": [0.0]}}
    for data in (v03, per_component):
        ev = estimate.evaluate([(arch, traces["fc"])], ert=load_ert(_write(tmp_path, data)))
        i = 0  # the weights' value array: memory 0, role 0
        assert ev.costs[i, :3].tolist() == pytest.approx([4e-12, 5e-12, 0.0], rel=1e-12)
        assert ev.costs[1:, :3].ravel().tolist() == pytest.approx(base.costs[1:, :3].ravel())
        report = ev.ert_report
        assert "weights.controller" in report.kept and "states.values" in report.kept
        assert "weights.values" not in report.kept
        text = "\n".join(report.lines())
        assert "built-in costs kept" in text


def test_bits_per_action_is_pro_rated_as_hwcomponents_does(traces, tmp_path):
    arch = _arch(propagation="row", synapses_per_access=4)  # 8-bit value words
    data = {"weights.values": {"read": {"energy": 1.0, "arguments": {"bits_per_action": 32}}}}
    ev = estimate.evaluate([(arch, traces["fc"])], ert=load_ert(_write(tmp_path, data)))
    assert ev.costs[0, 0] == pytest.approx(1e-12 * 8 / 32, rel=1e-12)
    assert any("pro-rated" in note for note in ev.ert_report.notes)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"weights.vaules": {"read": 1.0}}, ["weights.vaules", "allowed", "weights.values"]),
        ({"weights.bitmap": {"read": 1.0}}, ["weights.bitmap", "allowed"]),  # crossbar: none
        ({"weights.values": {"compute": 1.0}}, ["compute", "allowed: read, write"]),
        ({"weights.values": {"read": "cheap"}}, ["energy", "'cheap'", "number"]),
        ({"weights.values": {"read": -1.0}}, ["energy", "-1.0", ">= 0"]),
        ({"weights.values": {"read": float("nan")}}, ["energy", "nan"]),
        ({"weights.controller": {"read": 1.0}}, ["read", "allowed: access"]),
        (
            {"weights.values": {"leak": {"energy": 1.0, "arguments": {"global_cycle_seconds": 0}}}},
            ["global_cycle_seconds", "> 0"],
        ),
        ({"ERT": {"version": 0.4}}, ["ERT", "tables"]),
        ({"ERT": {"version": 0.4, "tables": [{"name": "x"}]}}, ["actions"]),
        ({"ERT_summary": {"version": 0.4}}, ["summary", "ERT.yaml"]),
        ({"ART": {"version": 0.4, "tables": []}}, ["'ART'", "not an energy reference table"]),
        ({"name": "crossbar", "memories": []}, ["field 'name'", "not an energy reference"]),
        ({"ERT": {"version": 0.4, "tables": []}}, ["no tables"]),
        ("ERT: {tables: &a [], more: *a}\n", ["aliases"]),
        ("ERT: [unclosed\n", ["not valid YAML"]),
    ],
)
def test_bad_ert_is_one_message_naming_file_and_field(data, words, traces, tmp_path):
    path = _write(tmp_path, data)
    with pytest.raises(QsnnError) as info:
        estimate.evaluate([(_arch(), traces["fc"])], ert=load_ert(path))
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_cli_exports_and_prices_with_an_ert(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    arch = str(ROOT / "arch" / "pb-bmp.yaml")
    out = tmp_path / "out"
    args = ["estimate", arch, "--trace", str(trace), "--out", str(out)]
    assert main([*args, "--export", "accelergy"]) == 0
    assert (out / "accelergy" / "ERT.yaml").is_file()
    assert (out / "accelergy" / "action_counts_infer.yaml").is_file()
    assert "accelergy" in capsys.readouterr().err
    data = yaml.safe_load((out / "accelergy" / "ERT.yaml").read_text())
    for table in data["ERT"]["tables"]:
        for action in table["actions"]:
            action["energy"] *= 3
    user = _write(tmp_path, data, "mine.yaml")
    out2, elsewhere = tmp_path / "out2", tmp_path / "elsewhere"
    code = main(
        [*args[:-1], str(out2), "--ert", str(user), "--export", "accelergy",
         "--export-dir", str(elsewhere)]
    )  # fmt: skip
    assert code == 0
    assert (elsewhere / "ERT.yaml").is_file() and not (out2 / "accelergy").exists()
    assert f"ERT {user}" in capsys.readouterr().err
    first, second = (pd.read_csv(o / "energy.csv") for o in (out, out2))
    dynamic = first["component"] != "datapath"
    assert second["energy_J"][dynamic].sum() == pytest.approx(
        3 * first["energy_J"][dynamic].sum(), rel=1e-9
    )
    assert yaml.safe_load((out2 / "run.json").read_text())["ert"] == str(user)


def test_cli_bad_ert_exits_2_and_writes_nothing(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    bad = _write(tmp_path, {"weights.nothing": {"read": 1.0}})
    out = tmp_path / "out"
    arch = str(ROOT / "arch" / "crossbar.yaml")
    code = main(["estimate", arch, "--trace", str(trace), "--out", str(out), "--ert", str(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert "weights.nothing" in err and "allowed" in err and len(err.strip().splitlines()) <= 2
    assert not out.exists()
    assert main(["estimate", arch, "--trace", str(trace), "--export", "timeloop"]) == 2
    code = main(["estimate", arch, "--trace", str(trace), "--out", str(out), "--export-dir", "x"])
    assert code == 2 and "--export" in capsys.readouterr().err
    assert not out.exists()
