"""The estimate and cacti commands: outputs written, bad input = one message, exit 2, no files."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pandas as pd

from qsnn_mem.cli import main

from .memory_fixtures import tiny_trace

ROOT = Path(__file__).resolve().parents[1]


def _estimate(arch: str, trace: Path, out: Path, *options: str) -> int:
    """``qsnn-mem estimate arch/ARCH.yaml --trace TRACE --out OUT [options]``; the exit code."""
    args = [str(ROOT / "arch" / f"{arch}.yaml"), "--trace", str(trace), "--out", str(out)]
    return main(["estimate", *args, *options])


def test_estimate_writes_tables_and_prints_summary(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    out = tmp_path / "out"
    code = _estimate("pb-bmp", trace, out, "--set", "memories.0.synapses_per_access=4")
    assert code == 0
    energy = pd.read_csv(out / "energy.csv")
    area = pd.read_csv(out / "area.csv")
    assert list(energy.columns) == [
        "memory", "array", "tensor", "phase", "stage", "op", "component", "accesses",
        "energy_J", "source",
    ]  # fmt: skip
    assert set(energy["component"]) == {"memory", "controller", "datapath"}
    assert {"memory", "array", "capacity_bits", "area_m2", "leakage_W", "source"} <= set(
        area.columns
    )
    weights = area[area["memory"] == "weights"].set_index("array")
    assert set(weights.index) == {"values", "bitmap", "pointers"}
    assert weights.loc["values", "word_bits"] == 4 * 2  # four 2-bit synapses per access
    printed = capsys.readouterr().out
    assert "energy/epoch" in printed and "mm²" in printed and "kibit" in printed
    assert "error propagation: fc1.weight" in printed


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    trace = tiny_trace(tmp_path / "trace")
    out = tmp_path / "out"
    code = _estimate("crossbar", trace, out, "--set", "memories.1.holds=[syn]")
    assert code == 2
    err = capsys.readouterr().err
    assert "held by no memory" in err and len(err.strip().splitlines()) <= 2
    assert not out.exists()
    assert _estimate("crossbar", tmp_path / "missing", out) == 2
    assert _estimate("crossbar", trace, out, "--set", "tech_node_nm=7") == 2
    assert "tech_node_nm" in capsys.readouterr().err
    assert not out.exists()


def _torch_modules(imports: str) -> list[str]:
    code = (
        f"import sys; import {imports}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'torch'); "
        "print(bad[:5]); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return [] if done.returncode == 0 else [done.stdout.strip() or done.stderr.strip()[-300:]]


def test_memory_package_never_imports_torch():
    mods = ", ".join(
        f"qsnn_mem.memory.{m}"
        for m in (
            "arch",
            "encodings",
            "kinds",
            "datapath",
            "cacti",
            "cacti_build",
            "cacti_run",
            "table",
            "plan",
            "estimate",
            "tables",
            "breakdown",
            "synthetic",
            "layer_pass",
            "layout",
            "paper",
        )
    )
    contract = ("vocabulary", "table", "checks", "meta", "read", "write")
    mods += "".join(f", qsnn_mem.contract.{m}" for m in contract)
    assert _torch_modules(mods) == []


def test_the_python_api_loads_no_torch_until_a_network_runs():
    assert _torch_modules("qsnn_mem.api, qsnn_mem.estimate_folder") == []


def test_estimate_and_cacti_commands_import_only_torch_free_modules():
    allowed = ("qsnn_mem.memory", "qsnn_mem.contract", "qsnn_mem.io", "qsnn_mem.errors")
    allowed += ("qsnn_mem.schema", "qsnn_mem.estimate_folder", "qsnn_mem.digests")
    for name in ("estimate.py", "cacti.py"):
        tree = ast.parse((ROOT / "qsnn_mem" / "cli" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = "qsnn_mem." + ("cli." if node.level == 1 else "") + (node.module or "")
                assert target.startswith(allowed) or target in (
                    "qsnn_mem.cli.app",
                    "qsnn_mem.cli.common",  # typer and rich only
                    "qsnn_mem.cli.estimate_view",  # rich, pandas and qsnn_mem.memory
                    "qsnn_mem.",
                    "qsnn_mem.memory",
                ), f"{name} imports {target}"
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                assert not any(n.split(".")[0] == "torch" for n in names), name


def test_estimate_cli_module_loads_without_torch():
    assert _torch_modules("qsnn_mem.cli.estimate, qsnn_mem.cli.cacti") == []


def test_cacti_query_from_the_table(capsys):
    args = ["cacti", "query", "--node", "45", "--capacity-bits", "65536", "--word-bits", "64"]
    assert main([*args, "--table"]) == 0
    assert "pJ" in capsys.readouterr().out
    assert main([*args[:2], "--node", "7", *args[4:], "--table"]) == 2
