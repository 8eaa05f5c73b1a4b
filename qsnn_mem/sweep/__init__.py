"""Precision sweeps: grids of workload fields × trials, run resumably on a process pool or Dask.

``spec`` parses and expands a sweep, ``point`` runs one point in a worker, ``executors`` picks
where points run, ``runner`` ties them together and keeps the sweep folder's index.
"""

from .point import MARKER, Job, Outcome, run_point
from .runner import INDEX, Plan, Summary, plan, run, run_sweep
from .spec import Axis, Point, Sweep, expand, parse_grid_option, read_sweep_file

__all__ = [
    "INDEX",
    "MARKER",
    "Axis",
    "Job",
    "Outcome",
    "Plan",
    "Point",
    "Summary",
    "Sweep",
    "expand",
    "parse_grid_option",
    "plan",
    "read_sweep_file",
    "run",
    "run_point",
    "run_sweep",
]
