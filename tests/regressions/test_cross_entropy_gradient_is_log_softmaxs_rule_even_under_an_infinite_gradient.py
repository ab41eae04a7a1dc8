"""cross_entropy's gradient is PyTorch's chain: the log-probabilities' gradient g_logp,
then log_softmax's rule g_logp - p · sum(g_logp), with p = exp(log_softmax) in float32 for
float16. Under an infinite incoming gradient the target's entry is -inf + p · inf = NaN
(not (p - 1) · inf), and a float16 p of 9e-14 times inf is inf (not 0 · inf = NaN)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

LOGITS = [[0.0, 1.0, 2.0], [-30.0, 0.0, 40.0], [-0.0, 30.0, 0.0]]
TARGET = [0, 2, 2]


def _grad(M, dtype, upstream, reduction, kw):
    kw = dict(kw)
    if "weight" in kw:
        kw["weight"] = M.tensor(np.array(kw["weight"], dtype=dtype))
    x = M.tensor(np.array(LOGITS, dtype=dtype), requires_grad=True)
    loss = M.nn.functional.cross_entropy(x, M.tensor(TARGET), reduction=reduction, **kw)
    (loss * M.tensor(np.array(upstream, dtype=dtype))).sum().backward()
    return x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("upstream", [np.inf, -np.inf, np.nan, 2.0])
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("kw", [{}, {"ignore_index": 1}, {"label_smoothing": 0.1},
                                {"weight": [0.5, 1.0, 2.0]}],
                         ids=["indices", "ignore", "smoothing", "weight"])
def test_cross_entropy_gradient_matches_torch(dtype, upstream, reduction, kw):
    got = _grad(cr, dtype, upstream, reduction, kw)
    want = _grad(torch, dtype, upstream, reduction, kw)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.where(np.isinf(got), got, 0), np.where(np.isinf(want), want, 0))
    finite = np.isfinite(want)
    rtol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=rtol * 1e-3)


def test_target_entry_under_an_infinite_gradient_is_nan():
    g = _grad(cr, "float32", np.inf, "sum", {})
    assert np.isnan(g[0, 0]) and g[0, 1] == np.inf  # -inf + p · inf; p · inf
    assert _grad(cr, "float16", np.inf, "sum", {})[1, 0] == np.inf  # float16 p = 9e-14 > 0
