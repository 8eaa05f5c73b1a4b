"""The report's figures as a paper would use them, checked on the drawn artists: one colour per
organization in every figure (by --arch order), stage and tensor colours apart from them, error
bars over seeds on the Pareto figure, axes named for what they plot, the weight arrays' area
apart from the rest, one van Rossum scale in loss.png and the report, a self-contained
report.html, the ``ax`` API, and the CLI's --version, -h and report --help."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer

from qsnn_mem import __version__, tasks
from qsnn_mem.cli import main
from qsnn_mem.contract import load_trace
from qsnn_mem.contract.vocabulary import TENSORS
from qsnn_mem.errors import QsnnError
from qsnn_mem.memory import tables
from qsnn_mem.memory.arch import load_arch
from qsnn_mem.memory.estimate import evaluate
from qsnn_mem.report import build_report, figures, style
from qsnn_mem.report.breakdown import breakdown_figure
from qsnn_mem.report.html import to_html
from qsnn_mem.sweep import parse_grid_option, plan, run
from qsnn_mem.sweep.spec import Sweep
from qsnn_mem.tasks.smile.distance import DISTANCE_LABEL, LOSS_LABEL, distance_per_loss
from qsnn_mem.tasks.smile.plots import draw_loss

from .report_cases import ARCH, TINY

ROOT = Path(__file__).resolve().parents[1]
ENCODINGS = ("pb-bmp", "crossbar", "pb-csr")  # --arch order: not alphabetical
SMILE = tasks.get("smile").quality


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A 2-point × 2-seed sweep reported on three organizations, and the same report on the
    seed-0 runs alone (one trial per point)."""
    root = tmp_path_factory.mktemp("figures")
    spec = Sweep(ROOT / "workloads" / "smile_quick.yaml", TINY, 2,
                 {"g": [parse_grid_option("weight=2,3")]})  # fmt: skip
    assert run(plan(spec, root / "sw")).ok
    archs = []
    for enc in ENCODINGS:
        (root / f"{enc}.yaml").write_text(ARCH.format(enc=enc))
        archs.append(root / f"{enc}.yaml")
    for point in ("w2a8g8e8_seed0", "w3a8g8e8_seed0"):
        shutil.copytree(root / "sw" / point, root / "one" / point)
    many = build_report(root / "sw", archs, root / "many")
    one = build_report(root / "one", archs, root / "single")
    return root, archs, many, one


def _label_colours(axes) -> dict[str, set[str]]:
    """Legend label -> colours of the labelled artists (lines, error bars, bars) in ``axes``."""
    out: dict[str, set[str]] = defaultdict(set)
    for ax in axes:
        for c in ax.containers:
            label = c.get_label() or "_"
            if label.startswith("_"):
                continue
            if isinstance(c, ErrorbarContainer):
                out[label].add(to_hex(c.lines[0].get_color()))
            elif isinstance(c, BarContainer):
                out[label].update(to_hex(p.get_facecolor()) for p in c.patches)
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                out[line.get_label()].add(to_hex(line.get_color()))
    return out


def _arch_names() -> list[str]:
    return [f"rf-{enc}" for enc in ENCODINGS]


def test_one_colour_per_organization_in_every_figure(reports):
    _, _, rep, _ = reports
    expected = {a: style.ORGANIZATION[i] for i, a in enumerate(_arch_names())}
    for stem in ("energy_vs_bits", "area_vs_bits", "pareto"):
        found = _label_colours(rep.figures[stem].axes)
        for arch, colour in expected.items():
            assert found[arch] == {colour}, (stem, arch)
    breakdown = rep.figures["breakdown"]
    top = breakdown.axes[0]
    for tick in top.get_yticklabels():
        assert to_hex(tick.get_color()) == expected[tick.get_text()]
    titles = [ax.title for ax in breakdown.axes[1:]]
    for arch, title in zip(_arch_names(), titles, strict=True):
        assert title.get_text().startswith(arch) and to_hex(title.get_color()) == expected[arch]


def test_organization_colours_follow_the_arch_order(reports, tmp_path):
    root, archs, _, _ = reports
    rep = build_report(root / "one", archs[::-1], tmp_path / "r")
    found = _label_colours(rep.figures["energy_vs_bits"].axes)
    for i, arch in enumerate(_arch_names()[::-1]):
        assert found[arch] == {style.ORGANIZATION[i]}


def test_stage_and_tensor_colours_are_their_own(reports):
    _, _, rep, _ = reports
    orgs = set(style.ORGANIZATION)
    fig = rep.figures["breakdown"]
    stages = _label_colours(fig.axes[:1])
    tensors: dict[str, set[str]] = defaultdict(set)
    for ax in fig.axes[1:]:
        for label, colours in _label_colours([ax]).items():
            tensors[label] |= colours
    assert {"forward", "backward", "leakage"} <= set(stages)
    assert {"weight", "err", "grad", "controller"} <= set(tensors)
    used = {c for cs in stages.values() for c in cs} | {c for cs in tensors.values() for c in cs}
    assert not used & orgs
    assert all(len(c) == 1 for c in (*stages.values(), *tensors.values()))
    assert len({c for cs in tensors.values() for c in cs}) == len(tensors)  # no repeats


def test_palettes_never_repeat_nor_overlap():
    names = [f"arch{i}" for i in range(30)]
    org = style.organization_colours(names)
    assert len(set(org.values())) == 30
    assert list(org.values())[:20] == list(style.ORGANIZATION)
    kinds = [*TENSORS, "controller", "datapath", "leakage", *(f"new{i}" for i in range(8))]
    tensor = style.tensor_colours(kinds)
    stage = style.stage_colours(["forward", "backward", "update", "leakage", "other"])
    assert len(set(tensor.values())) == len(kinds) > 20  # tab10 repeated after ten
    assert len(set(stage.values())) == 5
    assert not set(org.values()) & set(tensor.values())
    assert not set(org.values()) & set(stage.values())
    assert not set(tensor.values()) & set(stage.values())
    assert style.tensor_colours(["grad", "weight"]) == {
        "grad": style.TENSOR["grad"], "weight": style.TENSOR["weight"],
    }  # fmt: skip


def _pareto_containers(fig) -> dict[str, ErrorbarContainer]:
    ax = fig.axes[0]
    return {c.get_label(): c for c in ax.containers if isinstance(c, ErrorbarContainer)}


def test_pareto_error_bars_are_one_std_over_seeds(reports):
    _, _, rep, _ = reports
    fig = rep.figures["pareto"]
    scale, _ = figures.unit(rep.points["energy_per_epoch_J"])
    containers = _pareto_containers(fig)
    assert set(containers) == set(_arch_names())
    for arch, c in containers.items():
        assert c.has_xerr and c.has_yerr
        rows = rep.points[rep.points["arch"] == arch]
        assert (rows["trials"] == 2).all()
        xcol, ycol = c[2]  # LineCollections: energy, then quality
        half_x = [abs(s[1][0] - s[0][0]) / 2 for s in xcol.get_segments()]
        half_y = [abs(s[1][1] - s[0][1]) / 2 for s in ycol.get_segments()]
        np.testing.assert_allclose(half_x, rows["energy_per_epoch_J_std"] / scale, rtol=1e-9)
        np.testing.assert_allclose(half_y, rows["van_rossum_min_std"], rtol=1e-9)
        assert (rows["van_rossum_min_std"] > 0).any() and (rows["energy_per_epoch_J_std"] > 0).any()
    summary = rep.priced.summary
    std = summary.groupby(["arch", "weight_bits"])["energy_per_epoch_J"].std()
    for _, r in rep.points.iterrows():
        assert r["energy_per_epoch_J_std"] == pytest.approx(std[(r["arch"], r["weight_bits"])])
    assert "mean ± 1 std over seeds" in fig.axes[0].get_legend().get_title().get_text()
    caption = (rep.folder / "report.md").read_text()
    assert "± one standard deviation" in caption


def test_one_seed_draws_no_error_bars(reports):
    _, _, _, one = reports
    containers = _pareto_containers(one.figures["pareto"])
    assert set(containers) == set(_arch_names())
    assert not any(c.has_xerr or c.has_yerr for c in containers.values())
    assert "std" not in one.figures["pareto"].axes[0].get_legend().get_title().get_text()


def test_axes_are_named_for_what_they_plot(reports):
    _, _, rep, _ = reports
    pareto = rep.figures["pareto"].axes[0]
    assert pareto.get_ylabel() == SMILE.label == f"minimum {DISTANCE_LABEL}"
    assert re.fullmatch(r"energy per training epoch \([mµnpf]?J\)", pareto.get_xlabel())
    left, right = rep.figures["energy_vs_bits"].axes
    assert re.fullmatch(r"energy per training epoch \([mµnpf]?J\)", left.get_ylabel())
    assert re.fullmatch(r"energy per inference \([mµnpf]?J\)", right.get_ylabel())
    assert rep.figures["area_vs_bits"].axes[0].get_ylabel() == "memory area (mm²)"
    decolle = tasks.get("decolle").quality.label
    assert "accuracy" in decolle and "fraction" in decolle


def test_area_shows_the_weight_arrays_apart(reports):
    _, archs, rep, _ = reports
    summary = rep.priced.summary
    assert (summary["weight_area_m2"] > 0).all()
    assert (summary["weight_area_m2"] < summary["area_m2"]).all()
    row = summary.iloc[0]
    arch = load_arch(archs[_arch_names().index(row["arch"])])
    area = tables.area_table(evaluate([(arch, load_trace(row["folder"]))]))
    assert row["weight_area_m2"] == pytest.approx(area[area.memory == "weights"].area_m2.sum())
    assert row["area_m2"] == pytest.approx(area.area_m2.sum())
    ax = rep.figures["area_vs_bits"].axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    head = rep.headline
    for arch in _arch_names():
        weights = next(c for c in bars if c.get_label() == arch)
        rows = head[head["arch"] == arch]
        heights = [p.get_height() for p in weights.patches]
        np.testing.assert_allclose(heights, rows["weight_area_mean_m2"] * 1e6, rtol=1e-9)
    others = [c for c in bars if c.get_label() == "_other"]
    tops = sorted(p.get_y() + p.get_height() for c in others for p in c.patches)
    np.testing.assert_allclose(tops, sorted(head["area_mean_m2"] * 1e6), rtol=1e-9)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "weight arrays" in legend and "other memories" in legend


def test_loss_png_and_the_report_plot_the_same_distance(reports):
    """The value loss.png plots for a run is the one the report plots for it: the van Rossum
    distance √(Δt·Σd²/τ_vr), not the training loss √(Σd²/τ_syn), √1000 larger here."""
    root, _, rep, _ = reports
    summary = rep.priced.summary.drop_duplicates("point").set_index("point")
    minima = {}
    for point in summary.index:
        folder = root / "sw" / point
        assert (folder / "loss.png").is_file()
        cfg = json.loads((folder / "run.json").read_text())["config"]
        metrics = pd.read_csv(folder / "metrics.csv")
        per_loss = distance_per_loss(cfg["time_step"], cfg["tau_syn"], cfg["tau_vr"])
        assert per_loss == pytest.approx(1000**-0.5)
        fig = draw_loss(metrics, per_loss)
        ax = fig.axes[0]
        plotted = ax.get_lines()[0].get_ydata()
        assert ax.get_ylabel() == DISTANCE_LABEL
        assert ax.child_axes[0].get_ylabel() == LOSS_LABEL  # the training loss, its own axis
        np.testing.assert_allclose(plotted * 1000**0.5, metrics["loss"], rtol=1e-5)
        minima[point] = float(np.min(plotted))
        assert minima[point] == pytest.approx(summary.at[point, "van_rossum_min"], rel=1e-12)
        plt.close(fig)
    containers = _pareto_containers(rep.figures["pareto"])
    for arch, c in containers.items():
        rows = rep.points[rep.points["arch"] == arch]
        for y, config in zip(c.lines[0].get_ydata(), rows["config"], strict=True):
            seeds = [m for p, m in minima.items() if p.rsplit("_seed", 1)[0] == config]
            assert len(seeds) == 2 and y == pytest.approx(np.mean(seeds), rel=1e-12)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "srcset", "action"):
                self.refs.append((tag, name, value or ""))
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self.tables += tag == "table"


def test_report_html_is_self_contained_and_holds_every_figure(reports):
    _, _, rep, _ = reports
    text = (rep.folder / "report.html").read_text()
    parser = _Refs()
    parser.feed(text)
    assert parser.refs and all(v.startswith("data:") for _, _, v in parser.refs), [
        v[:60] for _, _, v in parser.refs if not v.startswith("data:")
    ]
    assert "<link" not in text and "<script" not in text and "url(" not in text
    assert len(parser.images) == len(rep.figures) == 5
    for stem in rep.figures:
        png = base64.b64encode((rep.folder / f"{stem}.png").read_bytes()).decode()
        assert f"data:image/png;base64,{png}" in parser.images, stem
        svg = base64.b64encode((rep.folder / f"{stem}.svg").read_bytes()).decode()
        assert f"data:image/svg+xml;base64,{svg}" in text, stem
    markdown = (rep.folder / "report.md").read_text()
    assert parser.tables == markdown.count("\n|---") and parser.tables >= 4
    assert "<th>organization</th>" in text and "Pareto front" in text


def test_html_refuses_a_missing_figure(tmp_path):
    with pytest.raises(QsnnError, match="cannot read the figure"):
        to_html("# r\n\n![a figure](missing.png)\n", tmp_path)


def test_figures_draw_into_given_axes(reports):
    _, _, rep, _ = reports
    colour = figures.colours(_arch_names())
    fig, axes = plt.subplots(2, 3, layout="constrained")
    head = rep.headline
    epoch = head.rename(columns={"epoch_mean_J": "mean", "epoch_std_J": "std"})
    infer = head.rename(columns={"infer_mean_J": "mean", "infer_std_J": "std"})
    area = head.rename(columns={"area_mean_m2": "mean", "area_std_m2": "std",
                                "weight_area_mean_m2": "weight_mean"})  # fmt: skip
    assert figures.energy_vs_bits(epoch, infer, colour, ax=axes[0, :2]) is fig
    assert figures.area_vs_bits(area, colour, ax=axes[0, 2]) is fig
    points = rep.points
    assert figures.pareto_figure(points, points["pareto"].to_numpy(), colour, "", SMILE,
                                 ax=axes[1, 0]) is fig  # fmt: skip
    density = {"all": head.assign(mean=0.5, std=0.0)}
    assert figures.density_vs_bits(density, ax=axes[1, 1]) is fig
    assert all(ax.has_data() for ax in axes[:, :2].ravel()) and axes[0, 2].has_data()
    assert len(fig.axes) == 6  # nothing added beside the given axes
    sub = plt.figure(layout="constrained").subfigures(1, 2)[0]
    assert breakdown_figure(rep.detail, _arch_names(), fig=sub) is sub
    assert len(sub.axes) == 1 + len(_arch_names())
    plt.close("all")


def test_version_and_short_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"qsnn-mem {__version__}"
    assert main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "Usage: qsnn-mem" in out and "report" in out and "--version" in out
    for command in ("report", "sweep", "trace", "estimate"):
        assert main([command, "-h"]) == 0
        assert f"Usage: qsnn-mem {command}" in capsys.readouterr().out


def test_report_help_names_the_default_output_folder(capsys):
    assert main(["report", "--help"]) == 0
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().out).split())
    assert "Output folder (default: SWEEP_DIR/report)." in text
    assert "under reports/" not in text
    assert re.search(r"qsnn-mem report \[OPTIONS\] \{?SWEEP_DIR\}?", text)
