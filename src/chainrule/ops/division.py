"""Division with PyTorch's rules: true division, floor and trunc rounding, floor_divide
and remainder. Integer division by zero raises; a bool result type is refused; floor_divide
and `number % tensor` have no derivative (backward raises, as PyTorch); div with a rounding
mode has zero gradients; each Python-number overload is its own node, as PyTorch's."""
import numbers

import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import as_common, binary, check_broadcast, promote, _operand
from .elementwise import DIV, _quiet, _zero_grad


def _no_derivative(aten_name):
    """PyTorch records these ops but has no formula: backward through them raises."""
    def rule(g, o, *args):
        raise RuntimeError(f"derivative for aten::{aten_name} is not implemented")
    return rule


# floor_divide and `number % tensor` have no derivative in PyTorch; div(rounding_mode=
# "floor") has zero gradients (np.floor_divide on tensors, in remainder's rule, is it)
FLOORDIV = Op("NotImplemented", _quiet(np.floor_divide), _no_derivative("floor_divide"),
              _no_derivative("floor_divide"), saves_inputs=False)
FLOORDIV_SCALAR, RFLOORDIV = (FLOORDIV.renamed("NotImplemented", scalar_slot=i) for i in (1, 0))
DIV_FLOOR = Op("DivBackward2", _quiet(np.floor_divide), _zero_grad, _zero_grad,
               saves_inputs=False)


def _trunc_divide(a, b):
    """a / b rounded towards zero: integers exactly (not through a float), float16 from
    its float32 quotient, as PyTorch's kernels."""
    if np.result_type(a, b).kind in "iu":
        q, r = np.floor_divide(a, b), np.remainder(a, b)
        moved = (r != 0) & ((np.asanyarray(a) < 0) != (np.asanyarray(b) < 0))
        return (q + moved).astype(q.dtype, copy=False)
    out = np.trunc(np.true_divide(*(np.asanyarray(v).astype(np.float32)
                                    if np.asanyarray(v).dtype == np.float16 else v
                                    for v in (a, b))))
    return out.astype(np.result_type(a, b), copy=False)


DIV_TRUNC = Op("DivBackward2", _quiet(_trunc_divide), _zero_grad, _zero_grad,
               saves_inputs=False)
def _remainder(a, b):
    """PyTorch's float remainder: fmod moved to b's sign when not zero, so a zero keeps a's
    sign (-3.0 % 3 is -0.0; NumPy's takes b's); integers as NumPy's."""
    mod = np.fmod(a, b)
    if mod.dtype.kind != "f":
        return np.remainder(a, b)
    moved = (mod != 0) & ((np.asanyarray(b) < 0) != (mod < 0))
    return np.where(moved, mod + b, mod).astype(mod.dtype, copy=False)


REMAINDER = Op("RemainderBackward1", _quiet(_remainder),
               lambda g, o, a, b: g, lambda g, o, a, b: -g * np.floor_divide(a, b))
REMAINDER_SCALAR = REMAINDER.renamed("RemainderBackward0", scalar_slot=1)  # x % 2
RREMAINDER = Op("NotImplemented", _quiet(_remainder), _no_derivative("remainder"),
                _no_derivative("remainder"), saves_inputs=False, scalar_slot=0)  # 2 % x


def _no_bool_kernel(name, a, b):
    """Divisions without a bool kernel (floor_divide, remainder, rounded div) refuse when the
    operands promote to bool, before any other check: bool // 2 is int64, bool // True
    is refused."""
    a, b = _operand(a, name), _operand(b, name)
    if promote(a, b) == np.bool_:
        check_broadcast(name, a, b)
        raise NotImplementedError(f"{name}: not implemented for bool tensors")


def div(a, b, rounding_mode=None):
    if rounding_mode == "floor":
        return div_floor(a, b)
    if rounding_mode == "trunc":
        _no_bool_kernel("div", a, b)
        _check_int_divisor("div", a, b)
        return binary(DIV_TRUNC, a, b, wrap_int=True)
    if rounding_mode is not None:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found {rounding_mode!r}")
    return binary(DIV, a, b, float_result=True)


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """PyTorch raises RuntimeError('ZeroDivisionError'); either except clause catches it."""


def _check_int_divisor(name, a, b):
    # NumPy quietly returns 0 for integer x // 0; PyTorch raises, and so do we
    a, b = _operand(a, name), _operand(b, name)
    want = promote(a, b)
    if want.kind in "iub":
        # the divisor in the common dtype: int8 // 256 and uint8 % int64(-2 ** 63) are // 0
        divisor = as_common(want, b, b._data if isinstance(b, Tensor) else b)
        if np.any(np.asanyarray(divisor) == 0):
            raise IntegerDivisionByZero(f"ZeroDivisionError: {name}: integer division by zero "
                                        "(the divisor holds zeros); use floating-point tensors "
                                        "to get inf/nan")


def by_operands(a, b, tensors, number_right, number_left):
    """The op of PyTorch's overload: `x % y`, `x % 2` and `2 % x` are three nodes."""
    if isinstance(b, numbers.Number) and not isinstance(b, Tensor):
        return number_right
    return number_left if isinstance(a, numbers.Number) and not isinstance(a, Tensor) else tensors


def floor_divide(a, b):
    _no_bool_kernel("floor_divide", a, b)
    _check_int_divisor("floor_divide", a, b)
    return binary(by_operands(a, b, FLOORDIV, FLOORDIV_SCALAR, RFLOORDIV), a, b, wrap_int=True,
                  name="floor_divide")


def div_floor(a, b):
    """div(rounding_mode="floor"): floor_divide's values with zero gradients."""
    _no_bool_kernel("div", a, b)
    _check_int_divisor("div", a, b)
    return binary(DIV_FLOOR, a, b, wrap_int=True)


def remainder(a, b):
    _no_bool_kernel("remainder", a, b)
    _check_int_divisor("remainder", a, b)
    return binary(by_operands(a, b, REMAINDER, REMAINDER_SCALAR, RREMAINDER), a, b,
                  wrap_int=True, name="remainder")
