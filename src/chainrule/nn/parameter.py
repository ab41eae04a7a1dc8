"""Parameters: tensors a Module registers, trains and saves.

A Parameter is a plain `chainrule.Tensor` (requires_grad=True) remembered in a registry,
not a Tensor subclass: the core's hot paths (`apply`, `binary`) test `type(t) is Tensor`
and would hand a subclass instance, not its array, to NumPy. `isinstance(p, Parameter)`
still works through the metaclass, and printing shows `Parameter containing:`."""
import weakref

import numpy as np

from .. import printing
from ..tensor import Tensor

_PARAMS = {}  # id(tensor) -> weakref; ids, not the tensors, are hashed (== is elementwise)
_UNINIT = {}


def _remember(table, t):
    key = id(t)
    table[key] = weakref.ref(t, lambda _r, key=key: table.pop(key, None))
    return t


def _is(table, t):
    ref = table.get(id(t))
    return ref is not None and ref() is t


def is_parameter(t):
    return _is(_PARAMS, t)


class _ParameterMeta(type):
    def __instancecheck__(cls, obj):
        if cls is UninitializedParameter:
            return _is(_UNINIT, obj)
        return _is(_PARAMS, obj)


class Parameter(metaclass=_ParameterMeta):
    """`Parameter(data, requires_grad=True)`: a Tensor sharing `data`'s storage."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter: expected a tensor as data, got {type(data).__name__}")
        t = Tensor._wrap(arr)
        if requires_grad:
            t.requires_grad_(True)
        return _remember(_PARAMS, t)


class UninitializedParameter(Parameter):
    """Placeholder of a lazy module: an empty Parameter whose storage is replaced in place
    (same tensor object) once the input size is known, so optimizers built earlier see it."""

    def __new__(cls, requires_grad=True, dtype=None):
        from .. import dtypes
        arr = np.empty(0, dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype()))
        t = Parameter(Tensor._wrap(arr), requires_grad)
        return _remember(_UNINIT, t)


def materialize(t, shape):
    """Give a lazy placeholder its real storage (zeros of `shape`) without a new object."""
    t._data = np.zeros(shape, dtype=t._data.dtype)
    t._version[0] += 1
    _UNINIT.pop(id(t), None)
    return t


def _repr(t, _inner=printing.tensor_repr):
    if _is(_UNINIT, t):
        return "<UninitializedParameter>"
    if _is(_PARAMS, t):
        return "Parameter containing:\n" + _inner(t)
    return _inner(t)


# Tensor.__repr__ looks `tensor_repr` up at call time; wrapping it here is how parameters
# print as in PyTorch without a Tensor subclass.
if not getattr(printing.tensor_repr, "_param_aware", False):
    _repr._param_aware = True
    printing.tensor_repr = _repr
