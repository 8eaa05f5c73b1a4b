"""Reproduce the ISCAS 2020 comparisons with synthetic traces: ``python -m qsnn_mem.memory.paper``.

1. Smile network (700→400→250): PB-BMP at 2-bit weights (density 0.65) against a crossbar at
   5-bit weights (density 0.97), forward + backward energy of both layers' weights.
   Paper: 1.37× better for PB-BMP.
2. A convolution layer: functional encoding against index-based ones (PB-CSR, PB-BMP),
   backward + weight-update energy. Paper: 58 % less.

Compared quantity: the weight memory's dynamic read/write energy plus its controller logic in
the named stages (leakage left out: the paper's numbers are per-pass energies).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..schema import validate
from . import estimate, synthetic
from .accesses import load_trace
from .arch import Arch

PAPER_DENSITY = {2: 0.65, 3: 0.85, 4: 0.92, 5: 0.97, 6: 0.98}  # anchors section 1
PAPER_SMILE_RATIO = 1.37
PAPER_FUNCTIONAL_SAVING = 0.58


def paper_arch(
    encoding: str, node_nm: float = 45, word_bits: int = 64, depth: int | str = "auto"
) -> Arch:
    """The shipped arch/<encoding>.yaml organization, built in code."""
    weights = {
        "name": "weights",
        "word_bits": word_bits,
        "encoding": encoding,
        "depth": depth,
        "holds": ["weight"],
    }
    return validate(
        Arch,
        {
            "name": encoding,
            "tech_node_nm": node_nm,
            "clock_hz": 1e8,
            "backend": "table",
            "memories": [
                weights,
                {
                    "name": "states",
                    "kind": "regfile",
                    "word_bits": 32,
                    "holds": ["syn", "mem", "spk", "input"],
                },
                {"name": "learning", "word_bits": 32, "holds": ["err", "grad"]},
            ],
        },
        f"paper arch {encoding}",
    )


def _priced(pairs: list[tuple[Arch, object]], same_macro: bool) -> estimate.Evaluation:
    """Evaluate; with ``same_macro`` every weight memory gets the largest one's depth, so only
    the number of words differs between encodings (not the energy per word)."""
    ev = estimate.evaluate(pairs)
    if not same_macro:
        return ev
    weights = ev.inst_mem == 0
    depth = int(ev.capacity_bits[weights].max() // 64)
    pairs = [(paper_arch(a.name, depth=depth), t) for a, t in pairs]
    return estimate.evaluate(pairs)


def weight_energy(ev: estimate.Evaluation, pair: int, stages: tuple[str, ...]) -> float:
    """Dynamic + logic energy (J) of the 'weights' memory in ``stages`` for one pair."""
    arch, trace = ev.pairs[pair]
    acc = trace.accesses
    sel = np.flatnonzero(ev.acc_pair == pair)
    rows = ev.acc_row[sel]
    mem = np.array([arch.memories[ev.inst_mem[i]].name for i in ev.acc_inst[sel]])
    keep = (mem == "weights") & acc["stage"].isin(stages).to_numpy()[rows]
    return float((ev.dyn_J[sel] + ev.logic_J[sel])[keep].sum())


def smile_comparison(
    folder: Path, same_macro: bool = False, backward: str = "row"
) -> dict[str, float]:
    """Forward+backward weight energy of crossbar / PB-BMP / PB-CSR at each paper bitwidth."""
    traces = {
        b: load_trace(
            synthetic.smile_trace(
                folder / f"smile-{backward}-w{b}", weight_bits=b, density=d, backward=backward
            )
        )
        for b, d in PAPER_DENSITY.items()
    }
    encodings = ("crossbar", "pb-bmp", "pb-csr")
    pairs = [(paper_arch(e), traces[b]) for e in encodings for b in PAPER_DENSITY]
    ev = _priced(pairs, same_macro)
    pairs = ev.pairs
    energy = {
        f"{arch.name}@{trace.folder.rsplit('-w', 1)[1]}b": weight_energy(
            ev, i, ("forward", "backward")
        )
        for i, (arch, trace) in enumerate(pairs)
    }
    energy["ratio crossbar@5b / pb-bmp@2b"] = energy["crossbar@5b"] / energy["pb-bmp@2b"]
    return energy


def conv_comparison(folder: Path, same_macro: bool = False) -> dict[str, float]:
    """Backward+update weight energy of a conv layer: functional against index-based."""
    trace = load_trace(synthetic.conv_trace(folder / "conv"))
    encodings = ("functional", "pb-csr", "pb-bmp", "crossbar")
    ev = _priced([(paper_arch(e), trace) for e in encodings], same_macro)
    energy = {e: weight_energy(ev, i, ("backward", "update")) for i, e in enumerate(encodings)}
    energy["saving vs pb-csr"] = 1 - energy["functional"] / energy["pb-csr"]
    energy["saving vs pb-bmp"] = 1 - energy["functional"] / energy["pb-bmp"]
    return energy


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for same in (False, True):
            label = "one SRAM macro for all" if same else "each memory sized to its contents"
            smile = smile_comparison(Path(tmp) / str(same), same)
            conv = conv_comparison(Path(tmp) / str(same), same)
            print(f"== {label} ==")
            print("Smile network, weight memory, forward+backward energy (synthetic trace):")
            for key, value in smile.items():
                if key.startswith("ratio"):
                    print(f"  {key}: {value:.2f}x   (paper: {PAPER_SMILE_RATIO}x)")
                else:
                    print(f"  {key:<14} {value * 1e6:9.3f} µJ")
            col = smile_comparison(Path(tmp) / f"col{same}", same, backward="col")
            ratio = col["ratio crossbar@5b / pb-bmp@2b"]
            print(f"  same, backward as column scatter: {ratio:.2f}x")
            print("Convolution layer (2->8 channels, 3x3, 16x16), backward+update energy:")
            for key, value in conv.items():
                if key.startswith("saving"):
                    print(
                        f"  functional {key}: {100 * value:.0f} %   (paper: "
                        f"{100 * PAPER_FUNCTIONAL_SAVING:.0f} %)"
                    )
                else:
                    print(f"  {key:<11} {value * 1e6:9.3f} µJ")


if __name__ == "__main__":
    main()
