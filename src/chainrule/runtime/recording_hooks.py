"""What a `chainrule.compile` recording needs to see beyond NumPy calls on traced arrays.

Most of a step is NumPy kernels on tensors' arrays, which the recorder sees through its
traced array type. A few things are not: random draws (a NumPy Generator call with no
array argument), `.grad` being set by backward, and calls whose effects live in Python
objects (an optimizer's step counter, `zero_grad` setting `.grad = None`). Those places
ask this module whether a recording is running. It imports nothing from chainrule, so
any module may use it."""
import functools

import numpy as np

ACTIVE = [None]   # the recorder of the call being recorded, or None


def replayed(fn=None, *, idempotent=False):
    """Mark a call whose effects are Python state: a recording keeps the call itself and
    every replay runs it again, eagerly (optimizer.step, zero_grad, scheduler.step,
    manual_seed). idempotent=True: running it twice leaves what running it once leaves
    (zero_grad, manual_seed), so a replay stopped after it can be recorded again."""
    if fn is None:
        return functools.partial(replayed, idempotent=idempotent)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        recorder = ACTIVE[0]
        if recorder is None or recorder.suspended:
            return fn(*args, **kwargs)
        return recorder.opaque(fn, args, kwargs, idempotent)
    return wrapper


def fresh(arr):
    """While a call is recorded: whether `arr` is a whole new result of one of its kernels
    (an array no one else holds, which backward may make `.grad` without a copy)."""
    recorder = ACTIVE[0]
    return recorder is not None and recorder.fresh(arr)


def buffer(shape, dtype):
    """A new array that the next kernels fill whole; while a call is recorded, memory of
    the recording, which each replay's kernels refill."""
    recorder = ACTIVE[0]
    if recorder is None or recorder.suspended:
        return np.empty(shape, dtype)
    return recorder.buffer(shape, dtype)


def unsupported(reason):
    """Tell a running recording that this call cannot be replayed (it falls back)."""
    recorder = ACTIVE[0]
    if recorder is not None:
        recorder.unsupported(reason)
