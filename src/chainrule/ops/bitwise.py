"""Bitwise ops on integer and bool tensors: and, or, xor, not, and the shifts, with
PyTorch's promotion (a Python int wraps to the tensor's dtype) and its shifts past the
width (0, or -1 for a negative number shifted right; a negative shift count gives 0)."""
import numpy as np

from ..autograd.function import Op
from ..tensor import Tensor
from .core import binary


def _int_only(name, *operands):
    for v in operands:
        kind = v._data.dtype.kind if isinstance(v, Tensor) else (
            "f" if isinstance(v, float) else "i")
        if kind == "f":
            raise NotImplementedError(f"{name}: not implemented for floating-point tensors "
                                      "(integer and bool tensors only)")


def _shift(a, b, left):
    a, b = np.asarray(a), np.asarray(b)
    if np.result_type(a, b) == np.bool_:
        raise NotImplementedError("bitwise shifts: not implemented for bool tensors")
    bits = 8 * np.result_type(a, b).itemsize
    count = np.clip(b, 0, bits - 1)
    out = np.left_shift(a, count) if left else np.right_shift(a, count)
    past = (b < 0) | (b >= bits) if left else b >= bits
    if left or not np.any(past):
        return np.where(past, 0, out).astype(out.dtype, copy=False) if np.any(past) else out
    # shifting right past the width leaves the sign; a negative count gives 0
    fill = np.where(a < 0, -1, 0)
    out = np.where(past, fill, out)
    return np.where(b < 0, 0, out).astype(np.result_type(a, b), copy=False)


def _binary_fn(npfn, name):
    op = Op(name, npfn)

    def fn(a, b):
        _int_only(name, a, b)
        return binary(op, a, b, wrap_int=True)
    fn.__name__ = name
    return fn


bitwise_and = _binary_fn(np.bitwise_and, "bitwise_and")
bitwise_or = _binary_fn(np.bitwise_or, "bitwise_or")
bitwise_xor = _binary_fn(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _binary_fn(lambda a, b: _shift(a, b, True), "bitwise_left_shift")
bitwise_right_shift = _binary_fn(lambda a, b: _shift(a, b, False), "bitwise_right_shift")


def bitwise_not(x):
    if x._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor._wrap(np.invert(x._data))
