"""More pointwise math: trigonometric and hyperbolic functions and their inverses, log10,
expm1, exp2, reciprocal, frac, angle conversions, logit, and the binary atan2, hypot,
logaddexp, xlogy, fmax/fmin, copysign. Each op: forward, then one gradient rule per input,
written with chainrule ops (tensor_rule) so second order works."""
import math

import numpy as np

from ..autograd.function import Op
from .core import binary
from ..tensors.tensor import Tensor
from .elementwise import (_quiet, _unary, clamp, erf, isnan, log, sigmoid, sign, sin, sqrt,
                          trunc, where)
from .rules import tensor_rule


def _op(name, fn, *rules, uses_out=False):
    return Op(name, _quiet(fn), *[tensor_rule(r) for r in rules], uses_out=uses_out)


TAN = _op("TanBackward0", np.tan, lambda g, o, x: g * (1 + o * o), uses_out=True)
SINH = _op("SinhBackward0", np.sinh, lambda g, o, x: g * cosh(x))
COSH = _op("CoshBackward0", np.cosh, lambda g, o, x: g * sinh(x))
ASIN = _op("AsinBackward0", np.arcsin, lambda g, o, x: g / sqrt(1 - x * x))
ACOS = _op("AcosBackward0", np.arccos, lambda g, o, x: -g / sqrt(1 - x * x))
ATAN = _op("AtanBackward0", np.arctan, lambda g, o, x: g / (1 + x * x))
ASINH = _op("AsinhBackward0", np.arcsinh, lambda g, o, x: g / sqrt(x * x + 1))
ACOSH = _op("AcoshBackward0", np.arccosh, lambda g, o, x: g / sqrt(x * x - 1))
ATANH = _op("AtanhBackward0", np.arctanh, lambda g, o, x: g / (1 - x * x))
LOG10 = _op("Log10Backward0", np.log10, lambda g, o, x: g / (x * math.log(10)))
EXPM1 = _op("Expm1Backward0", np.expm1, lambda g, o, x: g * (o + 1), uses_out=True)
EXP2 = _op("Exp2Backward0", np.exp2, lambda g, o, x: g * o * math.log(2), uses_out=True)
# -g * (o * o), PyTorch's order: o * o underflows first (2 / 1e30's gradient is 0 in float32)
RECIPROCAL = _op("ReciprocalBackward0", np.reciprocal, lambda g, o, x: -g * (o * o),
                 uses_out=True)
FRAC = _op("FracBackward0", lambda x: x - np.trunc(x), lambda g, o, x: g)
DEG2RAD = _op("Deg2RadBackward0", np.deg2rad, lambda g, o, x: g * (math.pi / 180))
RAD2DEG = _op("Rad2DegBackward0", np.rad2deg, lambda g, o, x: g * (180 / math.pi))
LOGIT = _op("LogitBackward0", lambda x: np.log(x / (1 - x)), lambda g, o, x: g / (x * (1 - x)))

tan, sinh, cosh = _unary(TAN), _unary(SINH), _unary(COSH)
asin, acos, atan = _unary(ASIN), _unary(ACOS), _unary(ATAN)
asinh, acosh, atanh = _unary(ASINH), _unary(ACOSH), _unary(ATANH)
log10, expm1, exp2, reciprocal = _unary(LOG10), _unary(EXPM1), _unary(EXP2), _unary(RECIPROCAL)
frac, deg2rad, rad2deg = _unary(FRAC), _unary(DEG2RAD), _unary(RAD2DEG)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
_logit = _unary(LOGIT)


def logit(x, eps=None):
    return _logit(x if eps is None else clamp(x, eps, 1 - eps))


def sgn(x):
    return sign(x)


def positive(x):
    return x


def _atan2_recip(a, b):
    # PyTorch zeroes 1 / (a² + b²) where it is infinite: the gradient at (0, 0) is 0
    d = a * a + b * b
    return where(d == 0, 0.0, 1 / d)


ATAN2 = _op("Atan2Backward0", np.arctan2,
            lambda g, o, a, b: g * b * _atan2_recip(a, b),
            lambda g, o, a, b: g * -a * _atan2_recip(a, b))
HYPOT = _op("HypotBackward0", np.hypot,
            lambda g, o, a, b: g * a / o, lambda g, o, a, b: g * b / o, uses_out=True)
LOGADDEXP = _op("LogaddexpBackward0", np.logaddexp,
                lambda g, o, a, b: g * sigmoid(a - b), lambda g, o, a, b: g * sigmoid(b - a))
# xlogy: 0 where x == 0 (even for y == 0 or inf); NaN in y still propagates
XLOGY = _op("XlogyBackward0",
            lambda a, b: np.where((a == 0) & ~np.isnan(b), 0.0, a * np.log(b)),
            lambda g, o, a, b: where((a == 0) & (b <= 0), 0.0, g * log(b)),
            lambda g, o, a, b: g * a / b)
# fmax/fmin ignore NaN: the gradient goes to the number chosen (ties: the first input)
FMAX = _op("FmaxBackward0", np.fmax,
           lambda g, o, a, b: where((a >= b) | isnan(b), g, 0.0),
           lambda g, o, a, b: where((a >= b) | isnan(b), 0.0, g))
FMIN = _op("FminBackward0", np.fmin,
           lambda g, o, a, b: where((a <= b) | isnan(b), g, 0.0),
           lambda g, o, a, b: where((a <= b) | isnan(b), 0.0, g))
COPYSIGN = _op("CopysignBackward0", np.copysign,
               lambda g, o, a, b: where(a == 0, 0.0, g * sign(a) * sign(o)),
               lambda g, o, a, b: g * 0, uses_out=True)


def atan2(a, b):
    return binary(ATAN2, a, b, float_result=True)


def hypot(a, b):
    return binary(HYPOT, a, b)


def logaddexp(a, b):
    return binary(LOGADDEXP, a, b, float_result=True)


def logaddexp2(a, b):
    return logaddexp(a * math.log(2), b * math.log(2)) / math.log(2)


def xlogy(a, b):
    return binary(XLOGY, a, b, float_result=True)


def fmax(a, b):
    return binary(FMAX, a, b)


def fmin(a, b):
    return binary(FMIN, a, b)


def copysign(a, b):
    return binary(COPYSIGN, a, b, float_result=True)


arctan2 = atan2


def erfc(x):
    return 1 - erf(x)


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0; the division never sees 0, so no NaN reaches the gradient."""
    zero = x == 0
    safe = where(zero, 1.0, x) * math.pi
    return where(zero, 1.0, sin(safe) / safe)


def fix(x):
    return trunc(x)


def _predicate(npfn, name):
    def fn(x):
        return Tensor._wrap(np.asanyarray(npfn(x._data)))
    fn.__name__ = name
    return fn


isneginf = _predicate(np.isneginf, "isneginf")
isposinf = _predicate(np.isposinf, "isposinf")
signbit = _predicate(np.signbit, "signbit")
isreal = _predicate(lambda a: np.ones(a.shape, dtype=bool), "isreal")
