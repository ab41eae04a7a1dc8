"""Intended differences from PyTorch that the differential fuzzer excuses, each narrowly:
only the elements where PyTorch's answer is the known artefact (of rounding, of its order
of additions, of its kernel), and only when chainrule's answer there is the exact one or
equally good. Each is pinned by a test in tests/regressions/test_fuzz_edges.py.

When a step shows one, the comparison checks that step everywhere else and stops there:
every later value and every gradient inherits the difference."""
from collections import Counter

import numpy as np

import fuzz_known_dtype as dtype_casts
import fuzz_known_long as long

SEEN = Counter()  # how often each difference was excused, by the step's op


def _input(step, tvals):
    return tvals[step[2]].detach()


def _var_of_one_float32_result(step, tvals, got, want, tol):
    """var/std of float32 values reduced to one result. PyTorch's two-pass kernel for a
    single result takes the mean in float32, rounded, and squares the values minus that
    mean in float64: var of three 1e30s is inf, std 9e22, where chainrule (its mean in
    float64) gives exactly 0; std of [1e-45, 0, 0, 0] 1e-45 where chainrule's rounds to 0.
    Excused only where PyTorch's answer is exactly that algorithm's and chainrule's the
    float64 one. (With several results or float16, PyTorch's Welford pass agrees with
    chainrule; in float64 both take the same rounded mean.)"""
    if want.dtype != np.float32 or want.size != 1:
        return None
    t = _input(step, tvals)
    x = t.numpy().ravel().astype(np.float64)
    if x.size < 2 or not np.all(np.isfinite(x)):
        return None
    mean32 = float(t.mean())  # PyTorch's own float32 mean, summed in its order
    with np.errstate(over="ignore"):
        pytorch = np.sum((x - mean32) ** 2) / (x.size - 1)
        exact = np.sum((x - np.mean(x)) ** 2) / (x.size - 1)
        if step[1] == "std":
            pytorch, exact = np.sqrt(pytorch), np.sqrt(exact)
        pytorch, exact = np.float32(pytorch), np.float32(exact)
    explained = (np.reshape(want, -1)[0] == pytorch) and np.reshape(got, -1)[0] == exact
    return np.full(want.shape, explained and pytorch != exact)


def _norm_of_a_0d_tensor(step, tvals, got, want, tol):
    """The 2-norm of one element is |x| (chainrule). PyTorch squares a 0-d tensor normed
    over a dim, or not, depending on how the tensor was made (a fresh one: 2e30 gives inf
    in float32, 1e-45 gives 0; the result of a min over a dim: |x|)."""
    x = _input(step, tvals).numpy()
    if x.ndim or step[3] is None:
        return None
    wide = x.astype(np.float32) if x.dtype == np.float16 else x
    with np.errstate(over="ignore", under="ignore"):
        squared = np.sqrt(wide * wide).astype(want.dtype)
    return np.full(want.shape, bool(got.reshape(-1)[0] == np.abs(x) and want.reshape(-1)[0]
                                    == squared and squared != np.abs(x)))


def _sum_of_cancelling_terms(step, tvals, got, want, tol):
    """A sum's rounding error grows with its terms, not with the result: float32 ±1.07e9
    that cancel to about 100 carry errors of about 100, and the order of the additions,
    which PyTorch and NumPy choose differently, decides them. Excused where the two differ
    by more than the result's tolerance but within one scaled to the largest term (integer
    terms too, where dtype= sums them in a float: int32 ±2 ** 31 beside a 100 in float32)."""
    if tol is None:
        return None
    x = _input(step, tvals).numpy().astype(np.float64)
    x = x[np.isfinite(x)]
    rtol, atol = tol
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(g) & np.isfinite(w)
    if not x.size or not finite.any():
        return None
    err = np.where(finite, np.abs(g - w), 0.0)
    allowed = rtol * np.abs(np.where(finite, w, 0.0))
    by_result = atol * max(1.0, float(np.max(np.abs(w[finite])))) + allowed
    by_terms = atol * float(np.max(np.abs(x))) + allowed
    return finite & (err > by_result) & (err <= by_terms)


def _log1p_of_a_subnormal(step, tvals, got, want, tol):
    """log1p(x) of a subnormal x is x, correctly rounded (NumPy's answer and chainrule's).
    PyTorch's CPU kernel drops the last bit of odd subnormals, so log1p of the smallest
    subnormal is 0 there; a later relu, sign or |x| then branches the other way."""
    tiny = np.finfo(want.dtype).tiny
    subnormal = (got != 0) & (np.abs(got) < tiny)
    return subnormal & (want == 0)


def _gelu_of_inf(step, tvals, got, want, tol):
    """gelu(inf) = inf * Φ(inf) = inf (chainrule, and PyTorch in float64 and float16);
    PyTorch's float32 CPU kernel returns NaN there."""
    if want.dtype != np.float32:
        return None
    x = np.broadcast_to(_input(step, tvals).numpy(), want.shape)
    return (x == np.inf) & (got == np.inf) & np.isnan(want)


def _rsqrt_of_float16(step, tvals, got, want, tol):
    """float16 rsqrt computed in float32 and rounded once (chainrule, and PyTorch's
    vectorised loop, which serves large tensors). PyTorch's scalar loop, which serves
    tensors of fewer elements than a vector and a tensor's tail, rounds the square root to
    float16 first: one unit off for about a quarter of inputs (rsqrt(2.041) is 0.6997 in a
    tensor of 4, 0.7002 in one of 30,000); a later clamp at 0.7 then masks the other way."""
    if want.dtype != np.float16:
        return None
    x = _input(step, tvals)
    y = (x.abs() + 0.1).numpy()  # the fuzzer's rsqrt of |x| + 0.1 (tests/fuzz/fuzz_ops.py)
    exact = (1 / np.sqrt(y.astype(np.float64))).astype(np.float16)
    one_ulp = np.abs(got.astype(np.float64) - want) <= np.spacing(np.abs(want))
    return (got == exact) & (want != got) & one_ulp


def _either(*rules):
    """Elements any of `rules` excuses."""
    def rule(step, tvals, got, want, tol):
        masks = [m for m in (r(step, tvals, got, want, tol) for r in rules) if m is not None]
        return np.logical_or.reduce(masks) if masks else None
    return rule


_KNOWN = {("reduce", "var"): _var_of_one_float32_result,
          ("reduce", "std"): _var_of_one_float32_result,
          ("reduce", "norm"): _norm_of_a_0d_tensor,
          ("reduce", "sum"): _either(_sum_of_cancelling_terms, long.float16_sum),
          ("reduce", "mean"): _sum_of_cancelling_terms,
          ("reduce", "cumsum"): _sum_of_cancelling_terms,
          **{("reduce_dtype", op): _sum_of_cancelling_terms for op in ("mean", "nanmean", "cumsum")},
          **{("reduce_dtype", op): _either(_sum_of_cancelling_terms, dtype_casts.float16_sum_cast_first)
             for op in ("sum", "nansum")},
          ("reduce_dtype", "var"): _var_of_one_float32_result,
          ("reduce_dtype", "std"): _var_of_one_float32_result,
          ("reduce_dtype", "norm"): _norm_of_a_0d_tensor,
          ("reduce", "log_softmax"): long.log_softmax_of_float16,
          ("reduce", "prod"): long.product_in_order,
          ("reduce_dtype", "prod"): long.product_in_order,
          ("int_binary", "remainder"): long.remainder_of_a_huge_quotient,
          ("unary", "log1p"): _log1p_of_a_subnormal,
          ("unary", "gelu"): _gelu_of_inf,
          ("unary", "rsqrt"): _rsqrt_of_float16}


def _pow_operands(recipe, tvals):
    """(base, exponent) of each integer-profile pow step: PyTorch tensors or numbers."""
    for s in recipe:
        if s[0] == "int_binary" and s[1] == "pow":
            _, _, i, j, scalar, swap = s
            a, b = tvals[i], (tvals[j] if j is not None else scalar)
            yield (b, a) if swap else (a, b)


def _is_bool(v):
    return type(v) is bool or str(getattr(v, "dtype", "")) == "torch.bool"


def _holds_its_minimum(v):
    """An int32 or int64 tensor with its dtype's minimum, where `v - 1` wraps around
    (chainrule's rule meets narrower integers as they are and wraps as PyTorch does)."""
    data = v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)
    return (data.dtype.kind == "i" and data.dtype.itemsize >= 4
            and bool((data == np.iinfo(data.dtype).min).any()))


# PyTorch's backward on a pow, where chainrule's gradient is the mathematical one:
# `True ** x` trips an internal assert converting the bool base (c10's Scalar); `x ** b`
# with b a bool tensor computes `b - 1`, which PyTorch refuses for bools; and with b an
# int32 or int64 tensor holding its dtype's minimum, `b - 1` wraps around to the maximum
# (x ** (2 ** 63 - 1) in place of x ** (-2 ** 63 - 1))
_BACKWARD_DEFECTS = {"unknown ivalue tag": lambda base, exp: _is_bool(base),
                     "Subtraction, the `-` operator, with a bool tensor":
                         lambda base, exp: _is_bool(exp)}


def excused_backward(recipe, tvals, torch_error):
    """Whether PyTorch's backward on this recipe shows one of its known pow defects (its
    error, or for `torch_error` None its wrapped-around gradient): pinned in
    tests/regressions/test_fuzz_known_differences.py."""
    pairs = list(_pow_operands(recipe, tvals))
    if torch_error is None:
        known = any(_holds_its_minimum(exp) for _, exp in pairs)
    else:
        known = any(text in str(torch_error) and any(test(*p) for p in pairs)
                    for text, test in _BACKWARD_DEFECTS.items())
    if known:
        SEEN["pow backward"] += 1
    return known


def _pow_by_false(recipe, k, tvals):
    """Step k a float tensor ** False: PyTorch's backward takes the bool exponent as it is,
    not as the 0 its forward and chainrule take (x ** 0 has a zero gradient even at x = 0
    or under a NaN upstream gradient; x ** False a NaN there)."""
    step = recipe[k]
    return (step[0] == "int_binary" and step[1] == "pow" and step[3] is None
            and step[4] is False and not step[5] and step[2] < len(tvals)
            and tvals[step[2]].dtype.is_floating_point)


def torch_equivalent(recipe, tvals):
    """`recipe` rewritten where PyTorch's answer depends on how an argument is spelled and
    chainrule's is the other spelling's (x ** False as x ** 0), or None; pinned in
    tests/regressions/test_fuzz_known_differences.py."""
    rewrite = [k for k in range(len(recipe)) if _pow_by_false(recipe, k, tvals)]
    if not rewrite:
        return None
    SEEN["pow by False"] += 1
    return [s[:4] + (0,) + s[5:] if k in rewrite else s for k, s in enumerate(recipe)]


def excused(recipe, k, tvals, got, want, tol=None):
    """Boolean mask of the elements of value k where chainrule is known and meant to differ
    from PyTorch, or None when it has none. `tol`: the comparison's (rtol, atol)."""
    rule = _KNOWN.get(tuple(recipe[k][:2]))
    if rule is None or np.asarray(want).dtype.kind != "f":
        return None
    got, want = np.asarray(got), np.asarray(want)
    mask = rule(recipe[k], tvals, got, want, tol)
    if mask is None or not np.any(mask):
        return None
    SEEN[recipe[k][1]] += 1
    return mask
