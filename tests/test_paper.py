"""``qsnn-mem paper iscas2020``: the authors' layer passes priced, beside their numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from qsnn_mem.cli import main
from qsnn_mem.memory import paper


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    return paper.comparison(tmp_path_factory.mktemp("paper"))


def test_every_authors_row_has_ours_beside_it(ours):
    beside = paper.beside_authors(ours)
    assert len(beside) == len(paper.AUTHORS) == 18
    # Same structure, bits, layer and density; energies within a factor of two of the
    # synthesized hardware everywhere (no constant is fitted to these rows).
    for column in ("forward_ratio", "backward_ratio"):
        assert beside[column].between(0.5, 2.0).all(), beside[["structure", "bits", column]]


def test_headline_ratios_within_the_targets(ours):
    head = paper.headline(ours).set_index("quantity")
    for name, (target, tolerance) in paper.TARGETS.items():
        value = head.loc[name, "ours"]
        assert abs(value - target) <= tolerance + 1e-9, (name, value)


def test_functional_saves_less_against_kernel_shared_than_unrolled(ours):
    head = paper.headline(ours).set_index("quantity")
    for encoding in ("pb-csr", "pb-bmp"):
        shared = head.loc[f"functional saving vs {encoding} kernel-shared, conv backward+update"]
        unrolled = head.loc[f"functional saving vs {encoding} unrolled, conv backward+update"]
        assert 0 < shared["ours"] < unrolled["ours"] < 1


def test_crossbar_cost_does_not_depend_on_density(ours):
    dense = ours[(ours["set"] == "784x128") & (ours["structure"] == "crossbar")]
    for _, part in dense.groupby("bits"):
        assert part["forward_J"].max() == pytest.approx(part["forward_J"].min(), rel=1e-9)


def test_cli_writes_tables_and_figure_and_refuses_mixed_options(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["paper", "iscas2020", "--out", str(out)]) == 0
    for name in ("layer_passes.csv", "authors_vs_ours.csv", "headline.csv",
                 "energy_vs_density.png", "energy_vs_density.svg"):  # fmt: skip
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "layer_passes.csv")
    assert {"bits", "layer", "structure", "density", "forward_J", "backward_J"} <= set(table)
    assert "ISCAS 2020 comparison" in capsys.readouterr().out
    arch = tmp_path / "a.yaml"
    arch.write_text(
        "name: mine\ntech_node_nm: 45\nclock_hz: 1.0e8\nmemories:\n"
        "  - {name: weights, encoding: pb-bmp, holds: [weight], propagation: row}\n"
    )
    before = (out / "layer_passes.csv").read_bytes()
    assert main(["paper", "iscas2020", "--out", str(out), "--arch", str(arch)]) == 2
    assert "other options" in capsys.readouterr().err
    assert (out / "layer_passes.csv").read_bytes() == before
