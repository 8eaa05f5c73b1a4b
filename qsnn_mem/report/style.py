"""The report's palettes, in one place: organizations, and (apart from them) stages, tensors and
layers.

An organization keeps one colour in every figure of a report (by the order the ``--arch``
options give them). Stages, tensors and layers draw from other palettes, so that a stage or a
tensor never wears the colour of an organization, and the tensor palette holds a colour for
every tensor of the trace vocabulary (no repeats after ten).
"""

from __future__ import annotations

import colorsys

from ..contract.vocabulary import TENSORS

# matplotlib's tab10, then the light variants of tab20: twenty organization colours.
ORGANIZATION = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
# Stages of a training epoch (Paul Tol's high-contrast scheme) and leakage in grey.
STAGE = {"forward": "#004488", "backward": "#bb5566", "update": "#ddaa33", "leakage": "#bbbbbb"}
# Tensors of the trace vocabulary, then the energy that is not a memory access (Paul Tol's
# muted and light schemes).
TENSOR = dict(
    zip(
        (*TENSORS, "controller", "datapath", "leakage"),
        (
            "#332288",
            "#88ccee",
            "#44aa99",
            "#117733",
            "#999933",
            "#ddcc77",
            "#ee8866",
            "#cc6677",
            "#882255",
            "#aa4499",
            "#ffaabb",
            "#77aadd",
            "#555555",
            "#a0a0a0",
            "#dddddd",
        ),
        strict=True,
    )
)
# Layers of the density figure (Paul Tol's bright scheme); all layers in black, a published
# network's values as crosses.
LAYER = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")
ALL_LAYERS = "#000000"
REFERENCE = "#666666"
FRONT = "#000000"  # the Pareto front


def _more(n: int, taken: set[str], offset: float) -> list[str]:
    """``n`` further colours, hues spaced by the golden ratio, none of them in ``taken``."""
    out: list[str] = []
    k = 0
    while len(out) < n:
        hue = (offset + 0.618033988749895 * k) % 1.0
        light = (0.35, 0.5, 0.65)[(k // 7) % 3]
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.65)
        colour = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
        if colour not in taken:
            out.append(colour)
            taken.add(colour)
        k += 1
    return out


def _reserved() -> set[str]:
    return {*ORGANIZATION, *STAGE.values(), *TENSOR.values(), *LAYER, ALL_LAYERS, REFERENCE}


def organization_colours(names: list[str]) -> dict[str, str]:
    """One colour per organization, by position: the first ``--arch`` gets the first colour in
    every figure. Beyond twenty, generated colours that no other palette uses."""
    names = list(dict.fromkeys(names))
    palette = list(ORGANIZATION[: len(names)])
    palette += _more(len(names) - len(palette), _reserved(), 0.05)
    return dict(zip(names, palette, strict=True))


def tensor_colours(kinds: list[str]) -> dict[str, str]:
    """A colour per tensor kind (fixed for the trace vocabulary; other names get generated
    colours that neither organizations nor stages use)."""
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in TENSOR]
    extra = dict(zip(unknown, _more(len(unknown), _reserved(), 0.33), strict=True))
    return {k: TENSOR.get(k) or extra[k] for k in kinds}


def stage_colours(stages: list[str]) -> dict[str, str]:
    """A colour per stage (forward, backward, update, leakage; others generated)."""
    stages = list(dict.fromkeys(stages))
    unknown = [s for s in stages if s not in STAGE]
    extra = dict(zip(unknown, _more(len(unknown), _reserved(), 0.71), strict=True))
    return {s: STAGE.get(s) or extra[s] for s in stages}


def layer_colours(layers: list[str]) -> dict[str, str]:
    """A colour per layer of the density figure (beyond six: generated)."""
    layers = list(dict.fromkeys(layers))
    palette = list(LAYER[: len(layers)])
    palette += _more(len(layers) - len(palette), _reserved(), 0.9)
    return dict(zip(layers, palette, strict=True))
