"""Write workloads/nir_example.nir: a small feed-forward LIF network as any NIR exporter would.

    python workloads/nir_example.py

100 inputs -> Linear -> 200 LIF -> Linear -> 10 LIF (210 neurons), time constants of 10 ms and
a threshold of 1 (snnTorch's and Norse's defaults), random weights from a fixed seed. The
workload workloads/nir_example.yaml trains it to tell 10 classes of Poisson input apart.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import nir
import numpy as np

SIZES = (100, 200, 10)
TAU = 10e-3  # membrane time constant (s)
DT = 1e-3  # the workload's time step: r = tau / dt makes one input add its weight to v


def graph(seed: int = 0) -> nir.NIRGraph:
    rng = np.random.default_rng(seed)
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array([SIZES[0]]))}
    chain = ["input"]
    for k, (n_in, n_out) in enumerate(itertools.pairwise(SIZES), start=1):
        weight = rng.normal(0.02, 1.0 / np.sqrt(n_in), (n_out, n_in))
        ones = np.ones(n_out)
        nodes[f"fc{k}"] = nir.Linear(weight=weight)
        nodes[f"lif{k}"] = nir.LIF(
            tau=TAU * ones, r=TAU / DT * ones, v_leak=0 * ones, v_threshold=ones, v_reset=0 * ones
        )
        chain += [f"fc{k}", f"lif{k}"]
    nodes["output"] = nir.Output(output_type=np.array([SIZES[-1]]))
    chain.append("output")
    return nir.NIRGraph(nodes=nodes, edges=list(itertools.pairwise(chain)))


if __name__ == "__main__":
    path = Path(__file__).with_name("nir_example.nir")
    nir.write(path, graph())
    print(f"wrote {path}")
