"""Training DECOLLE on event data: batches, the step loop, per-layer majority-vote accuracy.

Reads top to bottom: :func:`load_data` (prepared .npz files or generated events, split into
train/validation/test), :func:`dense_batch` (events -> binary [T, B, 2, H, W] rasters, as the
reference's generator), :func:`run_window` (one batch through every time step, learning after
the burn-in), :func:`train_decolle` (epochs, learning-rate schedule, validation, test).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ... import interrupts
from ...errors import QsnnError
from ..base import Precision
from ..run_common import training
from .config import NB_CLASSES, DecolleWorkload
from .data.events import EventSet, load_events_npz
from .data.synthetic_events import generate_events
from .model import DecolleLayer, Forward, Learn
from .precision import precision as precision_of

StepHook = Callable[[str, int, int, Forward, Learn | None], None]  # phase, t, layer, ...


def pick_device(cfg: DecolleWorkload) -> torch.device:
    """``device: auto`` is CUDA when torch sees a GPU (the reference trains DECOLLE on one), for
    training and tracing alike: every count is a torch op on the step's own tensors, on their
    device, and only per-position sums move to the CPU (``.cpu()``) to meet the conv geometry
    kept there, so the tracer runs on either device (tests/test_device.py).

    On CUDA, cuDNN convolutions default to TF32 (a 10-bit mantissa) on recent GPUs; they are
    set to full float32 here so that a GPU run computes the CPU's numbers (up to summation
    order) instead of rounding the traces and weights the conv reads.
    """
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise QsnnError("device: cuda was asked for, but torch sees no CUDA GPU (use auto or cpu)")
    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.backends.cudnn.allow_tf32 = False
    return torch.device("cuda" if use_cuda else "cpu")


@dataclass
class Data:
    train: EventSet
    val: EventSet | None
    test: EventSet
    classes: int
    size: tuple[int, int]  # input height, width after downsampling


def _subset(events: EventSet, idx: np.ndarray) -> EventSet:
    return EventSet([events.samples[i] for i in idx], events.labels[idx], events.sensor)


def _check(events: EventSet, source: str, classes: int) -> None:
    bad = np.flatnonzero((events.labels < 0) | (events.labels >= classes))
    if len(bad):
        raise QsnnError(
            f"{source}: sample {bad[0]} has label {events.labels[bad[0]]} (allowed: 0-"
            f"{classes - 1} for {classes} classes)"
        )
    height, width = events.sensor
    for i, s in enumerate(events.samples):
        if len(s) and (s[:, 1].max() >= width or s[:, 2].max() >= height or s[:, 3].max() > 1):
            raise QsnnError(
                f"{source}: sample {i} has an event outside the {width}x{height} sensor "
                "(or a polarity other than 0/1)"
            )


def load_data(cfg: DecolleWorkload) -> Data:
    """Train/validation/test event sets; the validation split is drawn from ``cfg.seed``."""
    if cfg.data_set == "generated":
        g = cfg.generated
        args = (g.classes, g.sensor, g.duration_ms, g.rate, g.noise)
        train = generate_events(g.train_samples, *args, seed=cfg.seed)
        test = generate_events(g.test_samples, *args, seed=cfg.seed + 10_000)
        classes = g.classes
    else:
        classes = NB_CLASSES[cfg.data_set]
        train, test = load_events_npz(cfg.train_file), load_events_npz(cfg.test_file)
        for events, source in ((train, cfg.train_file), (test, cfg.test_file)):
            _check(events, source, classes)
            if not events.samples:
                raise QsnnError(f"{source}: the file holds no samples")
    if train.sensor != test.sensor:
        raise QsnnError(
            f"train and test files disagree on the sensor: {train.sensor} vs {test.sensor}"
        )
    val = None
    if cfg.validation_fraction > 0 and len(train.samples) > 1:
        order = np.random.default_rng(cfg.seed).permutation(len(train.samples))
        nb_val = max(1, round(len(order) * cfg.validation_fraction))
        train, val = (
            _subset(train, np.sort(order[nb_val:])),
            _subset(train, np.sort(order[:nb_val])),
        )
    size = (math.ceil(train.sensor[0] / cfg.ds), math.ceil(train.sensor[1] / cfg.ds))
    return Data(train, val, test, classes, size)


def dense_batch(
    samples: list[np.ndarray], steps: int, ds: int, size: tuple[int, int], rng: np.random.Generator,
    random_window: bool,
) -> torch.Tensor:  # fmt: skip
    """Binary input raster uint8 [steps, B, 2, H, W]: a window of ``steps`` ms per sample
    (random start when ``random_window``), event times jittered by int(0.5*N(0, 1)) and clamped
    to the window, coordinates divided by ``ds``."""
    out = np.zeros((steps, len(samples), 2, *size), dtype=np.uint8)
    for b, s in enumerate(samples):
        t = s[:, 0].astype(np.int64)
        start = 0
        span = (int(t.max()) if len(t) else 0) - (steps - 1)
        if random_window and span > 0:
            start = int(rng.integers(0, span))
        keep = (t >= start) & (t <= start + steps - 1)
        ev = s[keep]
        jitter = (0.5 * rng.standard_normal(len(ev))).astype(np.int64)  # truncates toward 0
        tt = np.clip(t[keep] - start + jitter, 0, steps - 1)
        out[tt, b, ev[:, 3].astype(np.int64), ev[:, 2] // ds, ev[:, 1] // ds] = 1
    return torch.from_numpy(out)


class DecolleNet:
    """The stack of LIF conv layers at the run's precision; generators for init, dropout and
    gradient rounding."""

    def __init__(
        self, cfg: DecolleWorkload, precision: Precision, in_shape, classes: int,
        device: torch.device,
    ) -> None:  # fmt: skip
        self.cfg, self.precision, self.classes, self.device = cfg, precision, classes, device
        init_gen = torch.Generator().manual_seed(cfg.seed)
        self.layers: list[DecolleLayer] = []
        shape = in_shape
        for k in range(len(cfg.channels)):
            layer = DecolleLayer(cfg, precision, k, shape, classes, device, init_gen)
            self.layers.append(layer)
            shape = layer.out_shape
        self.round_gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.drop_gen = torch.Generator().manual_seed(cfg.seed + 2)

    def dropout(self, batch: int, train: bool) -> torch.Tensor:
        """Readout factor: mask/(1-p)*p while training (reference: dropout then *p); p at test
        (or a mask too, with ``test_dropout``, the reference's behaviour)."""
        p = self.cfg.dropout_p
        if p == 0:
            return torch.ones((batch, self.classes), device=self.device)
        if train or self.cfg.test_dropout:
            keep = torch.rand((batch, self.classes), generator=self.drop_gen) >= p
            return (keep.float() / (1 - p) * p).to(self.device)
        return torch.full((batch, self.classes), p, device=self.device)


@dataclass
class WindowResult:
    loss: float
    votes: torch.Tensor  # [layers, B, classes] steps each class won after the burn-in
    spikes: list[int]
    updates: list[int]  # non-zero weight+bias gradient entries per layer


def run_window(
    net: DecolleNet, x: torch.Tensor, labels: torch.Tensor, *, train: bool, lr: float,
    hook: StepHook | None = None, phase: str = "train",
) -> WindowResult:  # fmt: skip
    """One batch through all time steps; learns at every step after the burn-in if ``train``."""
    steps, batch = x.shape[:2]
    n = len(net.layers)
    states = [layer.init_state(batch) for layer in net.layers]
    target = torch.nn.functional.one_hot(labels, net.classes).float().to(net.device)
    rows = torch.arange(batch, device=net.device)
    votes = torch.zeros((n, batch, net.classes), device=net.device)
    loss, spikes, updates = 0.0, [0] * n, [0] * n
    with torch.no_grad():
        for t in range(steps):
            s = x[t].to(net.device, torch.float32)
            for k, layer in enumerate(net.layers):
                fwd = layer.forward(s, states[k], net.dropout(batch, train))
                states[k], s = fwd.state, fwd.out
                spikes[k] += int(fwd.s.sum())
                learn = None
                if t > net.cfg.burn_in:
                    votes[k, rows, fwd.r_out.argmax(1)] += 1
                    if train:
                        learn = layer.learn(fwd, target, net.round_gen, lr)
                        loss += learn.loss
                        updates[k] += int((learn.grad_w != 0).sum() + (learn.grad_b != 0).sum())
                if hook is not None:
                    hook(phase, t, k, fwd, learn)
    return WindowResult(loss, votes.cpu(), spikes, updates)


def batches(nb: int, size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    order = rng.permutation(nb) if rng is not None else np.arange(nb)
    return [order[i : i + size] for i in range(0, nb, size)]


def evaluate(net: DecolleNet, events: EventSet, steps: int, rng, size) -> list[float]:
    """Majority-vote accuracy per layer over ``events`` (windows from the start)."""
    correct = np.zeros(len(net.layers))
    for idx in batches(len(events.samples), net.cfg.batch_size, None):
        interrupts.check()
        x = dense_batch([events.samples[i] for i in idx], steps, net.cfg.ds, size, rng, False)
        y = torch.from_numpy(events.labels[idx])
        res = run_window(net, x, y, train=False, lr=0.0)
        correct += (res.votes.argmax(2) == y).sum(1).numpy()
    return list(correct / len(events.samples))


@dataclass
class DecolleResult:
    cfg: DecolleWorkload
    net: DecolleNet
    data: Data
    metrics: list[dict] = field(default_factory=list)
    best_val: float = -1.0
    interrupted: bool = False
    wall_s: float = 0.0


def learning_rate(cfg: DecolleWorkload, precision: Precision, epoch: int) -> float:
    """grad_scale halves every lr_div epochs; float SGD's lr_sgd is divided by 5 instead."""
    if precision.configured["grad_bits"] is None:
        return cfg.lr_sgd / 5 ** (epoch // cfg.lr_div)
    return cfg.grad_scale / 2 ** (epoch // cfg.lr_div)


def train_epoch(result: DecolleResult, epoch: int, rng, hook: StepHook | None) -> dict:
    cfg, net, data = result.cfg, result.net, result.data
    lr = learning_rate(cfg, net.precision, epoch)
    n = len(net.layers)
    loss, correct, seen = 0.0, np.zeros(n), 0
    spikes, updates = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    start = time.perf_counter()
    todo = batches(len(data.train.samples), cfg.batch_size, rng)[: cfg.max_batches]
    for idx in todo:
        interrupts.check()  # an epoch cut short is not in the metrics (it is in the weights)
        samples = [data.train.samples[i] for i in idx]
        x = dense_batch(samples, cfg.train_steps, cfg.ds, data.size, rng, cfg.random_window)
        y = torch.from_numpy(data.train.labels[idx])
        res = run_window(net, x, y, train=True, lr=lr, hook=hook)
        loss += res.loss
        correct += (res.votes.argmax(2) == y).sum(1).numpy()
        seen += len(idx)
        spikes += res.spikes
        updates += res.updates
    row: dict = {"epoch": epoch, "loss": loss / seen, "lr": lr}
    row.update({f"train_acc{k + 1}": correct[k] / seen for k in range(n)})
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    steps = cfg.steps_test
    improved = data.val is None
    if data.val is not None:
        val = evaluate(net, data.val, steps, rng, data.size)
        row.update({f"val_acc{k + 1}": v for k, v in enumerate(val)})
        improved = val[-1] > result.best_val
        result.best_val = max(result.best_val, val[-1])
    if improved:  # the reference evaluates the test set only when validation improves
        test = evaluate(net, data.test, steps, rng, data.size)
        row.update({f"test_acc{k + 1}": v for k, v in enumerate(test)})
    row.update({f"spikes_conv{k + 1}": int(spikes[k]) for k in range(n)})
    row.update({f"updates_conv{k + 1}": int(updates[k]) for k in range(n)})
    row.update({"train_s": round(train_s, 3), "test_s": round(time.perf_counter() - start, 3)})
    return row


EpochHook = Callable[[DecolleResult, dict], None]


def train_decolle(
    cfg: DecolleWorkload,
    on_epoch: EpochHook | None = None,
    on_step: StepHook | None = None,
    on_start: Callable[[DecolleResult], None] | None = None,
    *,
    precision: Precision | None = None,
) -> DecolleResult:
    """Train for ``cfg.epochs``; Ctrl-C or SIGTERM stops at the next batch (:mod:`...interrupts`)
    and keeps the epochs done. ``precision`` is the run's record (from ``cfg`` when not given)."""
    if precision is None:
        precision = precision_of(cfg)
    device = pick_device(cfg)
    if cfg.cpu_threads is not None and device.type == "cpu":
        torch.set_num_threads(cfg.cpu_threads)
    data = load_data(cfg)
    net = DecolleNet(cfg, precision, (2, *data.size), data.classes, device)
    result = DecolleResult(cfg, net, data)
    if on_start is not None:
        on_start(result)
    rng = np.random.default_rng(cfg.seed + 3)
    with training(result):  # a deferred Ctrl-C stops at the next batch
        for epoch in range(cfg.epochs):
            row = train_epoch(result, epoch, rng, on_step)
            result.metrics.append(row)
            if on_epoch is not None:
                on_epoch(result, row)
    return result
