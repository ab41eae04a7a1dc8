"""Optimizer updates as one compiled loop per element, with numba (the optional `fast`
extra). Each loop performs the IEEE operations the NumPy path performs (the same
operations, operands and order, in the parameter's dtype), so it gives the same bits:
only + - * / and sqrt, which are correctly rounded in both; no fastmath, so LLVM neither
reorders nor contracts a*b+c into a fused multiply-add; error_model="numpy" keeps
division plain IEEE (Python's model adds a zero check that also stops vectorising).
Hyperparameters are cast to the array's dtype first, as NumPy casts a Python float
used with a float32 array. Where a step would make a NaN, whose sign IEEE 754 leaves to
the implementation, the loop stores nothing and the NumPy code runs (fused_loops.py).
Without numba, or for options a loop does not cover, the optimizers run their NumPy code.

Importing numba and compiling a loop takes a second or two, which a short run would never
earn back, so the loops run only where asked for: `Adam(..., fused=True)`, and the
optimizers a function compiled with `mode="max-autotune"` steps. The bits are the same
either way, so switching mid-run changes no number."""
import importlib.util
import operator
import warnings

import numpy as np

ENABLED = [importlib.util.find_spec("numba") is not None]  # [False]: as if not installed
_STARTED = [False]
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def use_numba():
    """Import numba (once) for the loops; False, changing nothing, when it is not
    installed."""
    if ENABLED[0] and not _STARTED[0]:
        import numba  # noqa: F401  (the cost is paid here, once)
        _STARTED[0] = True
    return ENABLED[0]


def available(who):
    """use_numba(), with a warning naming the extra when numba is missing."""
    if use_numba():
        return True
    warnings.warn(f"{who}: numba is not installed, so NumPy calls run instead of compiled "
                  "loops (the same numbers); `pip install \"chainrule[fast]\"` adds it",
                  RuntimeWarning, stacklevel=4)
    return False


def flat_views(arrays, dtype):
    """Each array as a 1-d view of its memory (plain ndarray, as numba takes), or None
    when one is not C-contiguous (a view could not be written back through) or not of
    `dtype`."""
    out = []
    for a in arrays:
        if not a.flags.c_contiguous or a.dtype != dtype:
            return None
        if type(a) is not np.ndarray:  # a recording's traced array
            a = a.view(np.ndarray)
        out.append(a.ravel())
    return tuple(out)


class Views:
    """flat_views of a step's arrays, made again only when they are other arrays than the
    last step's (a step's parameters, gradients and moments usually are the same)."""
    __slots__ = ("arrays", "views")

    def __init__(self):
        self.arrays, self.views = (), None

    def of(self, arrays, dtype):
        if not (len(arrays) == len(self.arrays) and all(map(operator.is_, arrays, self.arrays))
                and self.views is not None and self.views[0].dtype == dtype):
            self.arrays, self.views = tuple(arrays), flat_views(arrays, dtype)
        return self.views


def usable(dtype):
    return ENABLED[0] and dtype in _DTYPES and use_numba()


def adam(params, grads, m, v, group, step):
    """One Adam step (number `step`) over `params` (a tuple of 1-d views, see flat_views), their
    gradients and the flat moment buffers `m`, `v` laid end to end in the same order,
    updated in place; False, with nothing changed, where a value would be NaN. The caller
    has checked `usable` and that amsgrad is off."""
    lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
    beta1, beta2 = (float(b) for b in group["betas"])
    decoupled = bool(group["decoupled_weight_decay"]) and wd != 0
    l2 = not group["decoupled_weight_decay"] and wd != 0
    step_size = lr / (1.0 - beta1 ** step)
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    consts = np.array([1.0 - lr * wd, wd, 1.0 - beta1, beta2, 1.0 - beta2,
                       bias_correction2_sqrt, eps, -step_size], m.dtype)
    from . import fused_loops  # numba is imported once use_numba() ran
    loop = fused_loops.adam(decoupled, l2, bool(group["maximize"]))
    return loop(params, grads, m, v, consts)
