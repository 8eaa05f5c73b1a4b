"""Small generated event recordings with learnable classes: a bar sweeping across the sensor.

Class ``c`` is the direction of motion (right, left, down, up, then the four diagonals). Each
sample draws its speed, bar width and starting phase at random; bar pixels fire ON events at the
leading edge and OFF events at the trailing edge with probability ``rate`` per ms, and every
pixel fires a random background event with probability ``noise`` per ms. The result has the
layout of the prepared DVS files (:class:`~.events.EventSet`), so the DECOLLE
workload reads it exactly like DVS Gesture.
"""

from __future__ import annotations

import numpy as np

from .events import EventSet

# (dx, dy) per class: right, left, down, up, then diagonals.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))


def moving_bar(
    label: int, sensor: int, duration_ms: int, rate: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """One sample: uint32 (n, 4) events ``[t_ms, x, y, pol]`` sorted by time."""
    dx, dy = DIRECTIONS[label]
    speed = rng.uniform(0.7, 1.3) * sensor / duration_ms  # pixels per ms: about one sweep
    width = int(rng.integers(4, 9))
    phase = rng.uniform(0, sensor)
    ys, xs = np.mgrid[0:sensor, 0:sensor]
    # Position of every pixel along the direction of motion, wrapped so the bar keeps sweeping.
    along = (xs * dx + ys * dy) / max(1.0, float(np.hypot(dx, dy)))
    events = []
    for t in range(duration_ms):
        front = (phase + speed * t) % sensor
        dist = (front - along) % sensor
        lead = dist < width / 2
        trail = (dist >= width / 2) & (dist < width)
        for mask, pol in ((lead, 1), (trail, 0)):
            fire = mask & (rng.random(mask.shape) < rate)
            y, x = np.nonzero(fire)
            events.append(np.stack([np.full_like(x, t), x, y, np.full_like(x, pol)], axis=1))
        bg = rng.random((sensor, sensor)) < noise
        y, x = np.nonzero(bg)
        pol = rng.integers(0, 2, len(x))
        events.append(np.stack([np.full_like(x, t), x, y, pol], axis=1))
    return np.concatenate(events).astype(np.uint32)


def generate_events(
    nb_samples: int,
    classes: int,
    sensor: int = 32,
    duration_ms: int = 80,
    rate: float = 0.6,
    noise: float = 0.002,
    seed: int = 0,
) -> EventSet:
    """``nb_samples`` samples with balanced labels ``0..classes-1`` (shuffled)."""
    if not 2 <= classes <= len(DIRECTIONS):
        raise ValueError(f"classes = {classes} (allowed: 2-{len(DIRECTIONS)})")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(nb_samples) % classes).astype(np.int64)
    samples = [moving_bar(int(c), sensor, duration_ms, rate, noise, rng) for c in labels]
    return EventSet(samples, labels, (sensor, sensor))
