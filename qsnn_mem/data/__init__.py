"""Safe loading of user arrays. (The smile task's patterns are in :mod:`qsnn_mem.tasks.smile.data`,
DECOLLE's DVS readers and event files in :mod:`qsnn_mem.tasks.decolle.data`.)"""

from .files import load_array

__all__ = ["load_array"]
