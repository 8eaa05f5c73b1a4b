"""Data for the workloads: generated ISCAS patterns, safe loading of user arrays, DVS readers."""

from .dvs_gesture import prepare_gesture
from .dvs_poker import prepare_poker
from .events import EventSet, PrepareSummary, load_events_npz, write_events_npz
from .files import load_array
from .patterns import poisson_input, smile_target

__all__ = [
    "EventSet",
    "PrepareSummary",
    "load_array",
    "load_events_npz",
    "poisson_input",
    "prepare_gesture",
    "prepare_poker",
    "smile_target",
    "write_events_npz",
]
