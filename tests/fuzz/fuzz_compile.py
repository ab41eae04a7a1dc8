"""Compiled against eager: a recipe's graph, forward and backward, as one function of its
leaves, run through `chainrule.compile` and eagerly with the same fresh leaf values on
every call. Every value and every leaf gradient must be the same bits. Falling back to
eager (with its warning) is allowed: it is never wrong, only slower; it is counted."""
import warnings

import numpy as np

from chainrule.compiler.fuse import _loop_or_steps
from fuzz_check import Mismatch, _weights
from fuzz_ops import build, leaf_tensor

CALLS = 4  # two recordings, then replays
COUNTER = {"graphs": 0, "replayed": 0, "eager": 0, "fused": 0, "nan_sign": 0}


def _step_function(chainrule, recipe, leaves):
    loss_at = [k for k, s in enumerate(recipe) if s[0] != "leaf"]

    def run():
        for t in leaves:
            t.grad = None
        vals, it = [], iter(leaves)
        for step in recipe:
            vals.append(next(it) if step[0] == "leaf" else build(chainrule, vals, step))
        grad_at = [k for k in loss_at if vals[k].requires_grad]
        if grad_at:
            out = vals[grad_at[-1]]
            w = chainrule.tensor(_weights(tuple(out.shape), str(out.dtype).split(".")[-1], 7))
            (out * w).sum().backward()
        return ([v.detach().clone() for v in vals],
                [None if t.grad is None else t.grad.clone() for t in leaves])
    return run


def _fresh_leaves(chainrule, recipe, call):
    return [leaf_tensor(chainrule, s[1], s[2], s[3] + 7919 * call, *s[4:])
            for s in recipe if s[0] == "leaf"]


def _same(got, want, what):
    if (got is None) != (want is None):
        raise Mismatch(f"{what}: compiled {'has' if got is not None else 'lacks'} a value")
    if got is None:
        return
    if got.dtype != want.dtype or tuple(got.shape) != tuple(want.shape):
        raise Mismatch(f"{what}: {got.dtype}{tuple(got.shape)} != eager "
                       f"{want.dtype}{tuple(want.shape)}")
    if got._data.tobytes() != want._data.tobytes():
        if _only_nan_signs_differ(got._data, want._data):
            COUNTER["nan_sign"] += 1
            return
        raise Mismatch(f"{what}: compiled and eager differ\n got {got._data}\nwant {want._data}")


def _only_nan_signs_differ(a, b):
    """The one difference allowed, counted: the sign of a NaN. Where two NaNs meet, IEEE
    754 leaves open which one the result carries; eager computes 0-d intermediates with
    NumPy's scalar arithmetic (a NumPy float), a recording and its replays with NumPy's
    array loops on 0-d arrays, and the two pick different operands (found by a campaign:
    cross-entropy over an inf logit under log_sigmoid, seed 63)."""
    if a.dtype.kind not in "fc":
        return False
    nan = np.isnan(a)
    return (np.array_equal(nan, np.isnan(b))
            and np.where(nan, 0, a).tobytes() == np.where(nan, 0, b).tobytes())


def _same_refusal(err, eager, call):
    """The compiled call raised: eager, on the same values, must raise the same."""
    try:
        eager()
    except Exception as want:  # noqa: BLE001
        if type(want) is type(err) and str(want) == str(err):
            return
        raise Mismatch(f"call {call}: compiled raised {type(err).__name__}: {err}; eager "
                       f"{type(want).__name__}: {want}") from None
    raise Mismatch(f"call {call}: compiled raised {type(err).__name__}: {err}; eager did "
                   "not") from None


def check_compiled(recipe, mode=None, repeat_first=False):
    """Raise Mismatch when a compiled replay of the recipe differs from eager (mode:
    compile's; "max-autotune" replays runs of elementwise steps as numba loops).
    repeat_first: the second call gets the first call's values, so the two recordings see
    the same numbers and the replays new ones (a value computed outside the trace and
    baked into the recording shows there)."""
    import chainrule
    from chainrule.compiler.compiled import BranchChanged
    first = _fresh_leaves(chainrule, recipe, 0)
    twins = [leaf_tensor(chainrule, s[1], s[2], s[3], *s[4:]) for s in recipe if s[0] == "leaf"]
    try:
        _step_function(chainrule, recipe, twins)()
    except Exception:  # noqa: BLE001 - a recipe eager refuses is compared elsewhere
        return
    COUNTER["graphs"] += 1
    compiled = chainrule.compile(_step_function(chainrule, recipe, first), mode=mode)
    eager = _step_function(chainrule, recipe, twins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for call in range(CALLS):
            fresh = _fresh_leaves(chainrule, recipe, 0 if repeat_first and call == 1 else call)
            with chainrule.no_grad():
                for mine, twin, new in zip(first, twins, fresh):
                    mine.copy_(new)
                    twin.copy_(new)
            try:
                got = compiled()
            except BranchChanged:
                return  # a guarded branch went the other way: raised, never replayed wrong
            except Exception as err:  # noqa: BLE001 - eager must refuse these values too
                _same_refusal(err, eager, call)
                return
            want = eager()
            for k, (g, w) in enumerate(zip(got[0], want[0])):
                _same(g, w, f"call {call}, value {k} {recipe[k]!r}")
            for j, (g, w) in enumerate(zip(got[1], want[1])):
                _same(g, w, f"call {call}, grad of leaf {j}")
    COUNTER["eager" if compiled._eager else "replayed"] += 1
    COUNTER["fused"] += any(getattr(step, "func", None) is _loop_or_steps
                            for entries in compiled._cache.values() for e in entries
                            for step in e.replay_steps or ())
