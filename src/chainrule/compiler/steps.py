"""The replay steps that are more than one NumPy call: recomputing a kernel into its
buffers, setting `.grad`, and guarding a branch or a value-dependent shape."""
import functools

import numpy as np


class GuardFailed(RuntimeError):
    """A replay reached a branch on a tensor's value that went the other way when recorded."""


class ValueChanged(GuardFailed):
    """A value taken out of a tensor (`item()`, `tolist()`, `int(t)`) differs from the
    recorded one. `again`: nothing the replay did so far needs undoing, so the call can
    be recorded again instead."""

    def __init__(self, message, again):
        super().__init__(message)
        self.again = again


_REDUCE_KEYS = {"axis", "dtype", "out", "keepdims", "where"}
_OUT_BY_NAME = (np.maximum, np.minimum)  # a third argument by position is deprecated


def bound(fn, pargs, pkw):
    """`fn(*pargs, **pkw)` as a step, with `out` passed by position where NumPy takes it
    so (parsing keywords costs more than many of the small kernels it runs)."""
    out = pkw.get("out") if pkw else None
    if type(out) is tuple and len(out) == 1:
        out = out[0]
    if isinstance(out, np.ndarray):
        if (isinstance(fn, np.ufunc) and fn.nout == 1 and len(pargs) == fn.nin
                and fn not in _OUT_BY_NAME):
            rest = {k: v for k, v in pkw.items() if k != "out"}
            return functools.partial(fn, *pargs, out, **rest)
        if (isinstance(getattr(fn, "__self__", None), np.ufunc) and fn.__name__ == "reduce"
                and len(pargs) == 1 and pkw.keys() <= _REDUCE_KEYS
                and pkw.get("where", True) is True):
            return functools.partial(fn, pargs[0], pkw.get("axis", 0), pkw.get("dtype"), out,
                                     pkw.get("keepdims", False))
    return functools.partial(fn, *pargs, **pkw)


def recompute(fn, pargs, pkw, fresh):
    """Step for a kernel without out=: run it, copy each new result into its buffer."""
    def step():
        result = fn(*pargs, **pkw)
        for index, buf in fresh:
            part = np.asanyarray(result if index is None else result[index])
            if part.shape != buf.shape:  # nonzero, a boolean mask: the shape follows values
                name = getattr(fn, "__name__", type(fn).__name__)
                raise GuardFailed(f"the shape of {name}'s result depends on the values "
                                  f"({buf.shape} when recorded, {part.shape} now)")
            np.copyto(buf, part)
    return step


def assign_grad(leaf, buf, Tensor):
    def step():
        leaf.grad = Tensor._wrap(buf)
    return step


def accumulate_grad(leaf, g):
    def step():
        np.add(leaf.grad._data, g, out=leaf.grad._data, casting="unsafe")
    return step


def guard(plain, value, where):
    def step():
        if bool(plain) != value:
            raise GuardFailed(f"a branch on a tensor's value (kernel {where}) went the other "
                              f"way than when it was recorded ({value} then {not value})")
    return step


def value_guard(plain, seen, where, again):
    def step():
        if plain.tobytes() != seen:
            raise ValueChanged(f"the value of {where} differs from the recorded one", again)
    return step


def nothing():
    return None


def call_step(fn, args, kwargs, fresh):
    """Step for a call replayed as a call (optimizer.step, manual_seed); `fresh` maps an
    argument's position to how to read it again (a value taken out of a tensor)."""
    if not fresh:  # the common case (opt.step(), zero_grad()): one bound call
        return functools.partial(fn, *args, **kwargs)
    getters = [fresh.get(i, functools.partial(_same, a)) for i, a in enumerate(args)]
    return lambda: fn(*[get() for get in getters], **kwargs)


def _same(a):
    return a
