"""A float remainder that is zero keeps the dividend's sign in PyTorch (fmod, moved to the
divisor's sign only when not zero): -3.0 % 3 is -0.0 and 3.0 % -3 is 0.0, where NumPy's
takes the divisor's sign. 1 / that zero (a later pow_(-1)) shows the sign."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

VALUES = [-0.0, 0.0, 3.0, -3.0, 1e30, -1e30, 6.0, -6.0, 7.5, -7.5, np.inf, -np.inf, np.nan, 1e-45]


def _remainders(M, dtype):
    a = M.tensor(np.array(VALUES, dtype=dtype))
    return [M.remainder(a.reshape(-1, 1), a.reshape(1, -1)), M.remainder(a, 2.5),
            M.remainder(a, -3), 7.0 % a, -6 % a]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_remainder_matches_torch_with_the_sign_of_zero(dtype):
    with np.errstate(all="ignore"):
        for got, want in zip(_remainders(cr, dtype), _remainders(torch, dtype)):
            got, want = got.numpy(), want.numpy()
            np.testing.assert_array_equal(got, want)
            number = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))


def test_reciprocal_of_a_zero_remainder_has_the_dividends_sign():
    x = cr.remainder(cr.tensor([-30.0, 30.0]), 2)
    assert np.signbit(x.numpy()).tolist() == [True, False]
    x.pow_(-1)
    assert x.tolist() == [-np.inf, np.inf]


def test_integer_remainder_takes_the_divisors_sign():
    a = cr.tensor([5, -5, 6, -6])
    assert cr.remainder(a, 3).tolist() == [2, 1, 0, 0]
    assert cr.remainder(a, -3).tolist() == [-1, -2, 0, 0]
