"""Counting what a digital neuromorphic accelerator reads and writes to run the networks."""

from .table import AccessTable
from .tracer import SmileTracer

__all__ = ["AccessTable", "SmileTracer"]
