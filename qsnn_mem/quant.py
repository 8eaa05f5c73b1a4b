"""Integer quantizers in the WAGE style of the ISCAS/ICONS papers.

A ``b``-bit signed value lives on the grid ``k / 2**(b-1)`` with integer code
``k in [-(2**(b-1) - 1), 2**(b-1) - 1]`` (symmetric, so it fits in ``b`` bits two's complement).
``bits=None`` means "not quantized" everywhere: the function returns its input unchanged.

Each quantizer keeps "to integer" (:func:`to_int`) apart from "back to float": the integer code is
what occupies ``bits`` in memory, so tests can prove that it fits.
"""

from __future__ import annotations

import math

import torch

Bits = int | None


def step(bits: int) -> float:
    """Grid resolution denominator: ``2**(bits-1)``."""
    return float(2 ** (bits - 1))


def bound(bits: int) -> float:
    """Largest magnitude on the ``bits`` grid: ``1 - 2**(1-bits)`` (``1`` for a 1-bit sign)."""
    return 1.0 if bits == 1 else 1.0 - 1.0 / step(bits)


def clip(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """``clamp(x, -bound(bits), bound(bits))``."""
    if bits is None:
        return x
    b = bound(bits)
    return x.clamp(-b, b)


def quant(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """``round(x * 2**(bits-1)) / 2**(bits-1)`` (round half to even); ``sign(x)`` for 1 bit."""
    if bits is None:
        return x
    if bits == 1:
        return torch.sign(x)
    s = step(bits)
    return torch.round(x * s) / s


def to_int(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Integer code of a value already on the ``bits`` grid: ``round(x * 2**(bits-1))``."""
    if bits == 1:
        return torch.sign(x).to(torch.int64)
    return torch.round(x * step(bits)).to(torch.int64)


def from_int(code: torch.Tensor, bits: int) -> torch.Tensor:
    """Inverse of :func:`to_int`: ``code / 2**(bits-1)`` (``code`` itself for 1 bit)."""
    if bits == 1:
        return code.to(torch.float32)
    return code.to(torch.float32) / step(bits)


def quantize(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """``quant(clip(x, bits), bits)``: the value stored in a ``bits``-bit register."""
    return quant(clip(x, bits), bits)


def shift(z: float) -> float:
    """Nearest power of two, ``2**round(log2 z)``; ``1`` for ``z == 0``."""
    if z == 0.0:
        return 1.0
    return 2.0 ** round(math.log2(z))


def quant_error(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """WAGE error quantizer: ``quant(clip(x / shift(max|x|), bits), bits)``.

    The tensor is normalised by the power of two nearest its largest magnitude and the scale is
    *not* restored, so every quantized error has magnitude at most ``bound(bits)``.
    """
    if bits is None:
        return x
    peak = float(x.abs().max()) if x.numel() else 0.0
    return quantize(x / shift(peak), bits)


def uniform_rng(shape: tuple[int, ...], rng_bits: Bits, generator: torch.Generator) -> torch.Tensor:
    """Uniform ``[0, 1)`` numbers at the resolution of an ``rng_bits``-bit RNG (on the CPU)."""
    r = torch.rand(shape, generator=generator)
    return quant(r, rng_bits)


def quant_grad(
    x: torch.Tensor,
    bits: Bits,
    rng_bits: Bits,
    generator: torch.Generator,
    lr: float = 1.0,
    weight_mult: float = 1.0,
) -> torch.Tensor:
    """WAGE gradient quantizer with stochastic rounding from an ``rng_bits``-bit RNG.

    ``n = lr * x / shift(max|x|)``; the fraction ``f = quant(|n| - floor|n|, rng_bits)`` rounds up
    iff ``f >= r`` with ``r = quant(U[0, 1), rng_bits)``;
    result ``= sign(n) * (floor|n| + [f >= r]) / 2**(bits-1) * weight_mult``.
    The random numbers are drawn on the CPU so that every device gives the same result.
    ``bits=None`` returns ``x`` unchanged (the pre-scale ``lr`` belongs to the quantizer).
    """
    if bits is None:
        return x
    peak = float(x.abs().max()) if x.numel() else 0.0
    n = lr * x / shift(peak)
    mag = n.abs()
    whole = torch.floor(mag)
    frac = quant(mag - whole, rng_bits)
    r = uniform_rng(tuple(x.shape), rng_bits, generator).to(x.device)
    code = torch.sign(n) * (whole + (frac >= r).to(x.dtype))
    return code / step(bits) * weight_mult


def quant01(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """Unsigned grid on ``[0, 1]``: ``round(x * 2**bits) / 2**bits`` (``2**bits + 1`` levels)."""
    if bits is None:
        return x
    s = float(2**bits)
    return torch.round(x * s) / s


def quant11(x: torch.Tensor, bits: Bits) -> torch.Tensor:
    """Signed grid on ``[-1, 1]``: ``round(x * (2**(bits-1) - 1)) / (2**(bits-1) - 1)``."""
    if bits is None:
        return x
    s = float(2 ** (bits - 1) - 1)
    return torch.round(x * s) / s
