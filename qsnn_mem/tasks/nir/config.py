"""Workload YAML schema of the NIR task: a network read from a NIR graph file, quantized with
the WAGE quantizers of the smile task, trained with BPTT and traced.

The bitwidths, their defaults and the optimizer follow the smile task (docs/model.md), so that
a smile network exported to NIR and trained here computes what the smile task computes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ...schema import BitsField, Name, WorkloadBase, bits_field
from ..smile.config import (
    CHECKPOINT_EVERY,
    ERROR_BITS,
    GRAD_BITS,
    RNG_BITS,
    SURROGATE_SCALE,
    WEIGHT_BITS,
)
from ..smile.config import SEED_NAMES as SEED_NAMES  # the reference's names, as smile takes them
from .precision import precision

POISSON = "poisson"
ARRAY_SUFFIXES = (".npy", ".npz")


class NirWorkload(WorkloadBase):
    """A feed-forward spiking network from a NIR graph, trained on chip (BPTT, WAGE)."""

    name: Name = Field("nir", description="Workload name; results go to reports/<name>/.")
    task: Literal["nir"] = Field("nir", description="Which experiment this workload runs.")
    backend: Literal["auto", "fused", "autograd"] = Field(
        "auto",
        description="fused: compiled CPU kernels (dense layers only; fast); autograd: "
        "step-by-step torch (any layer, any device); auto: fused where the network allows it "
        "and the device is the CPU, else autograd. Both compute the same numbers.",
    )
    graph: str = Field(
        description="The network: a .nir file (relative to the workload file's folder)."
    )
    dt: float = Field(1e-3, gt=0, description="Simulation time step in s (discretises the graph).")
    nb_steps: int = Field(100, ge=1, description="Time steps per sample.")
    nb_epochs: int = Field(20, ge=1, description="Training epochs (every sample once each).")
    nb_samples: int = Field(
        1, ge=1, description="Samples of a generated (poisson) input; a file says its own."
    )
    input: str = Field(
        POISSON,
        description="Input spikes: 'poisson' (generated, seeded), or a .npy/.npz file holding "
        "a raster (nb_steps, *input_shape) or (samples, nb_steps, *input_shape), or an .npz "
        "with an integer array 'events' of rows (step, input index) or (sample, step, input "
        "index), the index counting over the flattened input shape.",
    )
    input_rate: float = Field(
        0.1, gt=0, le=1, description="Spike probability per input and step of poisson input."
    )
    target: str | None = Field(
        None,
        description="Target: a .npy/.npz file of class labels (samples,) for target_kind "
        "classes, or a raster (nb_steps, *output_shape) or (samples, nb_steps, *output_shape) "
        "for raster; null generates one (classes: sample k is class k mod outputs, and its "
        "poisson input fires 3x faster in the k-th block of inputs; raster: the smiley of the "
        "smile task, drawn on steps x outputs).",
    )
    target_kind: Literal["classes", "raster"] = Field(
        "raster",
        description="classes: spike-count cross-entropy (summed spikes, or the mean membrane "
        "of an LI output, are the logits); raster: van Rossum distance to a target raster.",
    )

    weight_bits: BitsField = WEIGHT_BITS
    state_bits: BitsField = bits_field(8, "global_ab", "Synaptic current and membrane bitwidth")
    grad_bits: BitsField = GRAD_BITS
    error_bits: BitsField = ERROR_BITS
    rng_bits: BitsField = RNG_BITS
    state_scale: float | None = Field(
        None,
        gt=0,
        description="Range of the state quantizer: states live on the state_bits grid times "
        "this power of two. null: per layer, the smallest power of two whose grid holds the "
        "layer's thresholds, reset and leak potentials (1 for the smile network).",
    )

    surrogate_scale: float = SURROGATE_SCALE
    grad_scale: float = Field(
        0.1, gt=0, description="Pre-scale inside the gradient quantizer (seed: global_lr)."
    )
    lr: float = Field(1.0, gt=0, description="Adamax learning rate (the smile task's: 1).")
    tau_vr: float = Field(
        5e-3, gt=0, description="Van Rossum time constant in s (target_kind raster)."
    )
    checkpoint_every: int = CHECKPOINT_EVERY

    @field_validator("graph")
    @classmethod
    def _graph(cls, value: str) -> str:
        if Path(value).suffix.lower() != ".nir":
            raise ValueError("must be a .nir file (allowed: a path ending in .nir)")
        return value

    @field_validator("input")
    @classmethod
    def _input(cls, value: str) -> str:
        if value != POISSON and Path(value).suffix.lower() not in ARRAY_SUFFIXES:
            raise ValueError("allowed: 'poisson' or a .npy/.npz file")
        return value

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and Path(value).suffix.lower() not in ARRAY_SUFFIXES:
            raise ValueError("allowed: null or a .npy/.npz file")
        return value

    @field_validator("state_scale")
    @classmethod
    def _power_of_two(cls, value: float | None) -> float | None:
        if value is not None and math.log2(value) != round(math.log2(value)):
            raise ValueError("allowed: null or a power of two (0.5, 1, 2, 4, ...)")
        return value

    @property
    def vr_decay(self) -> float:
        """Per-step decay of the van Rossum filter, ``exp(-dt / tau_vr)``."""
        return math.exp(-self.dt / self.tau_vr)

    @property
    def precision_tag(self) -> str:
        """Short folder name of the precision setup, e.g. ``w2a8g8e8`` (``f`` = float)."""
        return precision(self).tag
