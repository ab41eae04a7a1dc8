"""Numerics at the edges, each compared with PyTorch in float32 and float64: stable
sigmoid tails, log-sigmoid and softplus, float16 reductions past 65,504 elements, long
float32 cumsums, finite gradients where PyTorch's are finite, integer wrap-around and
division by zero, and cross-entropy with -inf logits and ignored targets."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as crF

torch = pytest.importorskip("torch")
tF = torch.nn.functional
FLOATS = ["float32", "float64"]


def _pair(values, dtype, grad=True):
    arr = np.asarray(values, dtype=dtype)
    return (cr.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad))


def _same(ours, theirs, rtol=None):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy()
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    rtol = rtol or {"float16": 1e-2, "float32": 1e-5, "float64": 1e-9}.get(str(b.dtype), 0)
    finite = np.isfinite(b)
    # relative to the largest value, and never below a few of the dtype's smallest steps
    scale = float(np.max(np.abs(b[finite]), initial=0.0))
    tiny = float(np.finfo(b.dtype).smallest_subnormal) * 4 if b.dtype.kind == "f" else 0.0
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.where(finite, 0, a), np.where(finite, 0, b))
    np.testing.assert_allclose(a[finite], b[finite], rtol=rtol, atol=max(rtol * 1e-3 * scale, tiny))


def _value_and_grad(fn, ours, theirs):
    out_c, out_t = fn(cr, crF, ours), fn(torch, tF, theirs)
    out_c.sum().backward()
    out_t.sum().backward()
    _same(out_c, out_t)
    _same(ours.grad, theirs.grad)


# ---- sigmoid, log-sigmoid, softplus, BCE ---------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_is_exact_on_both_tails(dtype):
    x = [-1000.0, -104.0, -30.0, -20.0, -1.0, 0.0, 1.0, 20.0, 30.0, 1000.0]
    _value_and_grad(lambda m, F, t: m.sigmoid(t), *_pair(x, dtype))
    assert cr.sigmoid(cr.tensor([-20.0])).item() == pytest.approx(2.0611537e-9, rel=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_of_sigmoid_stays_finite_at_minus_30(dtype):
    _value_and_grad(lambda m, F, t: m.log(m.sigmoid(t)), *_pair([-30.0, -5.0, 30.0], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsigmoid_matches_torch_far_into_both_tails(dtype):
    _value_and_grad(lambda m, F, t: F.logsigmoid(t),
                    *_pair([-1e4, -800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 1e4], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 5.0), (0.5, 1.0)])
def test_softplus_beta_and_threshold_match_torch(dtype, beta, threshold):
    x = [-1e4, -50.0, -3.0, -0.1, 0.0, 2.4, 2.6, 10.0, 30.0, 1e4]
    _value_and_grad(lambda m, F, t: F.softplus(t, beta=beta, threshold=threshold),
                    *_pair(x, dtype))


def test_softplus_and_logsigmoid_modules_match_functional():
    x = cr.tensor([-3.0, 0.5, 25.0])
    sp = cr.nn.Softplus(beta=2.0, threshold=10.0)
    assert sp(x).tolist() == crF.softplus(x, 2.0, 10.0).tolist()
    assert repr(sp) == "Softplus(beta=2.0, threshold=10.0)"
    assert cr.nn.LogSigmoid()(x).tolist() == crF.logsigmoid(x).tolist()


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_of_saturated_sigmoid_clamps_log_at_minus_100_like_torch(dtype):
    def loss(m, F, z):
        return F.binary_cross_entropy(m.sigmoid(z), m.tensor([1.0, 0.0, 1.0, 0.0],
                                                                dtype=z.dtype), reduction="none")
    _value_and_grad(loss, *_pair([-120.0, 120.0, -30.0, 17.0], dtype))


# ---- float16 reductions over more than 65,504 elements; long float32 cumsum -------------------
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "norm"])
def test_float16_reduction_over_70000_elements_accumulates_in_float32(name):
    arr = np.random.default_rng(0).uniform(0.5, 1.5, 70_000).astype(np.float16)
    ours, theirs = cr.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    _value_and_grad(lambda m, F, t: getattr(t, name)(), ours, theirs)
    assert np.isfinite(ours.detach().numpy()).all() and ours.grad.abs().sum().item() > 0


def test_float16_mse_loss_over_70000_elements_and_its_gradient():
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(-2, 2, 70_000).astype(np.float16) for _ in range(2))
    ours, theirs = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _value_and_grad(lambda m, F, t: F.mse_loss(t, m.tensor(b)), ours, theirs)


def test_float16_log_softmax_over_100000_elements_has_finite_gradient():
    arr = np.random.default_rng(4).uniform(-2, 2, 100_000).astype(np.float16)
    ours, theirs = cr.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    out_c, out_t = crF.log_softmax(ours.relu(), 0), tF.log_softmax(theirs.relu(), 0)
    (out_c * -0.75).sum().backward()
    (out_t * -0.75).sum().backward()
    _same(out_c, out_t)
    # PyTorch's backward reads the float16-rounded output; within a few float16 steps
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-2, atol=2e-2)


def test_float32_cumsum_over_a_million_elements_does_not_drift():
    arr = np.random.default_rng(2).uniform(0.0, 1.0, 1_000_000).astype(np.float32)
    ours = cr.tensor(arr).cumsum(0).numpy()
    exact = np.cumsum(arr, dtype=np.float64)
    np.testing.assert_allclose(ours, exact, rtol=1e-6)
    np.testing.assert_allclose(ours, torch.tensor(arr).cumsum(0).numpy(), rtol=1e-6)


def test_float16_norm_does_not_overflow_when_the_result_fits():
    arr = np.full(4, 300.0, dtype=np.float16)  # squares overflow float16, the norm is 600
    _value_and_grad(lambda m, F, t: t.norm(), *_pair(arr, "float16"))
    assert cr.tensor(arr).norm().item() == 600.0


# ---- gradients PyTorch keeps finite ---------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_std_of_a_constant_has_zero_gradient(dtype):
    _value_and_grad(lambda m, F, t: t.std(), *_pair([2.0, 2.0, 2.0], dtype))
    _value_and_grad(lambda m, F, t: t.std(dim=1), *_pair([[1.0, 1.0], [0.0, 3.0]], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_zero_exponent_at_zero_has_zero_gradient(dtype):
    _value_and_grad(lambda m, F, t: t ** 0, *_pair([0.0, 1.0, -2.0], dtype))
    _value_and_grad(lambda m, F, t: t ** m.zeros(3, dtype=t.dtype), *_pair([0.0, 1.0, 2.0], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [3, 1.5, 4.0])
def test_p_norm_at_zero_has_zero_gradient(dtype, p):
    _value_and_grad(lambda m, F, t: t.norm(p=p), *_pair([0.0, 0.0, 0.0], dtype))
    _value_and_grad(lambda m, F, t: t.norm(p=p, dim=1), *_pair([[0.0, 0.0], [1.0, -2.0]], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_tiny_numerator_over_tiny_divisor_gradient_matches_torch(dtype):
    _value_and_grad(lambda m, F, t: 1e-20 / t, *_pair([1e-30, 2e-30, 1e-10], dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_max_with_nan_routes_the_gradient_to_the_nan(dtype):
    x = [1.0, float("nan"), 3.0, float("nan")]
    _value_and_grad(lambda m, F, t: t.max(), *_pair(x, dtype))
    _value_and_grad(lambda m, F, t: m.amax(t.reshape(2, 2), 1), *_pair(x, dtype))


def test_sign_of_nan_is_zero_and_abs_gradient_at_nan_is_zero():
    _value_and_grad(lambda m, F, t: t.sign() + t.abs(), *_pair([float("nan"), -1.0, 0.0], "float32"))


# ---- integers -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_integer_div_by_zero_raises_torch_zero_division_error(mode):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.div(torch.tensor([5]), 0, rounding_mode=mode)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        cr.div(cr.tensor([5]), 0, rounding_mode=mode)
    with pytest.raises(ZeroDivisionError):
        cr.div(cr.tensor([5]), cr.tensor([0]), rounding_mode=mode)


@pytest.mark.parametrize("dtype,op,scalar", [
    ("uint8", "add", 300), ("uint8", "mul", -1), ("uint8", "sub", 1000), ("int8", "add", 200),
    ("int16", "mul", 70_000), ("uint8", "add", 3_000_000_000_000), ("int8", "rpow", 300)])
def test_out_of_range_python_int_wraps_like_torch(dtype, op, scalar):
    arr = np.array([250, 3, 0, 1], dtype=dtype) if dtype == "uint8" else np.array([5, -3, 0, 2], dtype=dtype)
    fns = {"add": lambda t: t + scalar, "mul": lambda t: t * scalar, "sub": lambda t: t - scalar,
           "rpow": lambda t: scalar ** t.clamp(0, 2)}
    ours, theirs = fns[op](cr.tensor(arr)), fns[op](torch.tensor(arr))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


def test_integer_clamp_and_masked_fill_cast_their_values_like_torch():
    arr = np.array([250, 0, 7], dtype=np.uint8)
    assert cr.tensor(arr).clamp(-8, 8).tolist() == torch.tensor(arr).clamp(-8, 8).tolist()
    big = np.array([2 ** 63 - 5, 3], dtype=np.int64)
    mask = np.array([False, True])
    assert (cr.tensor(big).masked_fill(cr.tensor(mask), -1.5).tolist()
            == torch.tensor(big).masked_fill(torch.tensor(mask), -1.5).tolist())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "bool"])
def test_integer_prod_and_cumsum_are_int64_like_torch(dtype):
    values = {"bool": [True, True, False], "int8": [100, 3, -2]}.get(dtype, [200, 3, 1])
    arr = np.array(values, dtype=dtype)
    for fn in (lambda t: t.prod(), lambda t: t.cumsum(0), lambda t: t.sum(), lambda t: t.prod(0)):
        ours, theirs = fn(cr.tensor(arr)), fn(torch.tensor(arr))
        assert ours.dtype == cr.int64 and theirs.dtype == torch.int64
        assert ours.tolist() == theirs.tolist()


def test_numpy_scalar_keeps_its_dtype_in_tensor():
    for value in (np.float64(1.5), np.float16(2.0), np.int16(3), np.uint8(7)):
        assert str(cr.tensor(value).dtype)[10:] == str(torch.tensor(value).dtype)[6:]


# ---- cross-entropy --------------------------------------------------------------------------
_LOGITS = [[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf], [-np.inf, 1.0, 1.0], [0.3, 0.2, 0.1]]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kwargs", [{}, {"weight": [1.0, 2.0, 0.5]}, {"ignore_index": 1},
                                    {"label_smoothing": 0.0, "reduction": "sum"},
                                    {"weight": [1.0, 2.0, 0.5], "ignore_index": 0,
                                     "reduction": "none"}])
def test_cross_entropy_with_minus_inf_logit_matches_torch(dtype, kwargs):
    target = [0, 0, 1, 1]

    def loss(m, F, x):
        kw = dict(kwargs)
        if "weight" in kw:
            kw["weight"] = m.tensor(kw["weight"], dtype=x.dtype)
        return F.cross_entropy(x, m.tensor(target), **kw)
    _value_and_grad(loss, *_pair(_LOGITS, dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_nd_input_with_weight_and_ignore_index_matches_torch(dtype):
    x = np.random.default_rng(3).normal(size=(2, 3, 2, 2))
    x[0, 1, 0, 0] = -np.inf
    target = [[[0, 1], [2, 2]], [[1, 1], [0, 2]]]

    def loss(m, F, t):
        return F.cross_entropy(t, m.tensor(target), weight=m.tensor([1.0, 0.5, 2.0], dtype=t.dtype),
                               ignore_index=2)
    _value_and_grad(loss, *_pair(x, dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_all_targets_ignored_gives_torch_loss_and_zero_gradient(dtype, reduction):
    def loss(m, F, x):
        return F.cross_entropy(x, m.tensor([-100, -100]), reduction=reduction)
    ours, theirs = _pair([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype)
    out_c, out_t = loss(cr, crF, ours), loss(torch, tF, theirs)
    _same(out_c, out_t)  # nan for mean, as in PyTorch
    out_c.sum().backward()
    out_t.sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("name", ["sum", "prod", "cumsum", "abs", "neg", "mul300", "floordiv",
                                  "remainder", "maximum", "sign", "clamp", "square", "max"])
def test_uint8_results_have_a_known_dtype_matching_torch(name):
    fns = {"sum": lambda t: t.sum(), "prod": lambda t: t.prod(), "cumsum": lambda t: t.cumsum(0),
           "abs": lambda t: t.abs(), "neg": lambda t: -t, "mul300": lambda t: t * 300,
           "floordiv": lambda t: t // 7, "remainder": lambda t: t % 7,
           "maximum": lambda t: t.maximum(t.flip(0)), "sign": lambda t: t.sign(),
           "clamp": lambda t: t.clamp(1, 200), "square": lambda t: t * t,
           "max": lambda t: t.max()}
    arr = np.array([250, 3, 0, 17], dtype=np.uint8)
    ours, theirs = fns[name](cr.tensor(arr)), fns[name](torch.tensor(arr))
    assert str(ours.dtype)[10:] == str(theirs.dtype)[6:]
    assert ours.tolist() == theirs.tolist()


def test_unknown_numpy_dtypes_never_reach_a_tensor():
    from chainrule.tensors.tensor import Tensor
    t = Tensor._wrap(np.array([1, 2], dtype=np.uint64))  # what np.prod(uint8) would give
    assert t.dtype == cr.int64
    with pytest.raises(TypeError, match="complex128"):
        Tensor._wrap(np.array([1j]))


@pytest.mark.parametrize("values", [[1e30, 1e30], [5e29], [3e19, 4e19], [[1e30], [2e30]]])
@pytest.mark.parametrize("p", [2, 3])
def test_float32_norm_overflows_exactly_where_torch_does(values, p):
    ours, theirs = _pair(values, "float32")
    dim = 1 if isinstance(values[0], list) else None
    _same(ours.norm(p=p, dim=dim), theirs.norm(p=p, dim=dim))
