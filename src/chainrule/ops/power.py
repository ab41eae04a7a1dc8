"""Powers, as PyTorch's kernels compute them: integers to negative powers truncate,
a float tensor to -0.5 or -2 takes rsqrt or 1 / (x * x), float16 exponents overflow."""
import math
import numbers

import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import binary, c_contiguous, check_broadcast, promote, quiet, _int_scalar, _operand

_quiet = quiet


def _pow_exponent_grad(o, a, flat):
    # 0 ** b is flat in b only for b >= 0 (PyTorch's mask); for b < 0 it is inf * log 0 = -inf
    if isinstance(a, numbers.Number):  # a Python base: log(a) a Python float, so o * log(a)
        # stays in o's dtype as PyTorch's (float16 300 ** 1.67 * log 300 overflows to inf)
        log_a = math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
        return np.where(flat, 0.0, o * log_a)
    return np.where(flat, 0.0, o * np.log(np.where(flat, 1.0, a)))


# x ** 0 has gradient 0, even at x = 0; g * (b * a ** (b - 1)) in PyTorch's order: in
# float16, b * a ** (b - 1) may overflow to inf before g scales it
def _power(a, b):
    """NumPy refuses integers to negative integer powers; PyTorch truncates towards zero
    (2 ** -1 is 0, 1 ** -3 is 1, -1 ** -3 is -1, 0 ** -1 is 0)."""
    # asanyarray: a recording's traced arrays stay traced (a Python scalar stays one in
    # np.power, where NumPy takes it as weak)
    ta, tb = np.asanyarray(a), np.asanyarray(b)
    if tb.dtype.kind in "iu" and ta.dtype.kind in "iub" and np.any(tb < 0):
        out = np.power(a, np.maximum(b, 0))
        neg = tb < 0
        unit = np.where(ta == -1, np.where(tb % 2 == 0, 1, -1), np.where(ta == 1, 1, 0))
        return np.where(neg, unit, out).astype(out.dtype, copy=False)
    return np.power(a, b)


POW = Op("PowBackward1", _quiet(_power),
         _quiet(lambda g, o, a, b: np.where(b == 0, 0.0, g * (b * a ** (b - 1)))),
         _quiet(lambda g, o, a, b: g * _pow_exponent_grad(o, a, (a == 0) & (b >= 0))),
         uses_out=True)


def _scalar_power(a, b):
    """A float32/float64 tensor to a Python number, as PyTorch's CPU kernel: -0.5 is
    1 / sqrt(x) and -2 is 1 / (x * x) in x's dtype (rsqrt(-inf) is NaN and rsqrt(-0) -inf,
    where pow gives 0 and inf; 1 / (1e20 * 1e20) is 0 in float32, pow 1e-40); 0.5 is sqrt
    and 2 is x * x (sqrt(-inf) is NaN and sqrt(-0) -0, where C's pow gives inf and 0: newer
    NumPy takes these shortcuts itself, NumPy 2.0 does not). A float32 tensor's exponent
    stays a double: (-1.5) ** (2 ** 40 - 1) is -inf, not float32's even 2 ** 40's inf."""
    if not isinstance(a, np.ndarray):  # create_graph: tensors, the rule differentiable
        return a ** b
    if np.ndim(b) == 0 and a.dtype in (np.float32, np.float64):
        if b in (0.5, 2):
            return np.sqrt(a) if b == 0.5 else a * a
        if b in (-0.5, -2):
            return np.reciprocal(np.sqrt(a) if b == -0.5 else a * a)
        if a.dtype == np.float32 and float(np.float32(b)) != b:
            return np.power(a.astype(np.float64), float(b)).astype(np.float32)
    return _power(a, b)


# PyTorch's rule exponent · x.pow(exponent - 1) takes the same kernel (x ** 0.5's gradient
# at -0 is 0.5 · rsqrt(-0) = -inf)
POW_SCALAR = Op("PowBackward0", _quiet(_scalar_power),
                _quiet(lambda g, o, a, b: np.where(b == 0, 0.0, g * (b * _scalar_power(a, b - 1)))),
                POW.grads[1], uses_out=True, scalar_slot=1)  # x ** 2
POW_RSCALAR = Op("PowBackward2", c_contiguous(POW.forward), *POW.grads, uses_out=True,
                  scalar_slot=0)  # 2 ** x
def pow(a, b):
    op = (POW_RSCALAR if isinstance(a, numbers.Number) else
          POW_SCALAR if isinstance(b, numbers.Number) else POW)
    if (isinstance(a, Tensor) and type(b) is int and b < 0
            and a._data.dtype.kind in "iub"):  # a Python int exponent only (PyTorch's check)
        raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
    if isinstance(a, Tensor) and (_int_scalar(b, a._data) is not b or _past_half(a, b)):
        raise RuntimeError(f"pow: exponent {b} cannot be converted to type {a.dtype} without "
                           "overflow")
    if promote(_operand(a, "pow"), _operand(b, "pow")) == np.bool_:
        if isinstance(a, Tensor) and type(b) is bool:  # PyTorch's x ** 1 and x ** 0
            return a.clone() if b else Tensor._wrap(np.ones_like(a._data))
        check_broadcast("pow", _operand(a, "pow"), _operand(b, "pow"))
        raise NotImplementedError("pow: not implemented for bool tensors")
    return binary(op, a, b, wrap_int=True)  # an int base wraps to the exponent's dtype


def _past_half(a, b):
    """A float16 tensor takes its exponent as a float16: past 65,504 is an overflow."""
    return (a._data.dtype == np.float16 and isinstance(b, numbers.Real) and type(b) is not bool
            and math.isfinite(b) and abs(b) > 65504)
