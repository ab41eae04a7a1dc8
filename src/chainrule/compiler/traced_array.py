"""The array type a recording runs on: a NumPy subclass whose ufuncs, array functions and
methods run as usual and are also handed to the running recorder (`trace.Recorder`), with
their arguments resolved to plain arrays; a value that leaves an array (`item`, `tolist`,
`bool`) is handed over as a guard."""
import numpy as np

from ..runtime import recording_hooks

# ndarray methods that NumPy does not route through __array_function__/__array_ufunc__
_METHODS = ("astype", "copy", "reshape", "ravel", "flatten", "repeat", "take", "dot",
            "argmax", "argmin", "cumsum", "cumprod", "round", "nonzero", "argsort", "sort",
            "fill", "put", "squeeze", "transpose", "swapaxes", "diagonal", "searchsorted",
            "__getitem__", "__setitem__")
_ESCAPES = ("item", "tolist", "__float__", "__int__", "__index__", "__complex__")

_view = np.ndarray.view


def _plain(x):
    t = type(x)
    if t is Traced:
        return _view(x, np.ndarray)
    if t is tuple or t is list:
        return t(_plain(v) for v in x)
    return x


class Traced(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _dispatch(ufunc if method == "__call__" else getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _dispatch(func, args, kwargs)

    def __bool__(self):
        value = bool(_view(self, np.ndarray))
        recorder = recording_hooks.ACTIVE[0]
        if recorder is not None and not recorder.suspended:
            recorder.guard(self, value)
        return value


def _method(name):
    unbound = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        return _dispatch(unbound, (self, *args), kwargs)
    method.__name__ = name
    return method


def _escape(name):
    unbound = getattr(np.ndarray, name)

    def method(self, *args):
        value = unbound(_view(self, np.ndarray), *args)
        recorder = recording_hooks.ACTIVE[0]
        if recorder is not None and not recorder.suspended:
            recorder.escape(self, value, unbound, args)
        return value
    method.__name__ = name
    return method


for _name in _METHODS:
    setattr(Traced, _name, _method(_name))
for _name in _ESCAPES:
    setattr(Traced, _name, _escape(_name))


def _dispatch(fn, args, kwargs):
    recorder = recording_hooks.ACTIVE[0]
    pargs = [_plain(a) for a in args]
    pkw = {k: _plain(v) for k, v in kwargs.items()} if kwargs else kwargs
    if recorder is None or recorder.suspended:
        return fn(*pargs, **pkw)
    effect = recorder.writes_outside(fn, pargs, pkw)
    if effect:
        recorder.checkpoint()
        recorder.irreversible = True
    result = recorder.kernel(fn, args, kwargs, pargs, pkw, fn(*pargs, **pkw), not effect)
    if effect:
        recorder.effect_done()
    return result
