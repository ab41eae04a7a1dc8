"""Intended differences from PyTorch that the differential fuzzer excuses, each narrowly:
only the elements where PyTorch's answer is the known rounding artefact, and only when
chainrule's answer there is the exact one. Each is pinned by a test of chainrule's own
behaviour in tests/regressions/test_fuzz_edges.py.

When a step shows one, the comparison checks that step everywhere else and stops there:
every later value and every gradient inherits the difference."""
from collections import Counter

import numpy as np

SEEN = Counter()  # how often each difference was excused, by the step's op


def _var_of_one_float32_result(recipe, step, cvals, tvals, got, want):
    """var/std of float32 values reduced to one result. PyTorch's two-pass kernel for a
    single result takes the mean in float32, rounded, and squares the values minus that
    mean in float64: var of three 1e30s is inf, std 9e22, where chainrule (its mean in
    float64) gives exactly 0; std of [1e-45, 0, 0, 0] 1e-45 where chainrule's rounds to 0.
    Excused only where PyTorch's answer is exactly that algorithm's and chainrule's the
    float64 one. (With several results or float16, PyTorch's Welford pass agrees with
    chainrule; in float64 both take the same rounded mean.)"""
    name, i = step[1], step[2]
    if name not in ("var", "std") or want.dtype != np.float32 or want.size != 1:
        return None
    t = tvals[i].detach()
    x = t.numpy().ravel().astype(np.float64)
    if x.size < 2 or not np.all(np.isfinite(x)):
        return None
    mean32 = float(t.mean())  # PyTorch's own float32 mean, summed in its order
    with np.errstate(over="ignore"):
        pytorch = np.sum((x - mean32) ** 2) / (x.size - 1)
        exact = np.sum((x - np.mean(x)) ** 2) / (x.size - 1)
        if name == "std":
            pytorch, exact = np.sqrt(pytorch), np.sqrt(exact)
        pytorch, exact = np.float32(pytorch), np.float32(exact)
    explained = (np.reshape(want, -1)[0] == pytorch) and np.reshape(got, -1)[0] == exact
    return np.full(want.shape, explained and pytorch != exact)


def _log1p_of_a_subnormal(recipe, step, cvals, tvals, got, want):
    """log1p(x) of a subnormal x is x, correctly rounded (NumPy's answer and chainrule's).
    PyTorch's CPU kernel drops the last bit of odd subnormals, so log1p of the smallest
    subnormal is 0 there; a later relu, sign or |x| then branches the other way."""
    tiny = np.finfo(want.dtype).tiny
    subnormal = (got != 0) & (np.abs(got) < tiny)
    return subnormal & (want == 0)


def _gelu_of_inf(recipe, step, cvals, tvals, got, want):
    """gelu(inf) = inf * Φ(inf) = inf (chainrule, and PyTorch in float64 and float16);
    PyTorch's float32 CPU kernel returns NaN there."""
    if step[1] != "gelu" or want.dtype != np.float32:
        return None
    x = np.broadcast_to(tvals[step[2]].detach().numpy(), want.shape)
    return (x == np.inf) & (got == np.inf) & np.isnan(want)


def _unary(recipe, step, cvals, tvals, got, want):
    rule = {"log1p": _log1p_of_a_subnormal, "gelu": _gelu_of_inf}.get(step[1])
    return None if rule is None else rule(recipe, step, cvals, tvals, got, want)


_KNOWN = {"reduce": _var_of_one_float32_result, "unary": _unary}


def excused(recipe, k, cvals, tvals, got, want):
    """Boolean mask of the elements of value k where chainrule is known and meant to differ
    from PyTorch, or None when it has none."""
    rule = _KNOWN.get(recipe[k][0])
    if rule is None or np.asarray(want).dtype.kind != "f":
        return None
    got, want = np.asarray(got), np.asarray(want)
    mask = rule(recipe, recipe[k], cvals, tvals, got, want)
    if mask is None or not np.any(mask):
        return None
    SEEN[recipe[k][1]] += 1
    return mask
