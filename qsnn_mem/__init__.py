"""qsnn-mem: memory energy and area of on-chip learning in quantized spiking networks."""

__version__ = "0.1.0"
