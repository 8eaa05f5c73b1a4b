"""DECOLLE's event data: the DVS Gesture / DVS Poker readers behind ``qsnn-mem prepare``, the
prepared ``.npz`` event files and small generated event sets."""

from .dvs_gesture import prepare_gesture
from .dvs_poker import prepare_poker
from .events import EventSet, PrepareSummary, load_events_npz, write_events_npz
from .synthetic_events import generate_events

__all__ = [
    "EventSet",
    "PrepareSummary",
    "generate_events",
    "load_events_npz",
    "prepare_gesture",
    "prepare_poker",
    "write_events_npz",
]
