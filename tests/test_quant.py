"""Properties of the WAGE quantizers and their fused-kernel twins."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qsnn_mem import quant
from qsnn_mem import quant_kernels as kernels

bits_st = st.integers(min_value=2, max_value=16)
values_st = st.lists(
    st.floats(min_value=-4, max_value=4, allow_nan=False, width=32), min_size=1, max_size=50
)


@given(values=values_st, bits=bits_st)
def test_integer_code_fits_in_bits(values, bits):
    x = quant.quantize(torch.tensor(values), bits)
    code = quant.to_int(x, bits)
    assert int(code.min()) >= -(2 ** (bits - 1)) and int(code.max()) <= 2 ** (bits - 1) - 1
    assert torch.equal(quant.from_int(code, bits), x)


@given(values=values_st, bits=bits_st)
def test_quantize_is_idempotent_and_bounded(values, bits):
    x = quant.quantize(torch.tensor(values), bits)
    assert torch.equal(quant.quantize(x, bits), x)
    assert float(x.abs().max()) <= quant.bound(bits)


@given(values=values_st, bits=bits_st)
def test_quantize_rounds_to_nearest_inside_the_range(values, bits):
    x = torch.tensor(values)
    inside = x.abs() <= quant.bound(bits)
    err = (quant.quantize(x, bits) - x).abs()[inside]
    assert bool((err <= 0.5 / quant.step(bits) + 1e-7).all())


def test_one_bit_is_the_sign():
    x = torch.tensor([-0.3, 0.0, 2.0])
    assert quant.quantize(x, 1).tolist() == [-1.0, 0.0, 1.0]


@given(values=values_st, bits=bits_st)
def test_error_quantizer_normalises_by_a_power_of_two(values, bits):
    x = torch.tensor(values)
    q = quant.quant_error(x, bits)
    assert float(q.abs().max()) <= quant.bound(bits)
    peak = float(x.abs().max())
    if peak > 0:
        # The largest value lands within a factor sqrt(2) of 1 before clipping.
        expected = quant.quantize(x / quant.shift(peak), bits)
        assert torch.equal(q, expected)


def test_bits_none_is_identity():
    x = torch.randn(20)
    g = torch.Generator().manual_seed(0)
    for fn in (quant.quantize, quant.quant_error, quant.quant01, quant.quant11):
        assert fn(x, None) is x
    assert quant.quant_grad(x, None, 16, g, lr=0.1) is x


def test_shift_is_the_nearest_power_of_two():
    assert quant.shift(0.0) == 1.0
    assert quant.shift(3.0) == 4.0
    assert quant.shift(0.7) == 0.5
    assert quant.shift(1.5) == 2.0  # log2(1.5) = 0.58 rounds up


def test_gradients_are_ternary_at_the_reference_prescale():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 250)
    q = quant.quant_grad(x, 8, 16, g, lr=0.1)
    assert set(torch.unique(q * 128).tolist()) <= {-1.0, 0.0, 1.0}
    # Non-zero with probability |n| = 0.1 |x| / shift(max|x|): a couple of percent.
    frac = float((q != 0).float().mean())
    n = 0.1 * x.abs() / quant.shift(float(x.abs().max()))
    assert frac == pytest.approx(float(n.mean()), rel=0.1)


def test_stochastic_rounding_is_unbiased():
    g = torch.Generator().manual_seed(1)
    x = torch.full((200_000,), 0.3)
    x[0] = 1.0  # sets the normalisation to 1
    q = quant.quant_grad(x, 4, 16, g, lr=2.5)  # n = 0.75 -> 0 or 1 with p(1) = 0.75
    assert float((q[1:] * 8).mean()) == pytest.approx(0.75, abs=0.005)


def test_rng_resolution_limits_the_random_numbers():
    g = torch.Generator().manual_seed(2)
    r = quant.uniform_rng((1000,), 4, g)
    assert set((r * 8).tolist()) <= {float(k) for k in range(9)}


def test_unsigned_and_symmetric_grids():
    x = torch.tensor([0.0, 0.3, 1.0])
    assert quant.quant01(x, 2).tolist() == [0.0, 0.25, 1.0]
    assert quant.quant11(torch.tensor([-1.0, 0.4]), 3).tolist() == pytest.approx([-1.0, 1 / 3])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1000),
    gb=st.sampled_from([None, 4, 8, 12]),
    rb=st.sampled_from([None, 4, 16]),
)
def test_kernel_gradient_quantizer_matches_the_specification(seed, gb, rb):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(30, 20, generator=gen) * (torch.rand(30, 20, generator=gen) < 0.5)
    spec = quant.quant_grad(x / 16.0, gb, rb, torch.Generator().manual_seed(7), lr=0.1)
    uniform = torch.rand(x.shape, generator=torch.Generator().manual_seed(7)).numpy()
    fused, nnz = kernels.quant_grad(
        x.numpy(),
        uniform,
        0.0 if gb is None else quant.step(gb),
        0.0 if rb is None else quant.step(rb),
        0.1,
        16.0,
    )
    assert np.array_equal(fused, spec.numpy())
    assert nnz == int(torch.count_nonzero(spec))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), eb=st.sampled_from([None, 2, 6, 8]))
def test_kernel_error_quantizer_matches_the_specification(seed, eb):
    x = torch.randn(25, 15, generator=torch.Generator().manual_seed(seed)) * 3
    fused, col_nnz = kernels.quant_error_matrix(x.numpy(), 0.0 if eb is None else quant.step(eb))
    spec = quant.quant_error(x, eb)
    assert np.array_equal(fused, spec.numpy())
    assert col_nnz.tolist() == torch.count_nonzero(spec, dim=0).tolist()
