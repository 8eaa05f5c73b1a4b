"""Reports on a sweep: price every run on every organization, draw the figures, write report.md.

``collect`` finds and prices runs, ``analysis`` computes the figures' numbers, ``figures``
draws them, ``markdown`` writes report.md, ``build`` ties them together.
"""

from .build import Report, build_report

__all__ = ["Report", "build_report"]
