"""Layers and functional activations against PyTorch: forward and gradients w.r.t. the
input and the parameters, in float32 and float64, with the same weights in both."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

from helpers import TOL, assert_close, magnitude

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


def _copy_params(cmod, tmod):
    with torch.no_grad():
        for (cn, cp), (tn, tp) in zip(cmod.named_parameters(), tmod.named_parameters()):
            assert cn == tn
            tp.copy_(torch.from_numpy(cp.detach().numpy().copy()))


def check_module(cmod, tmod, shape, dtype, seed=0, x=None):
    """Same weights and input in both; compare output, input gradient, parameter grads."""
    tmod = tmod.to(torch.float64 if dtype == np.float64 else torch.float32)
    cmod = cmod.to(cr.float64 if dtype == np.float64 else cr.float32)
    _copy_params(cmod, tmod)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype) * 2 if x is None else x.astype(dtype)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cy, ty = cmod(cx), tmod(tx)
    tol = TOL[dtype]
    assert cy.dtype.name == str(ty.dtype)[6:]
    assert_close(cy.detach().numpy(), ty.detach().numpy(), scale=magnitude(x), **tol)
    w = rng.uniform(0.5, 1.5, size=tuple(ty.shape)).astype(dtype)
    (cy * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    assert_close(cx.grad.numpy(), tx.grad.numpy(), **tol)
    assert cx.grad.dtype.name == str(tx.grad.dtype)[6:]
    for (n, cp), (_, tp) in zip(cmod.named_parameters(), tmod.named_parameters()):
        assert_close(cp.grad.numpy(), tp.grad.numpy(), err_msg=n, scale=magnitude(x), **tol)
        assert cp.grad.dtype == cp.dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7), (7,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(dtype, shape, bias):
    check_module(nn.Linear(7, 4, bias=bias), torch.nn.Linear(7, 4, bias=bias), shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_with_flatten(dtype):
    c = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 6), nn.Sigmoid(),
                      nn.Linear(6, 3), nn.LogSoftmax(dim=1))
    t = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 6), torch.nn.Tanh(),
                            torch.nn.Linear(6, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 3),
                            torch.nn.LogSoftmax(dim=1))
    check_module(c, t, (4, 3, 2, 2), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [
    lambda m: m.ReLU(), lambda m: m.Sigmoid(), lambda m: m.Tanh(), lambda m: m.LeakyReLU(),
    lambda m: m.LeakyReLU(0.3), lambda m: m.GELU(), lambda m: m.GELU(approximate="tanh"),
    lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(dim=-1), lambda m: m.Identity(),
    lambda m: m.Flatten(0, 1), lambda m: m.Flatten()])
def test_activations_and_shape_layers(dtype, make):
    check_module(make(nn), make(torch.nn), (3, 4, 5), dtype)


def test_activations_with_huge_inputs_are_finite():
    x = np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32)
    for name in ("softmax", "log_softmax"):
        c = getattr(F, name)(cr.tensor(x), dim=1).numpy()
        t = getattr(torch.nn.functional, name)(torch.tensor(x), dim=1).numpy()
        np.testing.assert_allclose(c, t)
    np.testing.assert_allclose(F.gelu(cr.tensor(x)).numpy(), torch.nn.functional.gelu(torch.tensor(x)).numpy())


def test_functional_forms_match():
    x = np.random.default_rng(3).standard_normal((4, 6))
    for cfn, tfn in [(lambda v: F.relu(v), torch.nn.functional.relu),
                     (lambda v: F.leaky_relu(v, 0.2), lambda v: torch.nn.functional.leaky_relu(v, 0.2)),
                     (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh),
                     (lambda v: F.linear(v, cr.ones(2, 6, dtype=cr.float64), cr.ones(2, dtype=cr.float64)),
                      lambda v: torch.nn.functional.linear(v, torch.ones(2, 6, dtype=v.dtype), torch.ones(2, dtype=v.dtype)))]:
        cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        cy, ty = cfn(cx), tfn(tx)
        assert_close(cy.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7,
                     scale=magnitude(x))
        cy.sum().backward(), ty.sum().backward()
        assert_close(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_one_hot():
    t = np.array([0, 3, 1, 3])
    np.testing.assert_array_equal(F.one_hot(cr.tensor(t)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(t)).numpy())
    out = F.one_hot(cr.tensor([[1, 0]]), num_classes=5)
    assert out.shape == (1, 2, 5) and out.dtype == cr.int64
    with pytest.raises(RuntimeError, match="index tensors"):
        F.one_hot(cr.tensor([1.0]))
    with pytest.raises(RuntimeError, match="out of range for num_classes=3"):
        F.one_hot(cr.tensor([3]), num_classes=3)


# ---- dropout ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_dropout_scaling_mask_gradient_and_dtype(dtype):
    cr.manual_seed(0)
    x = cr.ones(200, 500, dtype=dtype, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    assert y.dtype == dtype
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.01
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # g * mask


def test_dropout_eval_is_identity_and_seed_reproducible():
    d = nn.Dropout(0.5)
    x = cr.randn(10, 10)
    d.eval()
    assert d(x) is x
    d.train()
    cr.manual_seed(7)
    a = d(x).numpy().copy()
    cr.manual_seed(7)
    b = d(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, d(x).numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_rejects_bad_p():
    for p in (-0.1, 1.5, "a"):
        with pytest.raises(ValueError, match="between 0 and 1, but got"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(cr.ones(2), p=2)


def test_linear_default_init_matches_torch_bounds():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert lin.weight.dtype == cr.float32 and lin.weight.shape == (300, 400)
    cr.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.detach().numpy(), w)


def test_linear_wrong_width_names_both_sizes():
    with pytest.raises(RuntimeError, match=r"last dimension is 5, expected 7"):
        nn.Linear(7, 3)(cr.randn(2, 5))
    with pytest.raises(RuntimeError, match=r"in_features=7"):
        nn.Linear(7, 3)(cr.randn(2, 5))
