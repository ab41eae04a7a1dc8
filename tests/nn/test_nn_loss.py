"""Losses against PyTorch (forward and gradients w.r.t. input and target, float32 and
float64), the fused cross-entropy node, gradcheck of the new ops, and error messages."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.nn import functional as F

from helpers import TOL, assert_close, magnitude

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float32, np.float64]


def _pair(arr, grad=True):
    return cr.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad)


def check_loss(cfn, tfn, x, target, dtype, target_grad=False):
    cx, tx = _pair(x.astype(dtype))
    if target.dtype.kind == "f":
        ct, tt = _pair(target.astype(dtype), target_grad)
    else:
        ct, tt = cr.tensor(target), torch.tensor(target)
    cy, ty = cfn(cx, ct), tfn(tx, tt)
    tol = TOL[dtype]
    assert tuple(cy.shape) == tuple(ty.shape)
    assert cy.dtype.name == str(ty.dtype)[6:], (cy.dtype, ty.dtype)
    assert_close(cy.detach().numpy(), ty.detach().numpy(), scale=magnitude(x, target), **tol)
    w = np.random.default_rng(9).uniform(0.5, 1.5, size=tuple(ty.shape)).astype(dtype)
    (cy * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    assert_close(cx.grad.numpy(), tx.grad.numpy(), **tol)
    assert cx.grad.dtype == cx.dtype
    if target_grad:
        assert_close(ct.grad.numpy(), tt.grad.numpy(), **tol)


RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 5)) * 3
LABELS = RNG.integers(0, 5, size=6)
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2}, {"ignore_index": 2},
                                    {"weight": [1.0, 2.0, 0.5, 1.5, 3.0]},
                                    {"weight": [1.0, 2.0, 0.5, 1.5, 3.0], "label_smoothing": 0.1,
                                     "ignore_index": 1}])
def test_cross_entropy_index_targets(dtype, reduction, kwargs):
    cw = {k: (cr.tensor(np.array(v, dtype=dtype)) if k == "weight" else v) for k, v in kwargs.items()}
    tw = {k: (torch.tensor(np.array(v, dtype=dtype)) if k == "weight" else v) for k, v in kwargs.items()}
    labels = LABELS.copy()
    if "ignore_index" in kwargs:
        labels[[0, 3]] = kwargs["ignore_index"]
    check_loss(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **cw),
               lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **tw), LOGITS, labels, dtype)
    check_loss(lambda x, t: nn.CrossEntropyLoss(reduction=reduction, **cw)(x, t),
               lambda x, t: torch.nn.CrossEntropyLoss(reduction=reduction, **tw)(x, t),
               LOGITS, labels, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_ignore_index_default_and_out_of_range_label(dtype):
    labels = LABELS.copy()
    labels[1] = -100
    check_loss(F.cross_entropy, TF.cross_entropy, LOGITS, labels, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(dtype, reduction, smoothing):
    probs = np.random.default_rng(1).dirichlet(np.ones(5), size=6)
    check_loss(lambda x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
               lambda x, t: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
               LOGITS, probs, dtype, target_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_higher_dims_and_single_sample(dtype, reduction):
    x = np.random.default_rng(2).standard_normal((2, 4, 3, 2))
    t = np.random.default_rng(3).integers(0, 4, size=(2, 3, 2))
    check_loss(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
               lambda a, b: TF.cross_entropy(a, b, reduction=reduction), x, t, dtype)
    check_loss(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
               lambda a, b: TF.cross_entropy(a, b, reduction=reduction), LOGITS[0], np.array(2), dtype)


def test_cross_entropy_huge_logits_are_stable():
    x = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3]], dtype=np.float32)
    t = np.array([0, 2])
    check_loss(F.cross_entropy, TF.cross_entropy, x, t, np.float32)
    assert np.isfinite(F.cross_entropy(cr.tensor(x), cr.tensor([1, 0])).item())


def test_cross_entropy_is_one_fused_node_in_float32():
    x = cr.randn(256, 10, requires_grad=True)
    loss = F.cross_entropy(x, cr.randint(0, 10, (256,)))
    node = loss.grad_fn
    assert node.name() == "NllLossBackward0"
    assert node.next_functions == ((None, 0), (None, 0))  # straight to the leaf logits
    assert loss.dtype == cr.float32
    loss.backward()
    assert x.grad.dtype == cr.float32


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    x = cr.randn(8, 4, requires_grad=True)
    t = cr.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    F.cross_entropy(x, t).backward()
    p = F.softmax(x.detach(), dim=1).numpy()
    expected = (p - np.eye(4, dtype=np.float32)[t.numpy()]) / 8
    assert_close(x.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_cross_entropy_backward_twice_with_retain_graph():
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([0, 2, 1, 1]))
    loss.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)


def _gradcheck(fn, *arrays):
    inputs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)


def test_gradcheck_fused_ops():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3))
    t = cr.tensor([0, 2, 1, 2])
    for red in REDUCTIONS:
        _gradcheck(lambda a: F.cross_entropy(a, t, reduction=red), x)
        _gradcheck(lambda a: F.cross_entropy(a, t, reduction=red, label_smoothing=0.2,
                                             weight=cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)), x)
        _gradcheck(lambda a: F.nll_loss(a, t, reduction=red), x)
    probs = rng.dirichlet(np.ones(3), size=4)
    _gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1), x, probs)
    y = rng.uniform(0, 1, size=(4, 3))
    _gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), x, y)
    _gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, pos_weight=cr.tensor([1.0, 3.0, 0.5], dtype=cr.float64)), x, y)
    _gradcheck(lambda a, b: F.binary_cross_entropy(a, b), rng.uniform(0.1, 0.9, (4, 3)), y)
    _gradcheck(lambda a, b: F.huber_loss(a, b, delta=0.7), x, rng.standard_normal((4, 3)))
    _gradcheck(lambda a: F.leaky_relu(a, 0.1), x)
    _gradcheck(lambda a: F.gelu(a), x)
    _gradcheck(lambda a: F.gelu(a, approximate="tanh"), x)
    cr.manual_seed(0)
    mask_seed = 3

    def drop(a):
        cr.manual_seed(mask_seed)  # the same mask for every central difference
        return F.dropout(a, 0.4)
    _gradcheck(drop, x)


def test_cross_entropy_double_backward():
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    t = cr.tensor([1, 0, 3])
    (g,) = cr.autograd.grad(F.cross_entropy(x, t), [x], create_graph=True)
    (g * g).sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor([1, 0, 3])), [tx], create_graph=True)
    (tg * tg).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(dtype, reduction):
    logp = TF.log_softmax(torch.tensor(LOGITS), 1).numpy()
    labels = LABELS.copy()
    labels[2] = -100
    w = np.array([1.0, 0.5, 2.0, 1.0, 3.0], dtype=dtype)
    check_loss(lambda x, t: nn.NLLLoss(reduction=reduction)(x, t),
               lambda x, t: torch.nn.NLLLoss(reduction=reduction)(x, t), logp, labels, dtype)
    check_loss(lambda x, t: F.nll_loss(x, t, weight=cr.tensor(w), reduction=reduction),
               lambda x, t: TF.nll_loss(x, t, weight=torch.tensor(w), reduction=reduction),
               logp, labels, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "HuberLoss"])
def test_regression_losses(dtype, reduction, name):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3))
    check_loss(lambda a, b: getattr(nn, name)(reduction=reduction)(a, b),
               lambda a, b: getattr(torch.nn, name)(reduction=reduction)(a, b), x, y, dtype,
               target_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_huber_delta(dtype):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3))
    check_loss(lambda a, b: nn.HuberLoss(delta=0.5)(a, b),
               lambda a, b: torch.nn.HuberLoss(delta=0.5)(a, b), x, y, dtype, target_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_losses(dtype, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3)) * 4
    x[0, 0] = 0.0  # the gradient at exactly 0 is sigmoid(0) - y
    y = rng.uniform(0, 1, size=(4, 3))
    w = rng.uniform(0.5, 2, size=3).astype(dtype)
    pw = rng.uniform(0.5, 3, size=3).astype(dtype)
    check_loss(lambda a, b: nn.BCEWithLogitsLoss(reduction=reduction)(a, b),
               lambda a, b: torch.nn.BCEWithLogitsLoss(reduction=reduction)(a, b), x, y, dtype,
               target_grad=True)
    check_loss(lambda a, b: nn.BCEWithLogitsLoss(cr.tensor(w), reduction=reduction, pos_weight=cr.tensor(pw))(a, b),
               lambda a, b: torch.nn.BCEWithLogitsLoss(torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw))(a, b),
               x, y, dtype, target_grad=True)
    p = 1 / (1 + np.exp(-x))
    check_loss(lambda a, b: nn.BCELoss(reduction=reduction)(a, b),
               lambda a, b: torch.nn.BCELoss(reduction=reduction)(a, b), p, y, dtype,
               target_grad=True)


def test_bce_with_logits_huge_logits_and_bce_at_bounds():
    x = np.array([1e4, -1e4, 50.0], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0], dtype=np.float32)
    check_loss(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x, y, np.float32)
    p = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    c = F.binary_cross_entropy(cr.tensor(p), cr.tensor(y), reduction="none").numpy()
    t = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(c, t)


def test_float32_stays_float32_with_python_scalars():
    x = cr.randn(4, 3, requires_grad=True)
    for loss in (F.mse_loss(x, cr.zeros(4, 3)), F.huber_loss(x, cr.zeros(4, 3), delta=0.3),
                 F.cross_entropy(x, cr.tensor([0, 1, 2, 0]), label_smoothing=0.1),
                 F.binary_cross_entropy_with_logits(x, cr.ones(4, 3))):
        assert loss.dtype == cr.float32
        loss.backward()
        assert x.grad.dtype == cr.float32


# ---- errors ----------------------------------------------------------------------------
def test_cross_entropy_errors_name_the_problem():
    x = cr.randn(4, 3)
    with pytest.raises(RuntimeError, match="expected class-index targets of dtype int64") as e:
        F.cross_entropy(x, cr.tensor([0.0, 1.0, 2.0, 1.0]))
    assert "float32" in str(e.value) and "target.long()" in str(e.value)
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds \(number of classes 3"):
        F.cross_entropy(x, cr.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, cr.tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(5\)"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(RuntimeError, match="floating-point"):
        F.cross_entropy(cr.tensor([[1, 2]]), cr.tensor([0]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="weight should be a 1-D tensor of size 3"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 1]), weight=cr.ones(4))
    with pytest.raises(RuntimeError, match="expected class-index targets"):
        F.nll_loss(x, cr.rand(4, 3))


def test_regression_loss_shapes_warn_or_raise():
    with pytest.warns(UserWarning, match=r"target size \(3,\) that is different to the input size \(3, 1\)"):
        F.mse_loss(cr.randn(3, 1), cr.randn(3))
    with pytest.raises(RuntimeError, match=r"input of shape \(3, 2\) and target of shape \(4,\) cannot be broadcast"):
        nn.MSELoss()(cr.randn(3, 2), cr.randn(4))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        nn.L1Loss()(cr.randn(3), cr.randn(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(cr.randn(3), cr.randn(3))  # same shapes: no warning


def test_bce_errors():
    with pytest.raises(ValueError, match=r"Target size \(3,\) must be the same as input size \(2,\)"):
        F.binary_cross_entropy_with_logits(cr.randn(2), cr.rand(3))
    with pytest.raises(RuntimeError, match="should be between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5, 0.2]), cr.tensor([1.0, 0.0]))
