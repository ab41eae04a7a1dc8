"""Activations against PyTorch: elu, selu, celu, silu, mish, hardswish, hardsigmoid,
relu6, hardtanh, threshold, softshrink, hardshrink, rrelu, softsign, softmin, glu,
tanhshrink and their modules. Values and gradients over ordinary inputs and extreme ones
(±30, ±1e30, ±inf, NaN, the breakpoints themselves), float16/float32/float64, the in-place
forms, and the errors PyTorch raises."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, functional_raises_like_torch, functional_matches_torch, requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
# transcendental functions may differ in the last bits between libms
TOL = {np.float16: dict(rtol=2e-3, atol=1e-3), np.float32: dict(rtol=2e-6, atol=1e-7),
       np.float64: dict(rtol=1e-13, atol=1e-15)}
EXTREMES = [-np.inf, -1e30, -30.0, -3.0, -1.0, -0.5, -1e-8, -0.0, 0.0, 1e-8, 0.5, 1.0, 3.0,
            30.0, 1e30, np.inf, np.nan]
DTYPES = [np.float32, np.float64, np.float16]


def _values(dtype):
    rng = np.random.default_rng(0)
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(EXTREMES), rng.standard_normal(64 - len(EXTREMES)) * 4]).astype(dtype)


def _check(fn, dtype, *args, array=None, **kw):
    a = _values(dtype) if array is None else array.astype(dtype)
    return functional_matches_torch(fn, a, TOL[np.dtype(dtype).type], *args, **kw)


def _check_inplace(fn, *args, **kw):
    a = _values(np.float64)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = x * 1.0, t * 1.0
    ours = getattr(F, fn)(y, *args, inplace=True, **kw)
    theirs = getattr(torch.nn.functional, fn)(u, *args, inplace=True, **kw)
    assert ours is y
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
    assert_close(y.detach().numpy(), u.detach().numpy(), **TOL[np.float64])
    ours.sum().backward()
    theirs.sum().backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), **TOL[np.float64])


def _same_error(call, *words, array=None):
    a = np.array([-1.0, 0.5, 2.0], np.float32) if array is None else array
    functional_raises_like_torch(call, a, *words)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1.0, 0.3, -0.5])
def test_elu_matches_torch(dtype, alpha):
    ours, theirs = _check("elu", dtype, alpha)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "EluBackward0"


@pytest.mark.parametrize("dtype", DTYPES)
def test_selu_matches_torch(dtype):
    _check("selu", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_celu_matches_torch(dtype, alpha):
    _check("celu", dtype, alpha)


@pytest.mark.parametrize("dtype", DTYPES)
def test_silu_matches_torch(dtype):
    _check("silu", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mish_matches_torch(dtype):
    _check("mish", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hardswish_matches_torch_at_its_breakpoints(dtype):
    _check("hardswish", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hardsigmoid_matches_torch_at_its_breakpoints(dtype):
    _check("hardsigmoid", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-0.5, 3.0), (2.0, 2.0)])
def test_hardtanh_matches_torch_with_zero_gradient_at_the_bounds(dtype, bounds):
    _check("hardtanh", dtype, *bounds)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu6_matches_torch(dtype):
    ours, theirs = _check("relu6", dtype)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("th,value", [(0.5, -2.0), (-1.0, 20.0), (0.0, 0.0)])
def test_threshold_matches_torch(dtype, th, value):
    _check("threshold", dtype, th, value)


def test_threshold_and_hardtanh_keep_integer_dtypes():
    a = np.array([-3, 0, 2, 8], np.int64)
    for fn, args in (("threshold", (1, 5)), ("hardtanh", (0, 4)), ("relu6", ())):
        ours = getattr(F, fn)(cr.tensor(a), *args)
        theirs = getattr(torch.nn.functional, fn)(torch.tensor(a), *args)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lambd", [0.5, 0.0, 3.0])
def test_softshrink_matches_torch(dtype, lambd):
    _check("softshrink", dtype, lambd)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lambd", [0.5, 0.0, -1.0])
def test_hardshrink_matches_torch(dtype, lambd):
    _check("hardshrink", dtype, lambd)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_in_evaluation_is_leaky_relu_of_the_mean_slope(dtype):
    ours, theirs = _check("rrelu", dtype, 0.1, 0.3)
    assert type(ours.grad_fn).__name__ == "RreluWithNoiseBackward0"


def test_rrelu_in_training_draws_a_slope_per_negative_element_from_the_generator():
    x = cr.tensor(_values(np.float64)[np.isfinite(_values(np.float64))], requires_grad=True)
    cr.manual_seed(3)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slope = (y / x).detach().numpy()
    negative = x.detach().numpy() < 0
    assert ((slope[negative] >= 0.1) & (slope[negative] <= 0.3)).all()
    assert len(set(slope[negative])) == negative.sum()  # one draw per element
    np.testing.assert_array_equal(y.detach().numpy()[~negative], x.detach().numpy()[~negative])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[negative], slope[negative])
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.3, training=True).detach().numpy(),
                                  y.detach().numpy())


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # division's rule at inf
@pytest.mark.parametrize("dtype", DTYPES)
def test_softsign_matches_torch(dtype):
    _check("softsign", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanhshrink_matches_torch(dtype):
    _check("tanhshrink", dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmin_matches_torch(dtype):
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    for dim in (0, 1, -1):
        _check("softmin", dtype, dim, array=a)
    with pytest.warns(UserWarning, match="softmin"):
        F.softmin(cr.tensor(a))


@pytest.mark.parametrize("dtype", DTYPES)
def test_glu_matches_torch(dtype):
    a = np.random.default_rng(0).standard_normal((4, 6, 2)) * 3
    for dim in (0, 1, -2):
        _check("glu", dtype, dim, array=a)


@pytest.mark.parametrize("fn,args", [("elu", (0.7,)), ("selu", ()), ("celu", (1.5,)),
                                     ("silu", ()), ("mish", ()), ("hardswish", ()),
                                     ("hardsigmoid", ()), ("hardtanh", (-0.5, 2.0)),
                                     ("relu6", ()), ("threshold", (0.2, -1.0)),
                                     ("rrelu", (0.1, 0.2))])
def test_inplace_activations_match_torch(fn, args):
    _check_inplace(fn, *args)


def test_underscore_forms_change_their_input_as_torch():
    for fn, args in (("elu_", (0.5,)), ("selu_", ()), ("celu_", (2.0,)),
                     ("hardtanh_", (-1.0, 0.5)), ("threshold_", (0.1, 3.0)), ("rrelu_", ())):
        a = _values(np.float64)
        x, t = cr.tensor(a), torch.tensor(a)
        assert getattr(F, fn)(x, *args) is x
        getattr(torch.nn.functional, fn)(t, *args)
        assert_close(x.numpy(), t.numpy(), **TOL[np.float64])


def test_activations_of_an_empty_tensor():
    for fn in ("elu", "selu", "silu", "mish", "hardswish", "hardtanh", "softshrink"):
        assert getattr(F, fn)(cr.zeros(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("call,words", [
    (lambda F, x: F.celu(x, alpha=0.0), ["alpha", "0"]),
    (lambda F, x: F.hardtanh(x, 2.0, 1.0), ["min_val", "max_val"]),
    (lambda F, x: F.softshrink(x, -1.0), ["lambda", "-1"]),
    (lambda F, x: F.rrelu(x, 0.5, 0.2), ["Lower bound", "upper bound"]),
    (lambda F, x: F.glu(x, 0), ["Halving dimension", "size 3"]),
    (lambda F, x: F.glu(x, 1), []),
    (lambda F, x: F.glu(x[0]), ["scalars"]),
    (lambda F, x: F.elu(x.long()), ["Long"]),
    (lambda F, x: F.silu(x.long()), ["Long"]),
    (lambda F, x: F.mish(x.long()), ["Long"]),
    (lambda F, x: F.hardswish(x.long()), ["Long"]),
    (lambda F, x: F.hardsigmoid(x.long()), ["Long"]),
    (lambda F, x: F.softshrink(x.long()), ["Long"]),
    (lambda F, x: F.hardshrink(x.long()), ["Long"]),
    (lambda F, x: F.rrelu(x.long()), ["Long"]),
])
def test_activations_refuse_bad_arguments_as_torch(call, words):
    _same_error(call, *words)


def test_inplace_activation_of_a_leaf_requiring_grad_is_refused_as_torch():
    _same_error(lambda F, x: F.elu(x.requires_grad_(), inplace=True))
    _same_error(lambda F, x: F.relu6(x.requires_grad_(), inplace=True))


MODULES = ["ELU()", "ELU(alpha=2.0, inplace=True)", "SELU()", "SELU(True)", "CELU(0.5)",
           "SiLU()", "SiLU(True)", "Mish()", "Hardswish()", "Hardswish(True)", "Hardsigmoid()",
           "ReLU6()", "ReLU6(True)", "Hardtanh()", "Hardtanh(-2, 2, True)", "Softsign()",
           "Softmin(1)", "GLU()", "Tanhshrink()", "Softshrink()", "Hardshrink(0.3)",
           "Threshold(0.1, 20)", "Threshold(0.1, 20, True)", "RReLU()", "RReLU(0.1, 0.3)",
           "Softmax2d()"]


@pytest.mark.parametrize("spec", MODULES)
def test_activation_modules_have_torch_defaults_repr_and_output(spec):
    ours, theirs = eval("cr.nn." + spec).eval(), eval("torch.nn." + spec).eval()
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(0).standard_normal((2, 4, 3, 2)) * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(torch.tensor(a)).numpy()
        got = ours(cr.tensor(a)).numpy()
    assert_close(got, expected, **TOL[np.float64])
