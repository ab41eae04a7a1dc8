"""cumprod(x, dim, dtype=float16) of float32 x: at a slice's first zero PyTorch's gradient
multiplies by the result before it as the result holds it, rounded to float16 (inf where
the float32 running product was 90,000), not by the float32 product of x."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _grad(M, values, weights):
    x = M.tensor(np.array(values, dtype=np.float32), requires_grad=True)
    y = M.cumprod(x, 0, dtype=M.float16)
    (y * M.tensor(np.array(weights, dtype=np.float16))).sum().backward()
    return y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("values", [
    [300.0, 300.0, 0.0, 2.0],            # 90,000 overflows float16: inf at the zero
    [1e-5, 1e-5, 0.0, 3.0],              # 1e-10 underflows float16: 0 at the zero
    [-4.2e-45, -4.2e-45, -1e30, -0.0],   # a NaN result before the zero: NaN there
])
def test_cumprod_with_dtype_gradient_at_the_first_zero_uses_the_rounded_result(values):
    weights = [0.75, 1.25, 0.5, 1.5]
    (got_y, got), (want_y, want) = _grad(cr, values, weights), _grad(torch, values, weights)
    np.testing.assert_array_equal(got_y, want_y)
    np.testing.assert_array_equal(got, want)  # NaN and inf in the same places


def test_cumprod_without_dtype_gradient_at_the_first_zero_is_the_product_of_the_others():
    values, weights = [2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]
    grads = []
    for M in (cr, torch):
        x = M.tensor(values, dtype=M.float64, requires_grad=True)
        (M.cumprod(x, 0) * M.tensor(weights, dtype=M.float64)).sum().backward()
        grads.append(x.grad.numpy())
    # x1: w1 x0 + w2 x0 x2 = 4 + 18; past x1 every product holds a zero besides x_i
    np.testing.assert_array_equal(grads[0], [1.0, 22.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("values", [
    [0.0, -np.inf, -0.0, -1.5e-323],  # the -inf between the zeros times g masked to 0: NaN
    [0.0, 2.0, 0.0, np.inf, 3.0],     # finite between the zeros: no NaN past the second
    [-2.0, -0.0, 0.0, -np.inf],       # nothing between the zeros
    [1.0, 0.0, np.inf, np.nan, 0.0, 5.0],
])
@pytest.mark.parametrize("dtype", [None, "float16"])
def test_cumprod_gradient_at_the_first_zero_runs_the_product_on_past_the_second(values, dtype):
    weights = np.linspace(0.5, 1.5, len(values))
    grads = []
    for M in (cr, torch):
        x = M.tensor(np.array(values), requires_grad=True)
        y = M.cumprod(x, 0, dtype=None if dtype is None else getattr(M, dtype))
        (y * M.tensor(weights.astype(str(y.dtype).split(".")[-1]))).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("src, dtype, values", [
    ("float32", "float64", [-1.4e-45, 0.0]),        # g · out not rounded to a float32 subnormal
    ("float32", "float64", [-1.4e-45, 3.0, 0.5]),
    ("float16", "float32", [30.0, -0.5, 0.75, 2.0]),  # g · out / x in float32, rounded once
    ("float16", "float32", [-0.0, -0.5, -0.5]),      # at the first zero: in float16
])
def test_cumprod_to_a_wider_dtype_differentiates_in_that_dtype_before_the_first_zero(
        src, dtype, values):
    weights = np.linspace(0.7, 1.3, len(values))
    grads = []
    for M in (cr, torch):
        x = M.tensor(np.array(values, dtype=src), requires_grad=True)
        y = M.cumprod(x, 0, dtype=getattr(M, dtype))
        (y * M.tensor(weights.astype(dtype))).sum().backward()
        grads.append(x.grad.numpy().astype(np.float64))
    # within two units of x's dtype: the reversed sum's order may round the last bit
    np.testing.assert_allclose(grads[0], grads[1], rtol=2 * np.finfo(src).eps, atol=0)
