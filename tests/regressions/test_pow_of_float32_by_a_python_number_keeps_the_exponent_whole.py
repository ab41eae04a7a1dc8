"""x ** b for a float32 tensor and a Python number b: PyTorch keeps b a double, so an odd
2 ** 40 - 1 stays odd ((-1.5) ** b is -inf, not the inf of float32's even 2 ** 40), and
the gradient b · x ** (b - 1) takes the same kernel as the forward (rsqrt for b - 1 = -0.5:
-inf at -0)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

EDGES = [-1.5, -0.5, 1.0001, -1.0, -0.0, 0.0, np.inf, -np.inf, 3.0]


def _run(M, dtype, exponent):
    x = M.tensor(np.array(EDGES, dtype=dtype), requires_grad=True)
    y = x ** exponent
    y.sum().backward()
    return y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", [2 ** 40, 2 ** 40 - 1, 2 ** 24 + 1, 16777217.0, 0.5, -0.5,
                                      1, -1, 2, -2, 3, -3, 1.5, 2.5, 0])
def test_pow_and_its_gradient_by_a_python_number_match_torch(dtype, exponent):
    with np.errstate(all="ignore"):
        for got, want in zip(_run(cr, dtype, exponent), _run(torch, dtype, exponent)):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)
            finite = np.isfinite(want) & (want == 0)
            np.testing.assert_array_equal(np.signbit(got[finite]), np.signbit(want[finite]))


def test_an_odd_exponent_past_float32s_integers_stays_odd():
    x = cr.tensor([-1.5, -1.0], requires_grad=True)
    y = x ** (2 ** 40 - 1)
    assert y.tolist() == [-np.inf, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [np.inf, float(2 ** 40)]  # b · x ** (b - 1), b - 1 even
