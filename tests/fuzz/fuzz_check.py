"""Replaying a recipe in chainrule and PyTorch and comparing everything: every value's
dtype, shape and numbers (NaN and inf positions must agree; the tolerance grows with
what rounding moves PyTorch's own answer, fuzz_condition.py), whether each framework
raised, and the gradients of `(out * w).sum()` with respect to every float leaf. The few
intended differences from PyTorch (fuzz_known.py) are excused element by element, and the
comparison stops at the step that shows one."""
import numpy as np

from fuzz_condition import Conditioning
from fuzz_known import excused, excused_backward, torch_equivalent
from fuzz_ops import build

# (rtol, atol per unit scale); float64 leaves room for cancellation in long graphs
TOLERANCE = {"float16": (2e-2, 2e-3), "float32": (2e-3, 2e-4), "float64": (1e-5, 1e-7)}
# excused: graphs cut short by fuzz_known; conditioned: comparisons passed only within
# what rounding moves PyTorch's answer (fuzz_condition.py)
COUNTER = {"graphs": 0, "excused": 0, "conditioned": 0}


class Mismatch(AssertionError):
    pass


def _dtype_name(t):
    return str(t.dtype).replace("torch.", "").replace("chainrule.", "")


def replay(m, recipe, noise=None):
    """Values of all steps, the float leaves, and the error raised (if any). `noise(value,
    earlier, step)` may replace each result (fuzz_condition.py)."""
    vals = []
    for k, step in enumerate(recipe):
        try:
            v = build(m, vals, step)
        except Exception as err:  # noqa: BLE001 - any failure is compared across frameworks
            return vals, (k, err)
        vals.append(v if noise is None else noise(v, vals, step))
    return vals, None


def _loss_output(torch_vals):
    for k in range(len(torch_vals) - 1, -1, -1):
        if torch_vals[k].requires_grad:
            return k
    return None


def _weights(shape, dtype, seed):
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=shape).astype(dtype)


def _backward(m, vals, k, recipe):
    out = vals[k]
    w = m.tensor(_weights(tuple(out.shape), _dtype_name(out), len(recipe)))
    try:  # the second-order check runs over the same graph afterwards
        (out * w).sum().backward(retain_graph=recipe[-1][0] == "second_order")
    except Exception as err:  # noqa: BLE001
        return err
    return None


def close(got, want, rtol, atol, what, slack=None, edge=None):
    """Compare two arrays; NaN and +-inf must sit at the same positions. `slack()`: an extra
    allowance per element of `want`, asked for only when the plain comparison fails;
    `edge()`: where PyTorch's own answer under a rounding overflows (or not) as chainrule's
    does, so that an inf there on one side only is the overflow's edge."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind in "biu" or want.dtype.kind in "biu":
        if not np.array_equal(got, want) and not _within_slack(got, want, slack):
            raise Mismatch(f"{what}: values differ\n got {got}\nwant {want}")
        return
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.array_equal(np.isnan(g), np.isnan(w)):
        raise Mismatch(f"{what}: NaN positions differ\n got {got}\nwant {want}")
    gi, wi = np.where(np.isinf(g), g, 0), np.where(np.isinf(w), w, 0)
    apart = gi != wi
    if apart.any():
        if edge is None or not np.all(np.broadcast_to(edge(), w.shape)[apart]):
            raise Mismatch(f"{what}: inf positions differ\n got {got}\nwant {want}")
        COUNTER["conditioned"] += 1
    finite = np.isfinite(w) & ~apart
    if not finite.any():
        return
    scale = max(1.0, float(np.max(np.abs(w[finite]))))
    err = np.abs(g[finite] - w[finite])
    bad = err > atol * scale + rtol * np.abs(w[finite])
    if bad.any() and slack is not None:
        bad = err > atol * scale + rtol * np.abs(w[finite]) + np.broadcast_to(slack(), w.shape)[finite]
        COUNTER["conditioned"] += not bad.any()
    if bad.any():
        raise Mismatch(f"{what}: values differ (max abs err {err.max():.3g}, scale {scale:.3g})"
                       f"\n got {got}\nwant {want}")


def _within_slack(got, want, slack):
    """Integers and bools made from floats (a float32 1e15 cast to int64, a comparison of
    nearly equal values) are off by as much as a rounding moves PyTorch's own."""
    if slack is None or got.shape != want.shape:
        return False
    off = np.abs(got.astype(np.float64) - want.astype(np.float64))
    inside = bool(np.all(off <= np.broadcast_to(slack(), want.shape)))
    COUNTER["conditioned"] += inside
    return inside


def _same_meta(c, t, what):
    if _dtype_name(c) != _dtype_name(t):
        raise Mismatch(f"{what}: dtype {_dtype_name(c)} != torch {_dtype_name(t)}")
    if tuple(c.shape) != tuple(t.shape):
        raise Mismatch(f"{what}: shape {tuple(c.shape)} != torch {tuple(t.shape)}")


def _tolerance(torch_vals):
    names = {_dtype_name(t) for t in torch_vals if t.dtype.is_floating_point}
    if "float16" in names:
        return TOLERANCE["float16"]
    return TOLERANCE["float32" if "float32" in names or not names else "float64"]


def check_recipe(recipe):
    """Raise `Mismatch` (an AssertionError) when chainrule and PyTorch disagree."""
    import torch

    import chainrule
    COUNTER["graphs"] += 1
    cvals, cerr = replay(chainrule, recipe)
    tvals, terr = replay(torch, recipe)
    spelled = torch_equivalent(recipe, tvals)
    if spelled is not None:  # an intended difference: PyTorch's answer spelled as chainrule's
        tvals, terr = replay(torch, spelled)
    if (cerr is None) != (terr is None):
        k, err = cerr or terr
        who = "chainrule" if cerr else "torch"
        raise Mismatch(f"only {who} raised at step {k} {recipe[k]!r}: {type(err).__name__}: {err}")
    if cerr is not None:
        return
    rtol, atol = _tolerance(tvals)
    cond = Conditioning(spelled or recipe, _torch_answers)
    for k, (c, t) in enumerate(zip(cvals, tvals)):
        what = f"value {k} {recipe[k]!r}"
        _same_meta(c, t, what)
        got, want = c.detach().numpy(), t.detach().numpy()
        slack = lambda k=k, want=want: cond.slack(("value", k), want)  # noqa: E731
        edge = lambda k=k, got=got: cond.overflow_edge(("value", k), got)  # noqa: E731
        if recipe[k][0].startswith("int_"):  # exceptions' codes there: compared exactly
            slack = None
        known = excused(recipe, k, tvals, got, want, (rtol, atol))
        if known is not None:  # an intended difference: compared elsewhere, then stop
            close(got[~known], want[~known], rtol, atol, what, lambda: slack()[~known],
                  lambda: edge()[~known])
            COUNTER["excused"] += 1
            return
        close(got, want, rtol, atol, what, slack, edge)
    k = _loss_output(tvals)
    if k is None:
        return
    if not cvals[k].requires_grad:
        raise Mismatch(f"value {k} {recipe[k]!r}: torch requires grad, chainrule does not")
    cb, tb = _backward(chainrule, cvals, k, recipe), _backward(torch, tvals, k, recipe)
    if cb is None and excused_backward(recipe, tvals, tb):
        COUNTER["excused"] += 1  # PyTorch's known pow defects: its error or its gradient
        return
    if (cb is None) != (tb is None):
        raise Mismatch(f"backward: only {'chainrule' if cb else 'torch'} raised: {cb or tb!r}")
    if cb is not None:
        return
    _compare_leaf_grads(cvals, tvals, recipe, rtol, atol, "grad", cond)
    if recipe[-1][0] == "second_order":
        _check_second_order(chainrule, torch, cvals, tvals, k, recipe, rtol, atol, cond)


def _leaf_grads(vals, recipe, label):
    grads = {}
    for j, step in enumerate(recipe):
        g = vals[j].grad if step[0] == "leaf" and vals[j].requires_grad else None
        if g is not None:
            grads[(label, j)] = np.zeros(tuple(g.shape)) if g._is_zerotensor() else g.numpy().copy()
    return grads


def _torch_answers(recipe, noise=None):
    """PyTorch's values, leaf gradients and second-order gradients for `recipe`, by key
    (("value", k), ("grad", j), ("second-order grad", j)); None if the replay raised."""
    import torch
    vals, err = replay(torch, recipe, noise)
    if err is not None:
        return None
    out = {("value", k): v.detach().numpy().copy() for k, v in enumerate(vals)}
    k = _loss_output(vals)
    if k is None or _backward(torch, vals, k, recipe) is not None:
        return out
    out.update(_leaf_grads(vals, recipe, "grad"))
    if recipe[-1][0] == "second_order":
        try:
            _second_order(torch, vals, k, recipe)
        except Exception:  # noqa: BLE001 - no allowance from a replay that fails
            return out
        out.update(_leaf_grads(vals, recipe, "second-order grad"))
    return out


def _float_leaves(vals, recipe):
    return [vals[j] for j, s in enumerate(recipe) if s[0] == "leaf" and vals[j].requires_grad]


def _second_order(m, vals, k, recipe):
    """grad of <out, w> with create_graph, then backward of <grad, v>: leaf .grad holds
    the Hessian-vector product (None where the first gradient does not depend on it)."""
    leaves = _float_leaves(vals, recipe)
    for t in leaves:
        t.grad = None
    out = vals[k]
    w = m.tensor(_weights(tuple(out.shape), _dtype_name(out), len(recipe)))
    grads = m.autograd.grad((out * w).sum(), leaves, create_graph=True, allow_unused=True)
    terms = [(g * m.tensor(_weights(tuple(g.shape), _dtype_name(g), j))).sum()
             for j, g in enumerate(grads) if g is not None and g.requires_grad]
    if terms:
        sum(terms).backward()


def _check_second_order(chainrule, torch, cvals, tvals, k, recipe, rtol, atol, cond):
    errors = []
    for m, vals in ((chainrule, cvals), (torch, tvals)):
        try:
            _second_order(m, vals, k, recipe)
            errors.append(None)
        except Exception as err:  # noqa: BLE001
            errors.append(err)
    if (errors[0] is None) != (errors[1] is None):
        who = "chainrule" if errors[0] is not None else "torch"
        raise Mismatch(f"second order: only {who} raised: {errors[0] or errors[1]!r}")
    if errors[0] is None:
        _compare_leaf_grads(cvals, tvals, recipe, rtol, atol, "second-order grad", cond)


def _compare_leaf_grads(cvals, tvals, recipe, rtol, atol, label, cond):
    for j, step in enumerate(recipe):
        if step[0] != "leaf" or not tvals[j].requires_grad:
            continue
        cg, tg = cvals[j].grad, tvals[j].grad
        what = f"{label} of leaf {j} {step!r}"
        if label != "grad" and (cg is None) != (tg is None):  # no dependence: zeros
            cg, tg = (cg if cg is not None else cvals[j].detach() * 0,
                      tg if tg is not None else tvals[j].detach() * 0)
        if (cg is None) != (tg is None):
            raise Mismatch(f"{what}: chainrule {'has none' if cg is None else 'has one'}, torch "
                           f"{'has none' if tg is None else 'has one'}")
        if tg is not None:
            _same_meta(cg, tg, what)
            want = np.zeros(tuple(tg.shape)) if tg._is_zerotensor() else tg.numpy()
            got = cg.numpy()
            close(got, want, rtol, atol, what, lambda j=j, want=want: cond.slack((label, j), want),
                  lambda j=j, got=got: cond.overflow_edge((label, j), got))


REGRESSION_TEMPLATE = '''"""Differential-fuzzing regression ({name}): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: {found}.
First failure seen: {message}"""
from math import inf, nan  # noqa: F401  (recipes may hold them)

import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = {recipe}


def test_{name}():
    check_recipe(RECIPE)
'''


def regression_source(name, recipe, found, message):
    first_line = str(message).strip().splitlines()[0][:160] if str(message).strip() else ""
    body = "[\n" + "".join(f"    {step!r},\n" for step in recipe) + "]"
    return REGRESSION_TEMPLATE.format(name=name, recipe=body, found=found,
                                      message=first_line.replace('"""', "'''"))
