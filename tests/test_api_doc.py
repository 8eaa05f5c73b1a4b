"""docs/api.md runs as written: its Python blocks, in order, in one namespace."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_api_page_runs_as_written(tmp_path, monkeypatch):
    for folder in ("workloads", "arch"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall((ROOT / "docs" / "api.md").read_text())
    assert len(blocks) >= 5
    namespace: dict = {}
    try:
        for i, code in enumerate(blocks):
            exec(compile(code, f"docs/api.md block {i + 1}", "exec"), namespace)
    finally:
        plt.close("all")
    assert (tmp_path / "api-demo" / "my_figure.png").stat().st_size > 0
    assert (tmp_path / "api-demo" / "report" / "report.html").is_file()
    assert (tmp_path / "api-demo" / "accelergy" / "ERT.yaml").is_file()
    # The API's numbers are the command's: estimate wrote the same summary it returned.
    rep = namespace["rep"]
    assert set(rep.figures) == set(namespace["api"].figures(namespace["priced"]))
    assert os.path.samefile(rep.folder, tmp_path / "api-demo" / "report")
