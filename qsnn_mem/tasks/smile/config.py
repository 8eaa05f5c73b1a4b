"""Workload YAML schema for the ISCAS smile task.

Every option of the reference script ``qsnn_precise.py`` is a field with the reference's default,
under a clear name and also under its original name (``global_wb`` for ``weight_bits``), so users
of the original scripts find their way. Options the reference hard-codes are fields too; where the
reference has a quirk the published numbers depend on, the default reproduces it and the field's
docstring names the corrected setting.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from ...schema import BitsField, Name, WorkloadBase, bits_field
from .precision import precision

# The reference's option names, accepted in YAML and --set next to the clearer field names.
SEED_NAMES = {
    "global_wb": "weight_bits",
    "global_ab": "state_bits",
    "global_gb": "grad_bits",
    "global_eb": "error_bits",
    "global_rb": "rng_bits",
    "global_lr": "grad_scale",
}
# Fields with the reference's defaults that the NIR task's schema shares (its network follows
# the smile task's precision, neuron and training, docs/nir.md).
WEIGHT_BITS = bits_field(2, "global_wb", "Weight bitwidth")
GRAD_BITS = bits_field(8, "global_gb", "Gradient bitwidth")
ERROR_BITS = bits_field(8, "global_eb", "Error bitwidth")
RNG_BITS = bits_field(16, "global_rb", "Gradient RNG bitwidth")
SURROGATE_SCALE = Field(100.0, gt=0, description="Fast-sigmoid surrogate slope.")
CHECKPOINT_EVERY = Field(
    500, ge=1, description="Epochs between writes of metrics.csv and weights during training."
)


class SmileWorkload(WorkloadBase):
    """The spatio-temporal "smile" pattern task of ISCAS 2020 (700-400-250 LIF network, BPTT)."""

    name: Name = Field("smile", description="Workload name; results go to reports/<name>/.")
    task: Literal["smile"] = Field("smile", description="Which experiment this workload runs.")
    backend: Literal["auto", "fused", "autograd"] = Field(
        "auto",
        description="fused: compiled CPU kernels (fast; the only backend that traces); "
        "autograd: step-by-step torch (any device); auto: fused when tracing or on the CPU, "
        "autograd on CUDA. Both compute the same numbers.",
    )

    input: str = Field(
        "generate",
        description="Input spike raster: 'generate' (the reference's Poisson recipe, seeded) or "
        "a .npy/.npz/.pkl file of shape (nb_inputs, nb_steps) as the original "
        "input_700_250_25.pkl, or (nb_steps, nb_inputs). Seed default ./data/input_700_250_25.pkl.",
    )
    target: str = Field(
        "generate",
        description="Target raster: 'generate' (a drawn smiley, each pixel kept with p=0.95) or "
        "a file of shape (nb_steps, nb_outputs) as smile95.pkl. Seed default ./data/smile95.pkl.",
    )
    target_keep: float = Field(0.95, gt=0, le=1, description="Kept fraction of a generated target.")

    weight_bits: BitsField = WEIGHT_BITS
    state_bits: BitsField = bits_field(
        8, "global_ab", "Membrane potential and synapse state bitwidth"
    )
    grad_bits: BitsField = GRAD_BITS
    error_bits: BitsField = ERROR_BITS
    rng_bits: BitsField = RNG_BITS

    time_step: float = Field(
        1e-3, gt=0, description="Simulation time step in s (unused, as in the reference)."
    )
    nb_steps: int = Field(250, ge=1, description="Simulation steps.")
    nb_epochs: int = Field(
        10000, ge=1, description="Training epochs (one sample, one update each)."
    )
    tau_mem: float = Field(
        10e-3, gt=0, description="Membrane time constant in s (unused: beta is given)."
    )
    tau_syn: float = Field(
        5e-3, gt=0, description="Synapse time constant in s; the loss is scaled by 1/tau_syn."
    )
    tau_vr: float = Field(5e-3, gt=0, description="Van Rossum time constant in s (see vr_kernel).")
    alpha: float = Field(0.75, gt=0, lt=1, description="Synaptic decay per step.")
    beta: float = Field(0.875, gt=0, lt=1, description="Membrane decay per step.")
    nb_inputs: int = Field(700, ge=1, description="Input neurons.")
    nb_hidden: int = Field(400, ge=1, description="Hidden LIF neurons.")
    nb_outputs: int = Field(250, ge=1, description="Output LIF neurons.")

    threshold: float = Field(0.9, description="Spike threshold (hard-coded 0.9 in the reference).")
    reset: float = Field(
        1.0,
        description="Subtracted from the membrane on a spike; the reference subtracts 1, "
        "not the threshold (set it to the threshold for the textbook reset).",
    )
    syn_delay: bool = Field(
        True,
        description="Reference quirk: the membrane integrates the previous step's synaptic "
        "state. false integrates the new one.",
    )
    surrogate_scale: float = SURROGATE_SCALE
    grad_scale: float = Field(
        0.1,
        gt=0,
        description="Pre-scale inside the gradient quantizer (global_lr, hard-coded 0.1).",
    )
    lr: float = Field(1.0, gt=0, description="Adamax learning rate (reference: 1).")
    init_fan_in: int | None = Field(
        784,
        ge=1,
        description="Fan-in used by the weight initialisation; the reference uses 784 "
        "(28x28) for both layers. null uses each layer's true fan-in.",
    )
    vr_kernel: Literal["alpha", "tau_vr"] = Field(
        "alpha",
        description="Decay of the van Rossum filter: the reference uses alpha (quirk); "
        "tau_vr uses exp(-time_step/tau_vr).",
    )
    float_mode: Literal["reference", "scaled"] = Field(
        "reference",
        description="How null bits treat the forward weight scale (16 at the defaults). "
        "reference: as the reference at a bit width of 33 or more, so that its float runs "
        "replay: with weight_bits null the forward weights are the shadow weights themselves "
        "(not divided by the scale), clipped to +-1 before every pass, and the weight gradient "
        "is never divided by the scale (with grad_bits null it is x^T e). scaled: the float "
        "limit of the quantized network (qsnn-mem's earlier float mode): forward W/scale at "
        "every bit width, no clip, gradient x^T e/scale (the exact gradient of that forward). "
        "Quantized weights and gradients give the same numbers in both.",
    )
    checkpoint_every: int = CHECKPOINT_EVERY

    @field_validator("input", "target")
    @classmethod
    def _source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be 'generate' or a file path")
        return value

    def memory_needs(self) -> list[tuple[str, float]]:
        """Weights with their gradients, forward copies, Adamax moments and rounding noise (six
        float32 arrays per layer), and the BPTT histories of every step (spikes, membrane,
        surrogate flags and errors of each neuron, the input and target rasters)."""
        synapses = self.nb_inputs * self.nb_hidden + self.nb_hidden * self.nb_outputs
        neurons = self.nb_hidden + self.nb_outputs
        return [
            ("weights, nb_inputs x nb_hidden + nb_hidden x nb_outputs", 6 * 4 * synapses),
            (
                "BPTT histories, nb_steps x (nb_inputs + nb_hidden + nb_outputs)",
                self.nb_steps * (13 * neurons + 4 * (self.nb_inputs + self.nb_outputs)),
            ),
        ]

    @property
    def vr_decay(self) -> float:
        if self.vr_kernel == "alpha":
            return self.alpha
        return math.exp(-self.time_step / self.tau_vr)

    @property
    def precision_tag(self) -> str:
        """Short folder name of the precision setup, e.g. ``w2a8g8e8`` (``f`` = float)."""
        return precision(self).tag
