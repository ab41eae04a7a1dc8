"""Bitwise ops on integer and bool tensors: and, or, xor, not, and the shifts, with
PyTorch's promotion (a Python int wraps to the tensor's dtype) and its shifts by a count
outside [0, width): 0 to the left, the sign (0 or -1) to the right."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import binary, check_broadcast


def _int_only(name, *operands):
    check_broadcast(name, *operands)
    for v in operands:
        kind = v._data.dtype.kind if isinstance(v, Tensor) else (
            "f" if isinstance(v, float) else "i")
        if kind == "f":
            raise NotImplementedError(f"{name}: not implemented for floating-point tensors "
                                      "(integer and bool tensors only)")


def _shift(a, b, left):
    # asanyarray: a compile recording's traced arrays stay traced; no branch on the
    # values, so a replay computes what eager does whatever the counts are
    a, b = np.asanyarray(a), np.asanyarray(b)
    if np.result_type(a, b) == np.bool_:
        raise NotImplementedError("bitwise shifts: not implemented for bool tensors")
    bits = 8 * np.result_type(a, b).itemsize
    outside = (b < 0) | (b >= bits)
    # a count outside [0, width): a signed number shifted right keeps its sign (0 or -1),
    # every other shift clears all bits, as PyTorch's kernels do
    out = (np.left_shift if left else np.right_shift)(a, np.where(outside, bits - 1, b))
    if left or np.result_type(a, b).kind == "u":
        out = np.where(outside, 0, out).astype(out.dtype, copy=False)
    return out


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
        raise NotImplementedError(f"bitwise_not: not implemented for {x.dtype} tensors "
                                  "(integer and bool tensors only)")
    return Tensor._wrap(np.invert(x._data))


def invert(x):
    """`~x`: Python's operator refuses a float tensor with TypeError, as in PyTorch."""
    if x._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor._wrap(np.invert(x._data))
