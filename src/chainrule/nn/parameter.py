"""Parameters: tensors a Module registers, trains and saves. A Parameter is a Tensor
subclass that only changes how it prints; ops treat it as any tensor and return plain
tensors."""
import numpy as np

from ..tensors import dtypes
from ..tensors.printing import tensor_repr
from ..tensors.tensor import Tensor


class Parameter(Tensor):
    """`Parameter(data, requires_grad=True)`: a Tensor sharing `data`'s storage."""
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty(0, dtype=dtypes.get_default_dtype().np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter: expected a tensor as data, got {type(data).__name__}")
        t = cls._wrap(arr)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, *args, **kwargs):
        pass  # everything happens in __new__ (Tensor.__init__ would read args as sizes)

    def __repr__(self):
        return "Parameter containing:\n" + tensor_repr(self)

    __str__ = __repr__  # print(param) shows the header too (Tensor binds __str__ to its own)

    def __reduce_ex__(self, protocol):
        # copy.deepcopy / pickle: rebuild through __new__ with a copy of the data
        return (_rebuild, (type(self), self._data, self.requires_grad))


def _rebuild(cls, arr, requires_grad):
    t = Parameter(Tensor._wrap(np.array(arr, copy=True)), requires_grad)
    if cls is UninitializedParameter:
        t.__class__ = UninitializedParameter
    return t


class UninitializedParameter(Parameter):
    """Placeholder of a lazy module: an empty Parameter whose storage is replaced in place
    (same object) once the input size is known, so optimizers built earlier see it."""
    __slots__ = ()

    def __new__(cls, requires_grad=True, dtype=None):
        arr = np.empty(0, dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype()))
        return Parameter.__new__(cls, Tensor._wrap(arr), requires_grad)

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__


class UninitializedBuffer(Tensor):
    """Placeholder buffer of a lazy module (a running mean before the first input), made
    real in place by `materialize` as a plain tensor."""
    __slots__ = ()

    def __new__(cls, requires_grad=False, dtype=None):
        arr = np.empty(0, dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype()))
        return cls._wrap(arr)

    def __init__(self, *args, **kwargs):
        pass

    def __repr__(self):
        return "<UninitializedBuffer>"

    __str__ = __repr__


def materialize(t, shape):
    """Give a lazy placeholder its real storage (zeros of `shape`) without a new object."""
    t._data = np.zeros(shape, dtype=t._data.dtype)
    t._version[0] += 1
    t.__class__ = Tensor if isinstance(t, UninitializedBuffer) else Parameter
    return t


def is_parameter(t):
    return isinstance(t, Parameter)
