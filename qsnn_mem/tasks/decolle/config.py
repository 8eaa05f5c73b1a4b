"""Workload YAML schema for the ICONS 2020 DECOLLE task (DVS Gesture, DVS Poker, generated events).

Every option of the seed's second argument table (``qsnn_decolle.py``) is a field with the
seed's default, under a clear name and also under its seed name (``global_wb`` for
``weight_bits``, ``data-set`` for ``data_set``, ``PQ_cap`` for ``pq_cap``). What the reference
hard-codes (channels, kernel, pooling, burn-in, window lengths, threshold) is a field too. Each
reference quirk that is a plain bug has a field whose default is the fix; docs/decolle.md lists
them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ...schema import BitsField, Name, Schema, WorkloadBase, bits_field
from . import precision
from .data.aedat import SENSOR as DVS_SENSOR

DATA_SETS = ("Gesture", "Poker", "generated")
NB_CLASSES = {"Gesture": 11, "Poker": 4}
TEST_STEPS = {"Gesture": 1800, "Poker": 500}

# The reference's option names, accepted in YAML and --set next to the field names.
DECOLLE_SEED_NAMES = {
    "data-set": "data_set",
    "global_wb": "weight_bits",
    "global_qb": "q_bits",
    "global_pb": "p_bits",
    "global_rfb": "refrac_bits",
    "global_sb": "readout_bits",
    "global_gb": "grad_bits",
    "global_eb": "error_bits",
    "global_ub": "mem_bits",
    "global_ab": "act_bits",
    "global_sig": "sig_bits",
    "global_rb": "rng_bits",
    "global_lr": "grad_scale",
    "global_lr_sgd": "lr_sgd",
    "global_beta": "init_beta",
    "PQ_cap": "pq_cap",
}


class GeneratedEvents(Schema):
    """Small generated event data (``data_set: generated``): moving bars, one class per
    direction, for demos and tests (data/synthetic_events.py)."""

    classes: int = Field(4, ge=2, le=8, description="Classes (bar directions).")
    train_samples: int = Field(48, ge=1, description="Generated training samples.")
    test_samples: int = Field(24, ge=1, description="Generated test samples.")
    sensor: int = Field(32, ge=8, description="Sensor width and height in pixels.")
    duration_ms: int = Field(80, ge=2, description="Length of each sample in ms.")
    rate: float = Field(0.6, gt=0, le=1, description="Probability that a bar pixel fires per ms.")
    noise: float = Field(0.002, ge=0, le=1, description="Background events per pixel and ms.")


class DecolleWorkload(WorkloadBase):
    """Quantized DECOLLE (ICONS 2020): three LIF conv layers with local readouts, on events."""

    name: Name = Field("gesture", description="Workload name; results go to reports/<name>/.")
    task: Literal["decolle"] = Field("decolle", description="Which experiment this workload runs.")

    data_set: Literal["Gesture", "Poker", "generated"] = Field(
        "Gesture", description="Input data set: Gesture, Poker or generated (seed: data-set)."
    )
    train_file: str = Field(
        "",
        description="Prepared training events (.npz of 'qsnn-mem prepare'); relative to the "
        "YAML's folder. Empty: data/<set>/<set>_train.npz. 'generate' for generated data.",
    )
    test_file: str = Field("", description="Prepared test events, as train_file.")
    generated: GeneratedEvents = Field(
        default_factory=GeneratedEvents, description="Generated data (data_set: generated)."
    )
    validation_fraction: float = Field(
        0.2, ge=0, lt=1, description="Share of the training file held out for validation."
    )

    weight_bits: BitsField = bits_field(8, "global_wb", "Conv weight and bias bitwidth (forward)")
    q_bits: BitsField = bits_field(10, "global_qb", "Synaptic trace Q bitwidth")
    p_bits: BitsField = bits_field(12, "global_pb", "Membrane trace P bitwidth")
    refrac_bits: BitsField = bits_field(2, "global_rfb", "Refractory state R bitwidth")
    readout_bits: BitsField = bits_field(6, "global_sb", "Readout and feedback weight bitwidth")
    grad_bits: BitsField = bits_field(10, "global_gb", "Gradient bitwidth (and shadow-weight clip)")
    error_bits: BitsField = bits_field(6, "global_eb", "Error bitwidth")
    mem_bits: BitsField = bits_field(6, "global_ub", "Membrane potential U bitwidth")
    act_bits: BitsField = bits_field(6, "global_ab", "Readout output activation bitwidth")
    sig_bits: BitsField = bits_field(6, "global_sig", "Readout input (sigmoid) bitwidth")
    rng_bits: BitsField = bits_field(16, "global_rb", "Gradient RNG bitwidth")

    grad_scale: float = Field(
        1.0, gt=0, description="Pre-scale inside quant_grad, halved every lr_div epochs "
        "(seed: global_lr, an int there)."
    )  # fmt: skip
    lr_sgd: float = Field(
        1e-9, gt=0, description="SGD learning rate when grad_bits is null (seed: global_lr_sgd); "
        "divided by 5 every lr_div epochs."
    )  # fmt: skip
    init_beta: float = Field(1.5, gt=0, description="Beta for weight init (seed: global_beta).")
    delta_t: float = Field(1e-3, gt=0, description="Time step in s (one step = one ms bin).")
    input_mode: Literal[0] = Field(0, description="Spike processing: 0 binarises event counts.")
    ds: int = Field(4, ge=1, description="Spatial downsampling of event coordinates.")
    epochs: int = Field(320, ge=1, description="Training epochs (the reference used 100 on Poker).")
    lr_div: int = Field(80, ge=1, description="Epochs between halvings of grad_scale.")
    batch_size: int = Field(72, ge=1, description="Samples per batch.")
    pq_cap: float = Field(1.0, gt=0, description="Cap of P and Q in units of their scales "
                          "(seed: PQ_cap).")  # fmt: skip
    weight_mult: float = Field(4e-5, gt=0, description="Weight multiplier: weights are stored "
                               "in units of it.")  # fmt: skip
    dropout_p: float = Field(0.5, ge=0, lt=1, description="Readout dropout probability.")
    lc_ampl: float = Field(0.5, gt=0, description="Readout magnitude for its scale.")
    l1: float = Field(0.001, ge=0, description="Regulariser 1 (activity, 20*mean(relu(a+0.01))).")
    l2: float = Field(0.001, ge=0, description="Regulariser 2 (0.1*relu(0.1-mean(U))).")
    tau_mem_lower: float = Field(5.0, gt=0, description="Tau mem lower bound in ms.")
    tau_mem_upper: float = Field(35.0, gt=0, description="Tau mem upper bound in ms.")
    tau_syn_lower: float = Field(5.0, gt=0, description="Tau syn lower bound in ms.")
    tau_syn_upper: float = Field(10.0, gt=0, description="Tau syn upper bound in ms.")
    tau_ref: float = Field(1 / 0.35, gt=0, description="Refractory time constant in ms.")

    threshold: float = Field(0.0, description="Spike iff U >= threshold (hard-coded 0).")
    channels: list[int] = Field([64, 128, 128], description="Output channels per conv layer.")
    kernel_size: int = Field(7, ge=1, description="Conv kernel size.")
    padding: int = Field(2, ge=0, description="Conv padding.")
    pooling: list[int] = Field([2, 1, 2], description="Max-pool size (= stride) per layer.")
    burn_in: int = Field(50, ge=0, description="Steps without learning or voting per window.")
    train_steps: int = Field(500, ge=2, description="Training window length in steps (ms).")
    test_steps: int | None = Field(
        None, ge=2, description="Validation/test window; null: 1800 Gesture, 500 Poker."
    )
    random_window: bool = Field(
        True, description="Training windows start at a random time (the reference does this "
        "for Gesture only; Poker windows are as long as the samples, so it rarely matters)."
    )  # fmt: skip
    init: Literal["fixed", "reference"] = Field(
        "fixed", description="fixed: conv weights on the wb grid; reference: quant_w without "
        "/weight_mult, so every weight and bias starts at exactly 0 (reference bug)."
    )  # fmt: skip
    test_dropout: bool = Field(
        False, description="Keep readout dropout on at validation/test (reference bug)."
    )
    mem_clamp: float = Field(
        8.0, gt=0, description="Bound of U/8 before quantization; the reference's 8 lets U "
        "reach +-64 (so U needs mem_bits+3 bits); 1 bounds U to +-8."
    )  # fmt: skip
    cpu_threads: int | None = Field(
        None, ge=1, le=4096, description="torch threads on the CPU; null: torch's default. 1 "
        "is fastest for small networks and on busy machines."
    )  # fmt: skip
    max_batches: int | None = Field(
        None, ge=1, description="Cap on training batches per epoch (quick checks); null: all."
    )
    checkpoint_every: int = Field(1, ge=1, description="Epochs between metrics/weights writes.")

    @model_validator(mode="before")
    @classmethod
    def _names_and_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        value = data.get("data_set", "Gesture")
        if isinstance(value, str):
            match = [name for name in DATA_SETS if name.lower() == value.lower()]
            data["data_set"] = match[0] if match else value
        kind = data.get("data_set", "Gesture")
        for split in ("train", "test"):
            key = f"{split}_file"
            if not data.get(key) and kind in DATA_SETS:
                low = kind.lower()
                data[key] = "generate" if kind == "generated" else f"data/{low}/{low}_{split}.npz"
        return data

    @field_validator("channels", "pooling")
    @classmethod
    def _three(cls, value: list[int]) -> list[int]:
        if len(value) < 1 or any(v < 1 for v in value):
            raise ValueError("must be a list of positive integers, one per layer")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DecolleWorkload:
        if len(self.channels) != len(self.pooling):
            raise ValueError("channels and pooling must have one entry per layer")
        if self.tau_mem_lower > self.tau_mem_upper or self.tau_syn_lower > self.tau_syn_upper:
            raise ValueError("tau lower bounds must not exceed the upper bounds")
        if self.burn_in >= self.train_steps:
            raise ValueError(f"burn_in ({self.burn_in}) must be below train_steps")
        return self

    def memory_needs(self) -> list[tuple[str, float]]:
        """The input rasters of a batch (uint8), each layer's state for a batch (P, Q, R, U and
        spikes, float32), the weights (shadow, forward, gradient and rounding noise, plus the
        fixed readout and feedback) and the generated events."""
        generated = self.data_set == "generated"
        sensor = self.generated.sensor if generated else DVS_SENSOR[0]
        classes = self.generated.classes if generated else NB_CLASSES[self.data_set]
        batch, ks, pad = self.batch_size, self.kernel_size, self.padding
        c, h = 2, -(-sensor // self.ds)
        steps = max(self.train_steps, self.steps_test)
        needs = [("input rasters, batch_size x train/test_steps x sensor pixels / ds^2",
                  steps * batch * c * h * h)]  # fmt: skip
        weights = state = 0
        for c_out, pool in zip(self.channels, self.pooling, strict=False):
            out = h + 2 * pad - ks + 1
            if out < pool:  # no pixels left: the network says so when it is built
                break
            weights += 16 * c_out * c * ks * ks + 8 * classes * c_out * (out // pool) ** 2
            state += 4 * batch * (2 * c * h * h + 3 * c_out * out * out)
            c, h = c_out, out // pool
        needs.append(("layer states, batch_size x channels x pixels", state))
        needs.append(("weights, channels x kernel_size^2", weights))
        if generated:
            g = self.generated
            events = g.duration_ms * (4 * g.sensor * g.rate + g.sensor**2 * g.noise)
            samples = g.train_samples + g.test_samples
            needs.append(
                ("generated events, samples x duration_ms x sensor", 16 * samples * events)
            )
        return needs

    @property
    def steps_test(self) -> int:
        if self.test_steps is not None:
            return self.test_steps
        if self.data_set == "generated":
            return self.train_steps
        return TEST_STEPS[self.data_set]

    @property
    def nb_epochs(self) -> int:
        """Epochs to train (the name the CLI's progress bar reads)."""
        return self.epochs

    @property
    def precision_tag(self) -> str:
        """Folder name of the precision setup (:func:`.precision.tag`), e.g.
        ``w8u6p12q10r2s6a6sig6e6g10``."""
        return precision.precision(self).tag
