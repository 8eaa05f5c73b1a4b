"""The two scales of the smile task's spike-train distance, named once for metrics.csv, the run's
loss.png and the report.

Both are the same filtered difference ``d = ũ_out − ũ_target`` (``ũ_t = decay·ũ_{t−1} + x_t``):

* the **training loss**, ``sqrt(Σd² / τ_syn)``: the reference's normalisation, which the
  gradient follows (``loss`` in metrics.csv, the number the reference prints);
* the **van Rossum distance**, ``sqrt(Δt · Σd² / τ_vr)``: the textbook normalisation,
  dimensionless and independent of the synapse (``van_rossum`` in metrics.csv).

The distance is the loss times ``sqrt(Δt · τ_syn / τ_vr)``: with the defaults (Δt = 1 ms,
τ_syn = τ_vr = 5 ms) ``1/sqrt(1000)``. loss.png and the report both plot the van Rossum
distance, under :data:`DISTANCE_LABEL`; loss.png shows the training loss on its second axis.
"""

from __future__ import annotations

import math

DISTANCE_LABEL = "van Rossum distance √(Δt·Σd²/τ_vr)"
LOSS_LABEL = "training loss √(Σd²/τ_syn) (reference)"


def distance_per_loss(time_step: float, tau_syn: float, tau_vr: float) -> float:
    """Van Rossum distance per unit of training loss: ``sqrt(Δt · τ_syn / τ_vr)``."""
    return math.sqrt(time_step * tau_syn / tau_vr)
