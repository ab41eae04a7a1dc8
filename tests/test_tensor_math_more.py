"""More PyTorch math as functions and Tensor methods, against PyTorch: trigonometric and
hyperbolic functions, fused arithmetic (addcmul, addmm, lerp, ...), reshaping helpers
(tile, movedim, tensor_split, rot90, ...), their gradients, second order and in-place forms."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradgradcheck
from helpers import compare, requires_torch, torch

pytestmark = requires_torch

UNIT = dict(low=-0.9, high=0.9)
# name -> (function of (module, *inputs), input shapes, value range)
CASES = {
    "tan": (lambda m, x: m.tan(x), [(3, 4)], UNIT),
    "sinh": (lambda m, x: x.sinh(), [(3, 4)], {}),
    "cosh": (lambda m, x: m.cosh(x), [(3, 4)], {}),
    "asin": (lambda m, x: m.asin(x), [(3, 4)], UNIT),
    "arccos": (lambda m, x: x.arccos(), [(3, 4)], UNIT),
    "atan": (lambda m, x: m.atan(x), [(3, 4)], {}),
    "asinh": (lambda m, x: x.asinh(), [(3, 4)], {}),
    "acosh": (lambda m, x: m.acosh(x), [(3, 4)], dict(low=1.1, high=3.0)),
    "atanh": (lambda m, x: x.atanh(), [(3, 4)], UNIT),
    "log10": (lambda m, x: m.log10(x), [(3, 4)], dict(low=0.1, high=3.0)),
    "expm1": (lambda m, x: x.expm1(), [(3, 4)], {}),
    "exp2": (lambda m, x: m.exp2(x), [(3, 4)], {}),
    "reciprocal": (lambda m, x: x.reciprocal(), [(3, 4)], dict(low=0.5, high=2.0)),
    "frac": (lambda m, x: m.frac(x * 3), [(3, 4)], {}),
    "deg2rad": (lambda m, x: x.deg2rad(), [(3, 4)], {}),
    "rad2deg": (lambda m, x: m.rad2deg(x), [(3, 4)], {}),
    "logit": (lambda m, x: m.logit(x), [(3, 4)], dict(low=0.05, high=0.95)),
    "logit_eps": (lambda m, x: x.logit(eps=0.2), [(3, 4)], dict(low=0.05, high=0.95)),
    "atan2": (lambda m, a, b: m.atan2(a, b), [(3, 4), (4,)], {}),
    "hypot": (lambda m, a, b: a.hypot(b), [(3, 4), (3, 4)], {}),
    "logaddexp": (lambda m, a, b: m.logaddexp(a * 20, b), [(3, 4), (3, 1)], {}),
    "logaddexp2": (lambda m, a, b: a.logaddexp2(b), [(3, 4), (4,)], {}),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), [(3, 4), (3, 4)], dict(low=0.1, high=2.0)),
    "fmax": (lambda m, a, b: m.fmax(a, b), [(3, 4), (3, 4)], {}),
    "fmin": (lambda m, a, b: a.fmin(b), [(3, 4), (4,)], {}),
    "copysign": (lambda m, a, b: m.copysign(a, b), [(3, 4), (3, 4)], {}),
    "lerp": (lambda m, a, b, w: m.lerp(a, b, w), [(3, 4), (3, 4), (4,)], {}),
    "lerp_scalar": (lambda m, a, b: a.lerp(b, 0.25), [(3, 4), (3, 4)], {}),
    "addcmul": (lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), [(3, 4), (3, 4), (4,)], {}),
    "addcdiv": (lambda m, x, a, b: x.addcdiv(a, b, value=2), [(3, 4), (3, 4), (3, 4)], dict(low=0.5, high=2.0)),
    "addmm": (lambda m, x, a, b: m.addmm(x, a, b, beta=0.5, alpha=2), [(2, 4), (2, 3), (3, 4)], {}),
    "addmv": (lambda m, x, a, b: x.addmv(a, b), [(2,), (2, 3), (3,)], {}),
    "addr": (lambda m, x, a, b: m.addr(x, a, b, alpha=3), [(2, 3), (2,), (3,)], {}),
    "baddbmm": (lambda m, x, a, b: m.baddbmm(x, a, b, beta=0.5), [(2, 2, 4), (2, 2, 3), (2, 3, 4)], {}),
    "addbmm": (lambda m, x, a, b: x.addbmm(a, b), [(2, 4), (3, 2, 3), (3, 3, 4)], {}),
    "clamp_min": (lambda m, x: m.clamp_min(x, 0.1), [(3, 4)], {}),
    "clamp_max": (lambda m, x: x.clamp_max(-0.1), [(3, 4)], {}),
    "true_divide": (lambda m, a, b: m.true_divide(a, b), [(3, 4), (4,)], dict(low=0.5, high=2.0)),
    "float_power": (lambda m, a, b: a.float_power(b), [(3, 4), (3, 4)], dict(low=0.5, high=2.0)),
    "diff": (lambda m, x: m.diff(x, n=2, dim=1), [(3, 5)], {}),
    "diff_prepend": (lambda m, x, p: x.diff(dim=0, prepend=p), [(3, 4), (1, 4)], {}),
    "kron": (lambda m, a, b: m.kron(a, b), [(2, 3), (3, 2)], {}),
    "cross": (lambda m, a, b: m.cross(a, b, dim=1), [(2, 3), (2, 3)], {}),
    "nansum": (lambda m, x: m.nansum(x / (x > -0.5), 1), [(3, 4)], {}),
    "nanmean": (lambda m, x: (x / (x > -0.5)).nanmean(), [(3, 4)], {}),
    "aminmax": (lambda m, x: m.aminmax(x, dim=0).max - x.aminmax().min, [(3, 4)], {}),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x * 30, 1), [(3, 4)], {}),
    "tile": (lambda m, x: m.tile(x, (2, 1, 2)), [(2, 3)], {}),
    "tile_short": (lambda m, x: x.tile((2,)), [(2, 3)], {}),
    "movedim": (lambda m, x: m.movedim(x, (0, 2), (2, 0)), [(2, 3, 4)], {}),
    "moveaxis": (lambda m, x: x.moveaxis(0, -1), [(2, 3, 4)], {}),
    "swapdims": (lambda m, x: x.swapdims(0, 2), [(2, 3, 4)], {}),
    "ravel": (lambda m, x: m.ravel(x.t()), [(2, 3)], {}),
    "unflatten": (lambda m, x: x.unflatten(1, (2, -1)), [(2, 6)], {}),
    "take_along_dim": (lambda m, x: m.take_along_dim(x, x.argsort(1), 1), [(3, 4)], {}),
    "take_along_dim_flat": (lambda m, x: x.take_along_dim(m.tensor([5, 0, 5])), [(3, 4)], {}),
    "tensor_split": (lambda m, x: m.tensor_split(x, 3, dim=1)[0] * 2 + x.tensor_split([1, 3], 1)[2].sum(), [(2, 7)], {}),
    "hsplit": (lambda m, x: m.hsplit(x, 2)[1], [(2, 4)], {}),
    "vsplit": (lambda m, x: x.vsplit([1])[1], [(3, 4)], {}),
    "rot90": (lambda m, x: m.rot90(x, 1, (0, 1)), [(2, 3)], {}),
    "rot90_back": (lambda m, x: x.rot90(-1, (1, 2)), [(2, 3, 4)], {}),
}


def _arrays(shapes, rng_args, seed=0):
    rng = np.random.default_rng(seed)
    low, high = rng_args.get("low", -2.0), rng_args.get("high", 2.0)
    return [rng.uniform(low, high, size=s) for s in shapes]


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_gradient_match_torch(name):
    fn, shapes, rng_args = CASES[name]
    compare(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), shapes, np.float64,
            arrays=_arrays(shapes, rng_args))


@pytest.mark.parametrize("name", ["tan", "sinh", "asin", "atanh", "log10", "reciprocal",
                                  "logit", "atan2", "hypot", "logaddexp", "xlogy", "fmax",
                                  "lerp", "addcdiv", "kron", "cross", "logcumsumexp", "rot90"])
def test_second_order_gradients_check_numerically(name):
    fn, shapes, rng_args = CASES[name]
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, rng_args, seed=5)]
    assert gradgradcheck(lambda *a: fn(cr, *a), xs)


def test_extreme_values_match_torch_in_float32():
    data = [0.0, -0.0, 1e-40, 30.0, -30.0, 1e30, np.inf, -np.inf, np.nan]
    for name in ("tan", "sinh", "cosh", "atan", "asinh", "expm1", "exp2", "reciprocal",
                 "frac", "log10"):
        with np.errstate(all="ignore"):
            ours = getattr(cr, name)(cr.tensor(data)).numpy()
        ref = getattr(torch, name)(torch.tensor(data)).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=0, err_msg=name)


def test_integer_inputs_give_float_results_like_torch():
    for name in ("tan", "log10", "reciprocal", "exp2", "atan2", "xlogy"):
        args = (cr.tensor([1, 2, 3]),) * (2 if name in ("atan2", "xlogy") else 1)
        targs = (torch.tensor([1, 2, 3]),) * len(args)
        ours, ref = getattr(cr, name)(*args), getattr(torch, name)(*targs)
        assert ours.dtype.name == str(ref.dtype)[6:], name
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_fmax_and_fmin_ignore_nan_like_torch():
    a, b = [1.0, np.nan, np.nan, 2.0], [np.nan, 3.0, np.nan, 1.0]
    for name in ("fmax", "fmin"):
        np.testing.assert_array_equal(getattr(cr, name)(cr.tensor(a), cr.tensor(b)).numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())


def test_inplace_math_methods_match_torch_and_keep_the_graph():
    results = []
    for m in (cr, torch):
        leaf = m.tensor([[0.5, -0.25, 0.75], [0.1, 0.2, -0.3]], requires_grad=True)
        # each on its own copy: PyTorch refuses to modify an output its backward still needs
        ys = [(leaf * 1).sin_(), (leaf * 2).atan_(), (leaf * 3).expm1_(),
              (leaf * 1).clamp_min_(0.0), (leaf * 1).addcmul_(leaf, leaf, value=2),
              (leaf * 1).lerp_(leaf * leaf, 0.5), (leaf * 1).exp2_(), (leaf * 1).hypot_(leaf + 1)]
        y = m.stack(ys)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5)


def test_inplace_comparison_writes_zeros_and_ones_in_the_tensors_dtype():
    for m in (cr, torch):
        m.x = m.tensor([1.0, 2.0, 3.0])
        m.x.ge_(2.0)
    assert cr.x.tolist() == torch.x.tolist() and cr.x.dtype == cr.float32


def test_addmm_family_with_beta_zero_ignores_nan_in_the_input():
    x = cr.full((2, 2), float("nan"))
    out = cr.addmm(x, cr.eye(2), cr.ones(2, 2), beta=0)
    assert out.tolist() == torch.addmm(torch.full((2, 2), float("nan")), torch.eye(2),
                                       torch.ones(2, 2), beta=0).tolist()


def test_tensor_information_methods_match_torch():
    for dt in ("float32", "int64", "uint8", "bool"):
        c, t = cr.ones(2, 3, dtype=getattr(cr, dt)), torch.ones(2, 3, dtype=getattr(torch, dt))
        assert (c.is_cpu, c.itemsize, c.nbytes, c.is_signed(), c.is_complex()) == (
            t.is_cpu, t.itemsize, t.nbytes, t.is_signed(), t.is_complex()), dt
    assert cr.tensor([2.0]).is_nonzero() and not cr.tensor([0]).is_nonzero()
    assert cr.ones(2, 3).type_as(cr.ones(1, dtype=cr.int64)).dtype == cr.int64
    assert cr.tensor([300.0]).short().dtype == cr.int16 and cr.tensor([3]).byte().dtype == cr.uint8
    assert cr.ones(2, 3).is_same_size(cr.zeros(2, 3))


BAD = {
    "cross_without_size_3": (lambda m: m.cross(m.zeros(2, 2), m.zeros(2, 2), dim=1), "cross"),
    "unflatten_bad_sizes": (lambda m: m.zeros(2, 6).unflatten(1, (4, 2)), "unflatten"),
    "rot90_same_dims": (lambda m: m.zeros(2, 2).rot90(1, (0, 0)), "rot90"),
    "hsplit_indivisible": (lambda m: m.zeros(2, 5).hsplit(2), "hsplit"),
    "movedim_repeated": (lambda m: m.zeros(2, 3).movedim((0, 0), (1, 0)), "movedim"),
    "tensor_split_zero_sections": (lambda m: m.zeros(4).tensor_split(0), "tensor_split"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_a_clear_error_naming_the_op(case):
    fn, opname = BAD[case]
    with pytest.raises(Exception):
        fn(torch)
    with pytest.raises(RuntimeError, match=opname):
        fn(cr)
