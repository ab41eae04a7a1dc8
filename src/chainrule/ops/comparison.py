"""Comparisons and logic: results are bool tensors, never differentiable; operands are
compared in PyTorch's common dtype, not NumPy's."""
import numpy as np

from ..tensors.tensor import Tensor
from .core import _operand, in_common_dtype, promote


def _compare(npfn):
    def fn(a, b):
        a, b = _operand(a, npfn.__name__), _operand(b, npfn.__name__)
        ad = a._data if isinstance(a, Tensor) else a
        bd = b._data if isinstance(b, Tensor) else b
        # compare in PyTorch's common dtype, not NumPy's: int8 == 128 is int8 == -128
        ad, bd = in_common_dtype(promote(a, b), a, b, ad, bd)
        try:
            return Tensor._wrap(np.asanyarray(npfn(ad, bd)))
        except ValueError:
            raise RuntimeError(f"{npfn.__name__}: shapes {tuple(getattr(a, 'shape', ()))} and "
                               f"{tuple(getattr(b, 'shape', ()))} cannot be broadcast together") from None
    fn.__name__ = npfn.__name__
    return fn


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)
def logical_not(x):
    return Tensor._wrap(np.logical_not(x._data))


def isnan(x):
    return Tensor._wrap(np.isnan(x._data))


def isinf(x):
    return Tensor._wrap(np.isinf(x._data))


def isfinite(x):
    return Tensor._wrap(np.isfinite(x._data))


def equal(a, b):
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._wrap(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
