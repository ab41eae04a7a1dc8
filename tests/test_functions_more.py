"""Smaller PyTorch functions real code reaches for: smooth_l1_loss/SmoothL1Loss, normalize,
heaviside, finfo/iinfo, and `out=` on the functions that take it — each against PyTorch."""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from helpers import assert_close, compare, magnitude, requires_torch, torch

pytestmark = requires_torch


# ---- smooth_l1_loss ------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [1.0, 0.25, 3.0, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_l1_loss_matches_torch_forward_and_backward(beta, reduction):
    compare(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            [(4, 5), (4, 5)])


def test_smooth_l1_loss_at_extremes_matches_torch():
    x = np.array([30.0, -1e30, 1e-300, 0.0, 5e-324])
    y = np.array([-30.0, 1e30, 0.0, 0.0, 0.0])
    compare(F.smooth_l1_loss, torch.nn.functional.smooth_l1_loss, None, arrays=[x, y])


def test_smooth_l1_loss_module_and_float32():
    loss = nn.SmoothL1Loss(beta=0.5, reduction="sum")
    assert loss.beta == 0.5 and isinstance(loss, nn.Module)
    compare(lambda a, b: loss(a, b), lambda a, b: torch.nn.SmoothL1Loss(beta=0.5, reduction="sum")(a, b),
            [(3, 4), (3, 4)], dtype=np.float32)


def test_smooth_l1_loss_rejects_negative_beta_and_bad_reduction():
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(cr.ones(2), cr.zeros(2), beta=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        F.smooth_l1_loss(cr.ones(2), cr.zeros(2), reduction="avg")
    with pytest.raises(RuntimeError, match="smooth_l1_loss: expected a floating-point input"):
        F.smooth_l1_loss(cr.tensor([1, 2]), cr.tensor([0, 0]))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.smooth_l1_loss(cr.ones(2), cr.ones(3))


def test_smooth_l1_loss_float16_and_zero_d_match_torch():
    for dtype in ("float16", "float32"):
        ours = F.smooth_l1_loss(cr.tensor([1.0, 2.0, -0.2], dtype=getattr(cr, dtype)),
                                cr.zeros(3, dtype=getattr(cr, dtype)), beta=0.5)
        theirs = torch.nn.functional.smooth_l1_loss(
            torch.tensor([1.0, 2.0, -0.2], dtype=getattr(torch, dtype)),
            torch.zeros(3, dtype=getattr(torch, dtype)), beta=0.5)
        assert ours.dtype.name == dtype
        np.testing.assert_allclose(float(ours), float(theirs), rtol=2e-3)
    assert F.smooth_l1_loss(cr.tensor(1.0), cr.tensor(3.0)).item() == 1.5


# ---- normalize ---------------------------------------------------------------------------
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (math.inf, 1)])
def test_normalize_matches_torch_forward_and_backward(p, dim):
    compare(lambda x: F.normalize(x, p=p, dim=dim), lambda x: torch.nn.functional.normalize(x, p=p, dim=dim),
            [(3, 4)])


def test_normalize_leaves_zero_rows_zero_with_zero_gradient_like_torch():
    x = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    compare(F.normalize, torch.nn.functional.normalize, None, arrays=[x])


def test_normalize_eps_bounds_the_divisor():
    x = np.array([[1e-8, 0.0]])
    compare(lambda t: F.normalize(t, eps=1e-3), lambda t: torch.nn.functional.normalize(t, eps=1e-3),
            None, arrays=[x])


def test_normalize_errors_for_integer_input_and_bad_dim():
    with pytest.raises(RuntimeError, match="floating"):
        F.normalize(cr.tensor([1, 2]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.normalize(cr.ones(3), dim=3)


# ---- heaviside -----------------------------------------------------------------------------
def test_heaviside_matches_torch_including_nan_and_broadcast_values():
    x = np.array([[-1.0, 0.0, 2.0, np.nan, -0.0, np.inf]])
    values = np.array([[0.5], [7.0]])
    ours = cr.heaviside(cr.tensor(x), cr.tensor(values)).numpy()
    theirs = torch.heaviside(torch.tensor(x), torch.tensor(values)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    ints = cr.tensor([-3, 0, 3]).heaviside(cr.tensor([7]))
    assert ints.dtype == cr.int64 and ints.tolist() == [0, 7, 1]


def test_heaviside_backward_raises_like_torch():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    y = cr.heaviside(x, cr.tensor(0.5))
    with pytest.raises(RuntimeError, match="derivative for heaviside is not implemented"):
        y.sum().backward()


def test_heaviside_rejects_mixed_dtypes_and_scalars():
    with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with "
                       "different dtypes"):
        cr.heaviside(cr.ones(2), cr.tensor(1))
    with pytest.raises(TypeError, match="argument 'values' must be a tensor"):
        cr.heaviside(cr.ones(2), 0.5)


# ---- finfo / iinfo ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_fields_match_torch_for_every_float_dtype(name):
    ours, theirs = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


def test_finfo_default_follows_the_default_dtype():
    assert cr.finfo().dtype == "float32"
    old = cr.get_default_dtype()
    try:
        cr.set_default_dtype(cr.float64)
        assert cr.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        cr.set_default_dtype(old)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_fields_match_torch_for_every_integer_dtype(name):
    ours, theirs = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_reject_the_other_kind():
    with pytest.raises(TypeError, match="finfo\\(\\) requires a floating point input type"):
        cr.finfo(cr.int32)
    with pytest.raises(TypeError, match="finfo\\(\\) requires a floating point input type"):
        cr.finfo(cr.bool)
    with pytest.raises(TypeError, match="iinfo\\(\\) requires an integer input type"):
        cr.iinfo(cr.float32)
    with pytest.raises(TypeError, match="bool is not supported by chainrule.iinfo"):
        cr.iinfo(cr.bool)
    with pytest.raises(TypeError, match="must be a chainrule dtype"):
        cr.finfo("float32")


# ---- out= ---------------------------------------------------------------------------------------
def _both(fn, *arrays, out_dtype=None, out_shape=None):
    """fn(lib, *tensors, out) for chainrule and torch; returns (returned, out) pairs."""
    res = []
    for lib in (cr, torch):
        xs = [lib.tensor(a) for a in arrays]
        dtype = getattr(lib, out_dtype) if out_dtype else None
        out = lib.empty(out_shape if out_shape is not None else (0,), dtype=dtype)
        res.append((fn(lib, *xs, out), out))
    return res


@pytest.mark.parametrize("name,call", [
    ("add", lambda L, a, b, o: L.add(a, b, alpha=2, out=o)),
    ("sub", lambda L, a, b, o: L.sub(a, b, out=o)),
    ("mul", lambda L, a, b, o: L.mul(a, b, out=o)),
    ("div", lambda L, a, b, o: L.div(a, b, out=o)),
    ("matmul", lambda L, a, b, o: L.matmul(a, b.T, out=o)),
    ("mm", lambda L, a, b, o: L.mm(a, b.T, out=o)),
    ("exp", lambda L, a, b, o: L.exp(a, out=o)),
    ("log", lambda L, a, b, o: L.log(a.abs(), out=o)),
    ("sum", lambda L, a, b, o: L.sum(a, 1, out=o)),
    ("mean", lambda L, a, b, o: L.mean(a, 0, keepdim=True, out=o)),
    ("maximum", lambda L, a, b, o: L.maximum(a, b, out=o)),
    ("clamp", lambda L, a, b, o: L.clamp(a, -0.5, 0.5, out=o)),
    ("cat", lambda L, a, b, o: L.cat([a, b], 0, out=o)),
    ("stack", lambda L, a, b, o: L.stack([a, b], out=o)),
    ("where", lambda L, a, b, o: L.where(a > b, a, b, out=o)),
    ("pow", lambda L, a, b, o: L.pow(a, 2, out=o)),
    ("sqrt", lambda L, a, b, o: L.sqrt(a.abs(), out=o)),
])
def test_out_writes_the_result_into_the_given_tensor_and_returns_it(name, call):
    a, b = np.random.default_rng(0).uniform(-2, 2, (2, 3, 3))
    for returned, out in _both(call, a, b, out_dtype="float64"):
        assert returned is out
    (co, _), (to, _) = _both(call, a, b, out_dtype="float64")
    assert tuple(co.shape) == tuple(to.shape)
    assert_close(co.numpy(), to.numpy(), rtol=1e-12, atol=1e-13, scale=magnitude(a, b) ** 2)


def test_out_casts_integer_results_into_a_float_out_but_not_float_into_integer():
    (co, _), (to, _) = _both(lambda L, a, o: L.add(a, 2, out=o), np.array([1, 2]),
                             out_dtype="float64", out_shape=(2,))
    assert co.dtype == cr.float64 and co.tolist() == to.tolist() == [3.0, 4.0]
    for bad in (lambda L: L.add(L.ones(3), 1, out=L.empty(3, dtype=L.int64)),
                lambda L: L.add(L.ones(3, dtype=L.int64), 1.5, out=L.empty(3, dtype=L.int64)),
                lambda L: L.add(L.ones(3, dtype=L.int64), 1, out=L.empty(3, dtype=L.bool))):
        with pytest.raises(RuntimeError) as ours:
            bad(cr)
        with pytest.raises(RuntimeError) as theirs:
            bad(torch)
        assert str(ours.value).split("(): ")[-1] == str(theirs.value)
    small = cr.add(cr.tensor([1, 2]), 2, out=cr.empty(2, dtype=cr.int8))
    assert small.dtype == cr.int8 and small.tolist() == [3, 4]
    half = cr.exp(cr.zeros(2), out=cr.empty(2, dtype=cr.float16))
    assert half.dtype == cr.float16 and half.tolist() == [1.0, 1.0]


def test_out_of_matmul_and_argmax_needs_the_exact_dtype_as_torch():
    with pytest.raises(RuntimeError, match="expected out tensor to have dtype float32, but got float64"):
        cr.mm(cr.ones(2, 2), cr.ones(2, 2), out=cr.empty(2, 2, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float"):
        torch.mm(torch.ones(2, 2), torch.ones(2, 2), out=torch.empty(2, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="expected out tensor to have dtype int64"):
        cr.argmax(cr.ones(2, 2), 0, out=cr.empty(2))


def test_out_of_wrong_shape_is_resized_with_a_warning_unless_empty():
    out = cr.zeros(2, 2)
    with pytest.warns(UserWarning, match="was resized since it had shape \\[2, 2\\]"):
        r = cr.add(cr.ones(3), 1, out=out)
    assert r is out and tuple(out.shape) == (3,) and out.tolist() == [2.0, 2.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = cr.empty(0)
        cr.mul(cr.ones(2, 3), 3, out=empty)
    assert tuple(empty.shape) == (2, 3)


def test_out_on_a_view_writes_through_to_the_base():
    for lib in (cr, torch):
        base = lib.zeros(4)
        lib.mul(lib.ones(3), 2, out=base[1:])
        assert base.tolist() == [0.0, 2.0, 2.0, 2.0]


def test_out_refuses_autograd_like_torch_but_works_under_no_grad():
    for lib in (cr, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="add\\(\\): functions with out=... arguments don't "
                           "support automatic differentiation, but one of the arguments requires grad"):
            lib.add(x, x, out=lib.empty(3))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.add(lib.ones(3), 1, out=lib.empty(3, requires_grad=True))
        with lib.no_grad():
            out = lib.empty(3, requires_grad=True)
            assert lib.add(x, x, out=out) is out and out.grad_fn is None
            assert out.tolist() == [2.0, 2.0, 2.0]


def test_out_bumps_the_version_so_saved_tensors_notice():
    for lib in (cr, torch):
        w = lib.ones(3, requires_grad=True)
        y = (w * w).sum()
        with lib.no_grad():
            lib.add(lib.zeros(3), 5, out=w)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_out_takes_a_tuple_for_values_and_indices():
    a = np.random.default_rng(1).normal(size=(3, 4))
    for lib in (cr, torch):
        values, indices = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64)
        res = lib.max(lib.tensor(a), 1, out=(values, indices))
        assert res.values is values and res.indices is indices
        np.testing.assert_array_equal(values.numpy(), a.max(1))
        np.testing.assert_array_equal(indices.numpy(), a.argmax(1))


def test_out_of_factories_takes_the_out_dtype():
    for lib in (cr, torch):
        z = lib.zeros(2, out=lib.empty(0, dtype=lib.int64))
        assert z.dtype == lib.int64 and z.tolist() == [0, 0]
        r = lib.arange(4, out=lib.empty(0, dtype=lib.float64))
        assert r.dtype == lib.float64 and r.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="exp\\(\\): argument 'out' must be a tensor, not list"):
        cr.exp(cr.ones(2), out=[1, 2])


@pytest.mark.parametrize("call", [
    lambda L, a, o: L.cumprod(a, 1, out=o),
    lambda L, a, o: L.atan2(a, a.abs() + 1, out=o),
    lambda L, a, o: L.addmm(a, a, a, out=o),
    lambda L, a, o: L.fmod(a, 0.7, out=o),
    lambda L, a, o: L.expm1(a, out=o)])
def test_out_on_the_pointwise_and_compound_functions_matches_torch(call):
    a = np.random.default_rng(2).uniform(-1, 1, (3, 3))
    (co, c_out), (to, _) = _both(call, a, out_dtype="float64")
    assert co is c_out
    np.testing.assert_allclose(co.numpy(), to.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("call", [lambda L, a, o: L.sort(a, 1, descending=True, out=o),
                                  lambda L, a, o: L.topk(a, 2, out=o),
                                  lambda L, a, o: L.cummax(a, 0, out=o)])
def test_out_tuple_on_values_and_indices_functions_matches_torch(call):
    a = np.random.default_rng(3).normal(size=(3, 4))
    got = []
    for lib in (cr, torch):
        out = (lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64))
        res = call(lib, lib.tensor(a), out)
        assert res[0] is out[0] and res[1] is out[1]
        got.append([o.numpy() for o in out])
    for c, t in zip(*got):
        np.testing.assert_array_equal(c, t)
