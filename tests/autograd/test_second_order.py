"""Second-order gradients of every differentiable op.

Each case runs the same code on chainrule and on PyTorch (the two share the API): the
first gradient built with create_graph=True must match PyTorch's, and so must a
Hessian-vector product (grad of <grad, v>); `gradgradcheck` checks the same against
central differences in float64. The enumeration tests walk every `Op` defined anywhere
in chainrule and every function of `nn.functional`: an op or function without a case
here fails them."""
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as crF
from chainrule.autograd.function import GraphLostError, Node, Op
from chainrule.autograd.gradcheck import gradgradcheck

import second_order_cases

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def _pos(*shape):
    return ("pos", shape)       # in [0.5, 2]: logs, roots, divisors


def _unit(*shape):
    return ("unit", shape)      # in [0.1, 0.9]: probabilities


def _any(*shape):
    return ("any", shape)       # in [-2, 2], no element within 0.15 of 0 or of another


def _values(kind, shape, rng):
    n = int(np.prod(shape))
    if kind == "pos":
        v = rng.uniform(0.5, 2.0, n)
    elif kind == "unit":
        v = rng.uniform(0.1, 0.9, n)
    else:  # distinct, away from 0 and from each other: kinks (abs, relu, max) stay put
        v = rng.permutation(np.linspace(0.2, 2.0, n)) + rng.uniform(0.0, 0.1)
        v *= rng.choice([-1.0, 1.0], n)
    return v.reshape(shape)


def _lib(M):
    """(module, functional, linalg) of chainrule or PyTorch."""
    if M is torch:
        return torch, tF, torch.linalg
    return cr, crF, cr.linalg


def _idx(M, values):
    return M.tensor(values, dtype=M.int64)


# name -> (function of (M, F, L, *inputs), input specs); every Op must appear in some graph
CASES = {
    "add": (lambda M, F, L, x, y: x + y, [_any(2, 3), _any(3)]),
    "unfold": (lambda M, F, L, x: x.unfold(1, 3, 1) ** 2, [_any(2, 4)]),
    "sub_alpha": (lambda M, F, L, x, y: M.sub(x, y, alpha=2) * x, [_any(2, 3), _any(3)]),
    "mul": (lambda M, F, L, x, y: x * y * x, [_any(2, 3), _any(2, 1)]),
    "div": (lambda M, F, L, x, y: x / y, [_any(3), _pos(3)]),
    "rdiv_scalar": (lambda M, F, L, x: 1.5 / x, [_pos(4)]),
    # floor_divide itself has no derivative in PyTorch; div(rounding_mode="floor") has zero
    "div_floor": (lambda M, F, L, x: M.div(x * 4, 1.5, rounding_mode="floor") * x, [_pos(4)]),
    "remainder": (lambda M, F, L, x, y: M.remainder(x, y) * x, [_pos(4), _pos(4)]),
    "pow_tensor": (lambda M, F, L, x, y: x ** y, [_pos(3), _any(3)]),
    "pow_scalar": (lambda M, F, L, x: x ** 3.0 + 2.0 ** x, [_any(4)]),
    "maximum": (lambda M, F, L, x, y: M.maximum(x, y) * x, [_any(5), _any(5)]),
    "minimum": (lambda M, F, L, x, y: M.minimum(x, y) * y, [_any(5), _any(5)]),
    "neg": (lambda M, F, L, x: -x * x, [_any(3)]),
    "abs": (lambda M, F, L, x: x.abs() * x, [_any(4)]),
    "exp": (lambda M, F, L, x: x.exp(), [_any(4)]),
    "log": (lambda M, F, L, x: x.log(), [_pos(4)]),
    "log2": (lambda M, F, L, x: M.log2(x), [_pos(4)]),
    "log1p": (lambda M, F, L, x: M.log1p(x), [_pos(4)]),
    "sqrt": (lambda M, F, L, x: x.sqrt(), [_pos(4)]),
    "rsqrt": (lambda M, F, L, x: M.rsqrt(x), [_pos(4)]),
    "sin": (lambda M, F, L, x: x.sin(), [_any(4)]),
    "cos": (lambda M, F, L, x: x.cos(), [_any(4)]),
    "tanh": (lambda M, F, L, x: x.tanh(), [_any(4)]),
    "sigmoid": (lambda M, F, L, x: x.sigmoid(), [_any(4)]),
    "sign": (lambda M, F, L, x: x.sign() * x * x, [_any(4)]),
    "relu": (lambda M, F, L, x: x.relu() * x, [_any(6)]),
    "clamp": (lambda M, F, L, x: M.clamp(x, -1.0, 1.0) * x, [_any(8)]),
    "erf": (lambda M, F, L, x: M.erf(x), [_any(5)]),
    "where": (lambda M, F, L, x, y: M.where(x > 0, x * y, y * y), [_any(6), _any(6)]),
    "getitem_slice": (lambda M, F, L, x: x[1:, ::2] * x[:-1, 1:2], [_any(3, 4)]),
    "getitem_index": (lambda M, F, L, x: x[_idx(M, [0, 2, 2])] ** 2, [_any(3, 2)]),
    "setitem": (lambda M, F, L, x, y: _setitem(x, y), [_any(3, 2), _any(2)]),
    "inplace_on_view": (lambda M, F, L, x, y: _inplace_view(x, y), [_any(4), _any(2)]),
    "masked_fill": (lambda M, F, L, x: (x * x).masked_fill(x > 0, 2.0) * x, [_any(6)]),
    "gather": (lambda M, F, L, x: M.gather(x, 1, _idx(M, [[0, 0], [1, 0]])) ** 2,
               [_any(2, 3)]),
    "dot": (lambda M, F, L, x, y: M.dot(x, y) * x, [_any(3), _any(3)]),
    "matmul": (lambda M, F, L, x, y: (x @ y) ** 2, [_any(2, 3), _any(3, 2)]),
    "linear": (lambda M, F, L, x, w, b: F.linear(x, w, b) ** 2, [_any(2, 3), _any(4, 3), _any(4)]),
    "sum": (lambda M, F, L, x: (x * x).sum(1) ** 2, [_any(2, 3)]),
    "mean": (lambda M, F, L, x: (x * x).mean(0) ** 2, [_any(2, 3)]),
    "var": (lambda M, F, L, x: x.var(1), [_any(2, 4)]),
    "std": (lambda M, F, L, x: x.std(), [_any(2, 4)]),
    "prod_all": (lambda M, F, L, x: x.prod(), [_any(2, 3)]),
    "prod_dim": (lambda M, F, L, x: x.prod(1), [_any(2, 3)]),
    "prod_with_zero": (lambda M, F, L, x: (x * M.tensor([1.0, 0.0, 1.0], dtype=x.dtype)).prod(),
                       [_any(3)]),
    "amax": (lambda M, F, L, x: M.amax(x, 1) * x.sum(), [_any(2, 3)]),
    "amin": (lambda M, F, L, x: M.amin(x, 0) ** 2, [_any(2, 3)]),
    "max_all": (lambda M, F, L, x: x.max() ** 2, [_any(2, 3)]),
    "max_dim": (lambda M, F, L, x: x.max(1)[0] ** 2, [_any(2, 3)]),
    "min_dim": (lambda M, F, L, x: x.min(0).values * x.sum(), [_any(2, 3)]),
    "norm2": (lambda M, F, L, x: x.norm() * x, [_any(2, 3)]),
    "norm2_dim": (lambda M, F, L, x: x.norm(dim=1), [_any(2, 3)]),
    "norm_p3": (lambda M, F, L, x: x.norm(p=3), [_any(4)]),
    "norm_inf": (lambda M, F, L, x: x.norm(p=float("inf"), dim=0) * x, [_any(2, 3)]),
    "cumsum": (lambda M, F, L, x: M.cumsum(x * x, 1), [_any(2, 3)]),
    "softmax": (lambda M, F, L, x: M.softmax(x, 1), [_any(2, 3)]),
    "log_softmax": (lambda M, F, L, x: M.log_softmax(x, 0), [_any(3, 2)]),
    "logsumexp": (lambda M, F, L, x: M.logsumexp(x, 1), [_any(2, 3)]),
    "clone": (lambda M, F, L, x: x.clone() * x, [_any(3)]),
    "contiguous": (lambda M, F, L, x: x.t().contiguous() * x.t(), [_any(2, 3)]),
    "cast": (lambda M, F, L, x: x.float().double() * 2, [_any(3)]),
    "floor_ceil_round": (lambda M, F, L, x: (x.floor() + x.ceil() + x.round()
                                             + M.round(x, decimals=1)) * x * x, [_any(4)]),
    "bmm": (lambda M, F, L, x, y: M.bmm(x, y) ** 2, [_any(2, 2, 3), _any(2, 3, 2)]),
    "mv": (lambda M, F, L, x, v: (x @ v) ** 2, [_any(2, 3), _any(3)]),
    "linear_no_bias": (lambda M, F, L, x, w: F.linear(x, w) ** 2, [_any(2, 3), _any(4, 3)]),
    "min_all": (lambda M, F, L, x: x.min() ** 2, [_any(2, 3)]),
    "split_unbind": (lambda M, F, L, x: (x.split(1, 1)[0] * x.split([1, 2], 1)[1]
                                         + x.unbind(1)[2].unsqueeze(1)) ** 2, [_any(2, 3)]),
    "squeeze": (lambda M, F, L, x: x.unsqueeze(0).squeeze() * x.unsqueeze(1).squeeze(1),
                [_any(2, 3)]),
    "reshape_permute": (lambda M, F, L, x: (x.reshape(3, 2).permute(1, 0) * x) ** 2,
                        [_any(2, 3)]),
    "transpose_expand": (lambda M, F, L, x: x.t().expand(2, 3, 2) * x.t(), [_any(2, 3)]),
    "cat_stack": (lambda M, F, L, x, y: M.cat([x * y, x], 0) * M.stack([y, y], 0).reshape(4),
                  [_any(2), _any(2)]),
    "inv": (lambda M, F, L, a: L.inv(a), [_any(3, 3)]),
    "solve": (lambda M, F, L, a, b: L.solve(a, b), [_any(3, 3), _any(3, 2)]),
    "det": (lambda M, F, L, a: L.det(a), [_any(3, 3)]),
    "slogdet": (lambda M, F, L, a: L.slogdet(a)[1], [_any(3, 3)]),
    "pinv": (lambda M, F, L, a: L.pinv(a), [_any(3, 2)]),
    # decompositions: only sign-invariant results (eigenvalues, projectors, R squared)
    "eigh": (lambda M, F, L, a: _projected(*L.eigh(a + a.mT)), [_any(3, 3)]),
    "svd": (lambda M, F, L, a: _projected(*L.svd(a, full_matrices=False)[1::-1]), [_any(3, 2)]),
    "qr": (lambda M, F, L, a: L.qr(a)[1] ** 2, [_any(3, 3)]),
    "cholesky": (lambda M, F, L, a: L.cholesky(a @ a.mT + 3 * M.eye(3, dtype=a.dtype)),
                 [_any(3, 3)]),
    "solve_triangular": (lambda M, F, L, a, b: L.solve_triangular(
        a + 3 * M.eye(3, dtype=a.dtype), b, upper=False), [_any(3, 3), _any(3, 2)]),
    # nn.functional: case name == function name
    "relu_fn": (lambda M, F, L, x: F.relu(x) * x, [_any(5)]),
    "leaky_relu": (lambda M, F, L, x: F.leaky_relu(x, 0.2) * x, [_any(6)]),
    "gelu": (lambda M, F, L, x: F.gelu(x), [_any(6)]),
    "gelu_tanh": (lambda M, F, L, x: F.gelu(x, approximate="tanh"), [_any(6)]),
    "dropout": (lambda M, F, L, x: _dropout(M, F, x), [_any(8)]),
    "cross_entropy": (lambda M, F, L, x: F.cross_entropy(x, _idx(M, [0, 2])), [_any(2, 3)]),
    "cross_entropy_weighted": (lambda M, F, L, x: F.cross_entropy(
        x, _idx(M, [0, 2, 1]), weight=M.tensor([1.0, 2.0, 0.5], dtype=x.dtype),
        label_smoothing=0.1), [_any(3, 3)]),
    "nll_loss": (lambda M, F, L, x: F.nll_loss(F.log_softmax(x, 1), _idx(M, [1, 0])),
                 [_any(2, 3)]),
    "mse_loss": (lambda M, F, L, x, y: F.mse_loss(x, y), [_any(2, 3), _any(2, 3)]),
    "l1_loss": (lambda M, F, L, x, y: F.l1_loss(x * x, y), [_any(2, 3), _any(2, 3)]),
    "huber_loss": (lambda M, F, L, x, y: F.huber_loss(x * x, y, delta=0.5), [_any(6), _any(6)]),
    "smooth_l1_loss": (lambda M, F, L, x, y: F.smooth_l1_loss(x * x, y, beta=0.5),
                       [_any(6), _any(6)]),
    "binary_cross_entropy": (lambda M, F, L, p, y: F.binary_cross_entropy(p, y),
                             [_unit(5), _unit(5)]),
    "binary_cross_entropy_with_logits": (
        lambda M, F, L, x, y: F.binary_cross_entropy_with_logits(x, y) + F.binary_cross_entropy_with_logits(
            x, y, pos_weight=M.tensor([2.0], dtype=x.dtype)), [_any(5), _unit(5)]),
    "normalize": (lambda M, F, L, x: F.normalize(x, dim=1), [_any(2, 3)]),
    "logsigmoid": (lambda M, F, L, x: F.logsigmoid(x * 10), [_any(6)]),
    "softplus": (lambda M, F, L, x: F.softplus(x * 8, beta=2.0, threshold=5.0), [_any(8)]),
    # sorting, scatter, rearranging and pointwise math (ops/sorting.py ... pointwise_math.py)
    "median_all": (lambda M, F, L, x: x.median() * x, [_any(5)]),
    "cumprod": (lambda M, F, L, x: M.cumprod(x, 1), [_any(2, 4)]),
    "logcumsumexp": (lambda M, F, L, x: M.logcumsumexp(x * x, 1), [_any(2, 4)]),
    "cumprod_with_zero": (lambda M, F, L, x: M.cumprod(
        x * M.tensor([1.0, 0.0, 1.0, 1.0], dtype=x.dtype), 0), [_any(4)]),
    "scatter": (lambda M, F, L, x, y: x.scatter(1, _idx(M, [[2, 0], [1, 2]]), y * y) * x,
                [_any(2, 3), _any(2, 2)]),
    "scatter_add": (lambda M, F, L, x, y: M.scatter_add(x * x, 0, _idx(M, [[1, 0, 1]]), y) ** 2,
                    [_any(2, 3), _any(1, 3)]),
    "index_add": (lambda M, F, L, x, y: x.index_add(0, _idx(M, [1, 1]), y * x[:2]) ** 2,
                  [_any(3, 2), _any(2, 2)]),
    "index_put_accumulate": (lambda M, F, L, x, y: x.index_put(
        (_idx(M, [0, 2, 0]),), y * y, accumulate=True) * x, [_any(3), _any(3)]),
    "diag_embed": (lambda M, F, L, x: M.diag_embed(x * x, offset=1) * 2, [_any(2, 3)]),
    "diagonal": (lambda M, F, L, x: x.diagonal(1, 0, 2) ** 2 * M.trace(x[0]), [_any(3, 3, 4)]),
    "einsum": (lambda M, F, L, x, y: M.einsum("ij,jk->ik", x, y) ** 2 + M.einsum("ii", x @ y),
               [_any(2, 3), _any(3, 2)]),
    "fmod": (lambda M, F, L, x, y: M.fmod(x * 3, y) * x, [_pos(4), _pos(4)]),
    "nan_to_num": (lambda M, F, L, x: M.nan_to_num(x * x) * x, [_any(4)]),
    "tan": (lambda M, F, L, x: M.tan(x), [_unit(4)]),
    "sinh_cosh": (lambda M, F, L, x: M.sinh(x) * M.cosh(x * x), [_any(4)]),
    "asin_acos": (lambda M, F, L, x: M.asin(x) * M.acos(x * x), [_unit(4)]),
    "atan_asinh": (lambda M, F, L, x: M.atan(x) * M.asinh(x * x), [_any(4)]),
    "acosh_atanh": (lambda M, F, L, x, y: M.acosh(x + 1.5) * M.atanh(y), [_pos(4), _unit(4)]),
    "exp2_expm1": (lambda M, F, L, x: M.exp2(x) * M.expm1(x * x), [_any(4)]),
    "log10_reciprocal": (lambda M, F, L, x: M.log10(x) * M.reciprocal(x * x), [_pos(4)]),
    "frac_angles": (lambda M, F, L, x: M.frac(x) * M.deg2rad(x) * M.rad2deg(x * x), [_any(4)]),
    "logit": (lambda M, F, L, x: M.logit(x), [_unit(4)]),
    "atan2_hypot": (lambda M, F, L, x, y: M.atan2(x, y) * M.hypot(x, y * y), [_any(4), _any(4)]),
    "logaddexp": (lambda M, F, L, x, y: M.logaddexp(x * 3, y * y), [_any(4), _any(4)]),
    "xlogy": (lambda M, F, L, x, y: M.xlogy(x * x, y), [_any(4), _pos(4)]),
    "fmax_fmin": (lambda M, F, L, x, y: M.fmax(x, y) * M.fmin(x * x, y), [_any(5), _any(5)]),
    "copysign": (lambda M, F, L, x, y: M.copysign(x * x, y) * x, [_any(4), _any(4)]),
    "lgamma_polygamma": (lambda M, F, L, x: M.lgamma(x) * M.polygamma(1, x), [_pos(4)]),
    "erfinv": (lambda M, F, L, x: M.erfinv(x * 2 - 1), [_unit(4)]),
}
CASES.update(second_order_cases.collected())   # cases kept beside their concept

# no derivative in PyTorch either (backward raises there and here)
# (and the stand-in history of a split/unbind output whose base changed: backward refuses)
NOT_DIFFERENTIABLE = {"HeavisideBackward0", "StalePieceBackward", "NotImplemented"}
# functions of nn.functional that take no differentiable input
NOT_DIFFERENTIABLE_FUNCTIONS = {"one_hot"}


def _projected(values, vectors):
    v = vectors[:, :1]
    return values.sum() + (v @ v.mT)


def _setitem(x, y):
    z = x * 1
    z[1] = y * y
    return z * x


def _inplace_view(x, y):
    a = x * 1
    a[1:3].mul_(y)
    return a * x


def _dropout(M, F, x):
    # the two libraries draw different masks: PyTorch multiplies by chainrule's mask
    if M is torch:
        return x * torch.from_numpy(_dropout.mask) * x
    out = F.dropout(x, 0.5, training=True, generator=cr.Generator().manual_seed(3))
    _dropout.mask = np.where(x._data != 0, out._data / x._data, 0.0)
    return out * x


def _inputs(specs, seed, M):
    rng = np.random.default_rng(seed)
    arrays = [_values(kind, shape, rng) for kind, shape in specs]
    return [M.tensor(a, dtype=M.float64, requires_grad=True) for a in arrays]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _grads_and_hvp(M, fn, xs, seed):
    """First gradients of <out, w> (create_graph) and the Hessian-vector products."""
    out = _first(fn(M, *_lib(M)[1:], *xs))
    rng = np.random.default_rng(seed + 1)
    w = M.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)), dtype=M.float64)
    grads = M.autograd.grad((out * w).sum(), xs, create_graph=True, allow_unused=True)
    grads = [g if g is not None else M.zeros_like(x) for g, x in zip(grads, xs)]
    vs = [M.tensor(rng.uniform(-1, 1, tuple(x.shape)), dtype=M.float64) for x in xs]
    inner = sum((g * v).sum() for g, v in zip(grads, vs))
    if not inner.requires_grad:  # first gradient constant: the second is zero
        return out, grads, [M.zeros_like(x) for x in xs]
    hvp = M.autograd.grad(inner, xs, allow_unused=True)
    return out, grads, [h if h is not None else M.zeros_like(x) for h, x in zip(hvp, xs)]


def _close(ours, theirs, what):
    a, b = np.asarray(ours.detach().numpy(), dtype=np.float64), theirs.detach().numpy()
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9 * scale, err_msg=what)


def _op_lookup():
    """Every Op object defined at module level anywhere in chainrule."""
    import chainrule
    found = {}
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, Op):
                found.setdefault(id(value), (f"{info.name}.{name}", value))
    return dict(found.values())


def _ops_in_graph(tensors):
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    visited = set()
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        seen.add(id(node.op))
        stack.extend(e for e in node.edges if isinstance(e, Node))
    return seen


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_torch(name):
    fn, specs = CASES[name]
    seed = sum(map(ord, name))
    ours = _grads_and_hvp(cr, fn, _inputs(specs, seed, cr), seed)
    theirs = _grads_and_hvp(torch, fn, _inputs(specs, seed, torch), seed)
    for kind, a, b in zip(("output", "gradient", "hessian-vector product"), ours, theirs):
        for i, (x, y) in enumerate(zip(a if isinstance(a, list) else [a],
                                       b if isinstance(b, list) else [b])):
            _close(x, y, f"{name}: {kind} {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name):
    fn, specs = CASES[name]
    xs = _inputs(specs, sum(map(ord, name)), cr)
    assert gradgradcheck(lambda *a: _first(fn(cr, crF, _lib(cr)[2], *a)), xs,
                         eps=1e-6, atol=1e-5, rtol=1e-4)


def test_every_op_has_a_second_order_case():
    covered = set()
    for name, (fn, specs) in CASES.items():
        xs = _inputs(specs, 0, cr)
        out = _first(fn(cr, crF, _lib(cr)[2], *xs))
        covered |= _ops_in_graph([out])
        grads = cr.autograd.grad(out.sum(), xs, create_graph=True, allow_unused=True)
        covered |= _ops_in_graph([g for g in grads if g is not None])
    missing = sorted(where for where, op in _op_lookup().items()
                     if id(op) not in covered and op.name not in NOT_DIFFERENTIABLE)
    assert not missing, f"ops without a second-order case in CASES: {missing}"


def test_every_functional_has_a_second_order_case():
    names = {n for n in crF.__all__ if callable(getattr(crF, n))}
    covered = {n for n in CASES} | {n[:-3] for n in CASES if n.endswith("_fn")}
    covered |= {"sigmoid", "tanh", "softmax", "log_softmax", "linear"}  # the ops' own cases
    missing = sorted(names - covered - NOT_DIFFERENTIABLE_FUNCTIONS)
    assert not missing, f"nn.functional without a second-order case in CASES: {missing}"


def test_numpy_function_without_op_fails_loudly_on_tensor_requiring_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphLostError, match="numpy.cumprod"):
        np.cumprod(x)
    with cr.no_grad():  # no graph to lose: computed on the plain arrays
        assert np.cumprod(x).tolist() == [1.0, 2.0]
    assert np.cumprod(x.detach()).tolist() == [1.0, 2.0]


def test_rule_that_loses_the_graph_names_the_numpy_function_and_the_op():
    lossy = Op("LossyBackward0", lambda a: a * 2, lambda g, o, a: g * np.cumprod(a))
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    from chainrule.ops.core import apply1
    y = apply1(lossy, x).sum()
    (g,) = cr.autograd.grad(y, [x], retain_graph=True)  # first order: plain arrays, fine
    assert g.tolist() == [1.0, 2.0]
    with pytest.raises(GraphLostError, match=r"LossyBackward0.*numpy\.cumprod"):
        cr.autograd.grad(y, [x], create_graph=True)


def test_prod_second_derivative_with_a_zero_is_not_zero():
    # d²(x0·x1·x2)/dx0dx1 = x2, even where x0 is zero
    x = cr.tensor([0.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(x.prod(), [x], create_graph=True)
    (h,) = cr.autograd.grad(g[0], [x])
    assert h.tolist() == [0.0, 3.0, 2.0]


def test_numpy_conversion_of_tensor_requiring_grad_fails_loudly_under_grad_mode():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    erf = np.vectorize(lambda v: v * 2.0, otypes=[np.float64])  # converts via __array__
    with pytest.raises(GraphLostError, match="detach"):
        erf(x)
    with cr.no_grad():
        assert erf(x).tolist() == [1.0, 2.0]
    assert np.asarray(x.detach()).tolist() == [0.5, 1.0]
