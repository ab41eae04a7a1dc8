"""A float32/float64 tensor ** -0.5 is 1 / sqrt(x), and ** -2 is 1 / (x * x) in x's dtype,
as PyTorch's CPU kernel computes them (not pow): (-inf) ** -0.5 is NaN, (-0) ** -0.5 is
-inf, and float32 1e20 ** -2 is 0. In place (pow_) as well; float16 keeps pow's answers."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

EDGES = [-np.inf, -0.0, 0.0, np.inf, np.nan, 1e20, 3e12, 1e-20, 1.1, -2.7e-15, 5e-39, 1e-310]


def _same(got, want, dtype):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.where(np.isinf(got), got, 0), np.where(np.isinf(want), want, 0))
    number = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))  # -0
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=2 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("exponent", [-0.5, -2, -2.0, 0.5, 2])
def test_pow_by_a_python_number_matches_torchs_kernel(dtype, exponent):
    x = np.array(EDGES, dtype=dtype)
    want = (torch.tensor(x) ** exponent).numpy()
    _same((cr.tensor(x) ** exponent).numpy(), want, dtype)
    y = cr.tensor(x)
    y.pow_(exponent)
    _same(y.numpy(), want, dtype)


def test_pow_by_minus_half_at_minus_infinity_and_minus_zero():
    x = cr.tensor([-np.inf, -0.0, 4.0])
    assert np.array_equal((x ** -0.5).numpy(), [np.nan, -np.inf, 0.5], equal_nan=True)
    assert (cr.tensor([1e20]) ** -2).tolist() == [0.0]  # 1e20 * 1e20 overflows float32


def test_gradient_of_pow_by_minus_half_and_minus_two_matches_torch():
    for exponent in (-0.5, -2):
        grads = []
        for M in (cr, torch):
            x = M.tensor([4.0, 0.25, 3.0], requires_grad=True)
            (x ** exponent).sum().backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
