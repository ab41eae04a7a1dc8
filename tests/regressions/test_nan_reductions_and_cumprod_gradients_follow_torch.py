"""Gradients at the edges of nansum, nanmean and cumprod, as PyTorch computes them."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
nan, inf = float("nan"), float("inf")


def _grad(M, fn, values, dtype="float32"):
    x = M.tensor(values, dtype=getattr(M, dtype), requires_grad=True)
    fn(M, x).sum().backward()
    return x.grad.detach().numpy().astype(np.float64)


def _same(fn, values, dtype="float32"):
    got, want = _grad(cr, fn, values, dtype), _grad(torch, fn, values, dtype)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=1e-6)


def test_nansum_sends_a_nan_gradient_on_at_a_nan_input():
    _same(lambda M, x: M.nansum(x) * nan, [nan, 1.0, 2.0])


def test_nanmean_over_a_dim_sends_a_nan_gradient_on_at_a_nan_input():
    _same(lambda M, x: M.nanmean(x, 1) * M.tensor([nan, 1.0]), [[nan, 1.0], [nan, 3.0]])


def test_nansum_gradient_is_zero_at_a_nan_input_when_the_gradient_is_finite():
    _same(lambda M, x: M.nansum(x, 0), [nan, 1.0, 2.0])


def test_cumprod_over_a_dim_of_size_one_passes_the_gradient_on():
    # float16 cast: -1e30 is -inf there; the gradient is still 1, not inf / -1e30
    _same(lambda M, x: M.cumprod(x, -1, dtype=M.float16).float(), [[-1e30], [1.0]])


def test_cumprod_gradient_at_the_first_zero_multiplies_the_prefix_last():
    _same(lambda M, x: M.cumprod(x, 0), [-inf, 0.0, -1.5e-323], dtype="float64")
    _same(lambda M, x: M.cumprod(x, 0), [2.0, 0.0, 3.0, 4.0], dtype="float64")


def test_nansum_to_an_integer_dtype_drops_nan_before_the_cast():
    for dt in ("int64", "int32"):
        values = [nan, 1.0, 2.5]
        got = cr.nansum(cr.tensor(values), dtype=getattr(cr, dt)).item()
        assert got == torch.nansum(torch.tensor(values), dtype=getattr(torch, dt)).item() == 3


def test_prod_of_everything_with_two_zeros_has_a_zero_gradient_even_beside_a_nan():
    _same(lambda M, x: M.prod(x), [0.0, nan, 0.0, 2.0])
    _same(lambda M, x: M.prod(M.sigmoid(x), dtype=M.float32), [-inf, nan, -inf, 1.0], dtype="float16")


def test_cumprod_gradient_at_the_first_zero_stops_before_the_second_zero():
    # the -inf after the second zero would make 0 * -inf = NaN in the full sum
    _same(lambda M, x: M.cumprod(x, 0) * M.tensor([1.0, 2.0, 3.0, 4.0]), [-2.0, -0.0, 0.0, -inf])


def test_cumprod_gradient_with_zeros_over_a_middle_dim_of_a_4d_tensor():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5))
    x[0, 0, 1, 2] = x[0, 1, 1, 2] = 0.0           # two zeros in one slice along dim 1
    x[1, 1, 3, 4] = 0.0
    _same(lambda M, t: M.cumprod(t, 1) * 1.5, x.tolist(), dtype="float64")
