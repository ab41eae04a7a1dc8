"""logcumsumexp stays stable for a prefix far below the overall maximum (forward, gradient
and second order), and var_mean/std_mean take the argument forms PyTorch takes."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch
INF = float("inf")


@pytest.mark.parametrize("data", [
    [0.0, 100.0], [100.0, 0.0, -100.0], [0.0, 100.0, -INF, INF, 3.0], [-INF, -INF, 2.0],
    [-200.0, -150.0, 90.0, 89.0]], ids=["rising", "falling", "infinities", "leading_-inf",
                                       "mixed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logcumsumexp_of_a_prefix_far_below_the_maximum_matches_torch(data, dtype):
    out = []
    w = np.linspace(-1.0, 2.0, len(data)).astype(dtype)  # negative weights: both parts
    for m in (cr, torch):
        x = m.tensor(np.array(data, dtype=dtype), requires_grad=True)
        y = m.logcumsumexp(x, 0)
        (y * m.tensor(w)).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy()))
    for got, want in zip(out[0], out[1]):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        assert_close(np.nan_to_num(got), np.nan_to_num(want), rtol=1e-5, atol=1e-6)


def test_logcumsumexp_second_derivative_matches_torch():
    data = np.array([[0.0, 100.0, 99.0], [-3.0, 1.0, 2.0]])
    out = []
    for m in (cr, torch):
        x = m.tensor(data, requires_grad=True)
        g, = m.autograd.grad((m.logcumsumexp(x, 1) * m.tensor([1.0, -2.0, 0.5])).sum(), x,
                             create_graph=True)
        (g * g).sum().backward()
        out.append((g.detach().numpy(), x.grad.numpy()))
    for got, want in zip(out[0], out[1]):
        assert_close(got, want, rtol=1e-9, atol=1e-10)


def test_logcumsumexp_of_integers_has_no_kernel_as_in_torch():
    for m in (cr, torch):
        with pytest.raises(NotImplementedError):
            m.logcumsumexp(m.tensor([1, 2]), 0)


FORMS = {
    "axis": lambda f, x: f(x, axis=1),
    "dim_keepdims": lambda f, x: f(x, dim=1, keepdims=True),
    "positional_unbiased": lambda f, x: f(x, False),
    "dim_unbiased_keepdim": lambda f, x: f(x, 1, False, True),
    "correction": lambda f, x: f(x, (0, 1), correction=0),
    "dim_list": lambda f, x: f(x, [0, 1], unbiased=False),
    "none": lambda f, x: f(x),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("name", ["var_mean", "std_mean", "var", "std"])
def test_var_mean_and_std_mean_accept_torchs_argument_forms(name, form):
    data = np.array([[1.0, 2.0, 4.0], [4.0, 5.0, 9.0]])
    got = FORMS[form](getattr(cr, name), cr.tensor(data))
    want = FORMS[form](getattr(torch, name), torch.tensor(data))
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert_close(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)
