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
    "diagflat": (lambda m, x: m.diagflat(x, -1), [(2, 2)], {}),
    "index_fill": (lambda m, x: x.index_fill(1, m.tensor([0, 2]), -1.0), [(2, 3)], {}),
    "index_copy": (lambda m, x, s: m.index_copy(x, 0, m.tensor([2, 0]), s), [(3, 2), (2, 2)], {}),
    "masked_scatter": (lambda m, x, s: x.masked_scatter(x > 0, s), [(3, 4), (20,)], {}),
    "quantile": (lambda m, x: m.quantile(x, 0.3), [(3, 4)], {}),
    "quantile_dim_many": (lambda m, x: x.quantile(m.tensor([0.1, 0.5, 1.0], dtype=m.float64), dim=1,
                                                  keepdim=True), [(3, 4)], {}),
    "quantile_lower": (lambda m, x: m.quantile(x, 0.4, 0, interpolation="lower"), [(4, 3)], {}),
    "quantile_midpoint": (lambda m, x: x.quantile(0.4, 0, interpolation="midpoint"), [(4, 3)], {}),
    "quantile_nearest": (lambda m, x: x.quantile(0.5, interpolation="nearest"), [(4, 3)], {}),
    "cov": (lambda m, x: m.cov(x), [(3, 5)], {}),
    "cov_vector": (lambda m, x: x.cov(correction=0), [(5,)], {}),
    "corrcoef": (lambda m, x: m.corrcoef(x), [(3, 5)], {}),
    "vdot": (lambda m, a, b: m.vdot(a, b), [(4,), (4,)], {}),
    "ger": (lambda m, a, b: a.ger(b), [(3,), (2,)], {}),
    "dist": (lambda m, a, b: m.dist(a, b, 3), [(3, 2), (2,)], {}),
    "sum_to_size": (lambda m, x: x.sum_to_size(1, 3), [(2, 4, 3)], {}),
    "sinc": (lambda m, x: m.sinc(x * (x.abs() > 0.5)), [(3, 4)], {}),
    "erfc": (lambda m, x: x.erfc(), [(3, 4)], {}),
    "fix": (lambda m, x: m.fix(x * 3) * x, [(3, 4)], {}),
    "lgamma": (lambda m, x: m.lgamma(x * 4), [(3, 4)], {}),
    "digamma": (lambda m, x: x.digamma(), [(3, 4)], dict(low=0.2, high=9.0)),
    "polygamma": (lambda m, x: m.polygamma(2, x) + x.polygamma(1), [(3, 4)], dict(low=-3.0, high=12.0)),
    "erfinv": (lambda m, x: m.erfinv(x), [(3, 4)], dict(low=-0.99, high=0.99)),
    "unfold": (lambda m, x: x.unfold(1, 3, 2), [(2, 8)], {}),
    "unfold_overlapping": (lambda m, x: x.unfold(0, 2, 1) * 2, [(5, 2)], {}),
    "nanmedian": (lambda m, x: (x / (x > -1.5)).nanmedian(1).values, [(3, 5)], {}),
    "nanmedian_all": (lambda m, x: (x / (x > -1.5)).nanmedian(), [(3, 5)], {}),
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
                                  "lerp", "addcdiv", "kron", "cross", "logcumsumexp", "rot90",
                                  "index_copy", "masked_scatter", "quantile_dim_many", "cov",
                                  "corrcoef", "sinc", "lgamma", "polygamma", "erfinv",
                                  "unfold"])
def test_second_order_gradients_check_numerically(name):
    fn, shapes, rng_args = CASES[name]
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, rng_args, seed=5)]
    assert gradgradcheck(lambda *a: fn(cr, *a), xs)


def test_gamma_functions_match_torch_at_poles_and_extremes():
    data = [0.1, 0.5, 1.0, 2.5, 7.0, 30.0, 1e5, -0.5, -2.5, 0.0, -1.0, np.inf, np.nan, 1e-30, 3.7]
    for n in range(4):
        ours = cr.polygamma(n, cr.tensor(data, dtype=cr.float64)).numpy()
        ref = torch.polygamma(n, torch.tensor(data, dtype=torch.float64)).numpy()
        finite = np.isfinite(ref) & (np.abs(ref) < 1e30)  # PyTorch's poles come out huge or inf
        # PyTorch's trigamma is good to ~5e-10 (psi1(1) = pi^2/6 comes out 1.64493406764)
        np.testing.assert_allclose(ours[finite], ref[finite], rtol=1e-8, err_msg=f"n={n}")
        assert np.array_equal(np.isnan(ours[:-4]), np.isnan(ref[:-4])), n
    np.testing.assert_allclose(cr.lgamma(cr.tensor(data)).numpy(), torch.lgamma(torch.tensor(data)).numpy(),
                               rtol=4e-6)  # float32: a few ulp
    assert cr.digamma(cr.tensor([1, 2])).dtype == cr.float32
    with pytest.raises(RuntimeError, match="negative n"):
        cr.polygamma(-1, cr.ones(2))


def test_erfinv_edges_and_fill_diagonal_and_histc_match_torch():
    data = [-1.0, -0.999999, -0.5, 0.0, 1e-10, 0.9, 1.0, 1.5, np.nan]
    np.testing.assert_allclose(cr.erfinv(cr.tensor(data, dtype=cr.float64)).numpy(),
                               torch.erfinv(torch.tensor(data, dtype=torch.float64)).numpy(), rtol=1e-9)
    for shape, kw in (((3, 4), {}), ((7, 3), {"wrap": True}), ((7, 3), {}), ((2, 2, 2), {})):
        assert cr.zeros(*shape).fill_diagonal_(2.5, **kw).tolist() == torch.zeros(*shape).fill_diagonal_(
            2.5, **kw).tolist()
    for kw in ({"bins": 4, "min": 0, "max": 3}, {"bins": 3}):
        data = [1.0, 2.0, 1.0, 4.0, 2.5, -1.0]
        assert cr.histc(cr.tensor(data), **kw).tolist() == torch.histc(torch.tensor(data), **kw).tolist()
    with pytest.raises(RuntimeError, match="fill_diagonal_"):
        cr.zeros(2, 3, 4).fill_diagonal_(1.0)


def test_extreme_values_match_torch_in_float32():
    data = [0.0, -0.0, 1e-40, 30.0, -30.0, 1e30, np.inf, -np.inf, np.nan]
    for name in ("tan", "sinh", "cosh", "atan", "asinh", "expm1", "exp2", "reciprocal",
                 "frac", "log10"):
        with np.errstate(all="ignore"):
            ours = getattr(cr, name)(cr.tensor(data)).numpy()
        ref = getattr(torch, name)(torch.tensor(data)).numpy()
        # float32 libm results differ by a few ulp between CPUs and libraries: 4e-6 is ~30 ulp
        np.testing.assert_allclose(ours, ref, rtol=4e-6, atol=0, err_msg=name)


def test_integer_inputs_give_float_results_like_torch():
    for name in ("tan", "log10", "reciprocal", "exp2", "atan2", "xlogy"):
        args = (cr.tensor([1, 2, 3]),) * (2 if name in ("atan2", "xlogy") else 1)
        targs = (torch.tensor([1, 2, 3]),) * len(args)
        ours, ref = getattr(cr, name)(*args), getattr(torch, name)(*targs)
        assert ours.dtype.name == str(ref.dtype)[6:], name
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=4e-6)


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


def test_selection_and_predicate_helpers_match_torch():
    data = [1.0, -0.0, 0.0, -np.inf, np.inf, np.nan, -2.0]
    for name in ("isneginf", "isposinf", "signbit", "isreal"):
        assert getattr(cr, name)(cr.tensor(data)).tolist() == getattr(torch, name)(torch.tensor(data)).tolist()
    runs = [1, 1, 2, 2, 3, 1, 1]
    for kw in ({}, {"return_inverse": True, "return_counts": True}):
        ours, ref = cr.unique_consecutive(cr.tensor(runs), **kw), torch.unique_consecutive(torch.tensor(runs), **kw)
        ours, ref = (ours, ref) if isinstance(ref, tuple) else ((ours,), (ref,))
        assert [t.tolist() for t in ours] == [t.tolist() for t in ref]
    x = [[0.0, 1.0], [2.0, 0.0]]
    assert cr.tensor(x).argwhere().tolist() == torch.tensor(x).argwhere().tolist()
    c = cr.tensor(x)
    assert c.conj() is c and not c.is_conj() and c.H.tolist() == torch.tensor(x).H.tolist()
    assert c.adjoint().tolist() == torch.tensor(x).adjoint().tolist()


def test_random_fills_use_the_global_generator_and_their_ranges():
    cr.manual_seed(7)
    draws = [cr.zeros(1000).random_(2, 5), cr.zeros(1000).exponential_(2.0),
             cr.zeros(1000).geometric_(0.5), cr.zeros(1000).log_normal_(0.0, 0.5),
             cr.ones(1000).bernoulli(), cr.ones(3).multinomial(2)]
    assert set(draws[0].tolist()) == {2.0, 3.0, 4.0}
    assert draws[1].min().item() >= 0 and abs(draws[1].mean().item() - 0.5) < 6 * 0.5 / np.sqrt(1000)
    assert draws[2].min().item() >= 1 and draws[3].min().item() > 0
    assert draws[4].tolist() == [1.0] * 1000 and draws[5].shape == (2,)
    cr.manual_seed(7)
    assert cr.zeros(1000).random_(2, 5).tolist() == draws[0].tolist()


BAD = {
    "quantile_q_out_of_range": (lambda m: m.ones(3).quantile(1.5), "quantile"),
    "quantile_int_input": (lambda m: m.ones(3, dtype=m.int64).quantile(0.5), "quantile"),
    "cov_3d": (lambda m: m.ones(2, 2, 2).cov(), "cov"),
    "masked_scatter_short_source": (lambda m: m.ones(3).masked_scatter(m.ones(3, dtype=m.bool), m.ones(2)), "masked_scatter"),
    "index_fill_out_of_range": (lambda m: m.ones(3).index_fill(0, m.tensor([3]), 0.0), "index_fill"),
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
