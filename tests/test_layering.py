"""The package's structure: no import cycles, no imports hidden in functions, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qsnn_mem"
# Imports inside functions, each for a reason: heavy or optional dependencies that commands
# which do not need them must not load (torch for planning and reports; dask; the torch loader
# of .pt files), and a task's training code, which loads torch and numba.
DEFERRED = {
    ("tasks/smile/__init__.py", "run"),
    ("tasks/smile/__init__.py", "trace_saved_weights"),
    ("tasks/decolle/__init__.py", "run"),
    # The nir task's training and tracing code loads torch and numba when a run starts.
    ("tasks/nir/__init__.py", "run"),
    ("tasks/nir/__init__.py", "trace_saved_weights"),
    ("sweep/executors.py", "dask_client"),
    ("sweep/executors.py", "run_dask"),
    ("sweep/point.py", "_limit_threads"),
    ("data/files.py", "_torch_load_safe"),
    # qsnn-mem export-nir builds the smile network (torch); the CLI itself starts without it.
    ("cli/nir.py", "export_nir_command"),
}
MAX_LINES = 310


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports at its top level."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    deps = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:  # `from . import x` imports the submodule x
                sub = f"{module}.{alias.name}"
                deps.add(sub if sub in known else module)
        elif isinstance(node, ast.Import):
            deps.update(a.name for a in node.names)
    return {d for d in deps if d in known and d != name}


def test_no_import_cycles():
    modules = _modules()
    known = set(modules)
    graph = {m: _imports(m, p, known) for m, p in modules.items()}
    # A package imports its own submodules (its __init__ re-exports); those edges are not cycles.
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, m, d]))
            if d not in state:
                visit(d, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_no_imports_hidden_in_functions():
    hidden = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                if inner and (rel, node.name) not in DEFERRED:
                    hidden.append(f"{rel}:{node.lineno} {node.name}")
    assert hidden == []


def test_modules_stay_small():
    big = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert big == {}
