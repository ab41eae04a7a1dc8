"""Intended differences from PyTorch that the differential fuzzer excuses, each narrowly:
only the elements where PyTorch's answer is the known rounding artefact, and only when
chainrule's answer there is the exact one. Each is pinned by a test of chainrule's own
behaviour in tests/regressions/test_fuzz_edges.py.

When a step shows one, the comparison checks that step everywhere else and stops there:
every later value and every gradient inherits the difference."""
import numpy as np


def _reduced_axes(x, dim):
    if dim is None or x.ndim == 0:
        return None
    return dim if isinstance(dim, tuple) else (dim,)


def _var_of_equal_values(recipe, step, cvals, tvals, got, want):
    """var/std of equal float32 values reduced to one result: exactly 0 in chainrule.
    PyTorch's two-pass kernel for a single result takes the mean in float32, rounded off
    the values, and squares the 'centred' values in float64: var of three 1e30s is inf,
    std 9e22. (Its float64 mean rounds too, and chainrule follows it there; with several
    results or float16 its Welford pass gives 0, as chainrule does.)"""
    name, i, dim, keep = step[1], step[2], step[3], step[4]
    if name not in ("var", "std") or want.dtype != np.float32 or want.size != 1:
        return None
    x = tvals[i].detach().numpy()
    axes = _reduced_axes(x, dim)
    hi, lo = np.max(x, axis=axes, keepdims=keep), np.min(x, axis=axes, keepdims=keep)
    constant = (hi == lo) & np.isfinite(hi)
    if np.shape(constant) != np.shape(want):
        return None
    return constant & (got == 0) & (want != 0)


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


_KNOWN = {"reduce": _var_of_equal_values, "unary": _unary}


def excused(recipe, k, cvals, tvals, got, want):
    """Boolean mask of the elements of value k where chainrule is known and meant to differ
    from PyTorch, or None when it has none."""
    rule = _KNOWN.get(recipe[k][0])
    if rule is None or np.asarray(want).dtype.kind != "f":
        return None
    got, want = np.asarray(got), np.asarray(want)
    mask = rule(recipe, recipe[k], cvals, tvals, got, want)
    return mask if mask is not None and np.any(mask) else None
