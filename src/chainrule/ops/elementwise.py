"""Pointwise operations. Each op: forward, then one gradient rule per input
`rule(g, out, *inputs)`; broadcasting is undone by the engine, not here."""
import math
import numbers

import numpy as np

from ..tensors import dtypes
from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import (apply, apply1, binary,
                   float16_in_float32, promote, quiet, _int_scalar, _operand,
                   to_float)


_quiet = quiet


# ---- arithmetic -------------------------------------------------------------------
ADD = Op("AddBackward0", np.add, lambda g, o, a, b: g, lambda g, o, a, b: g, saves_inputs=False)
SUB = Op("SubBackward0", np.subtract, lambda g, o, a, b: g, lambda g, o, a, b: -g, saves_inputs=False)
RSUB = SUB.renamed("RsubBackward1", scalar_slot=0)  # `1 - x`
MUL = Op("MulBackward0", np.multiply, lambda g, o, a, b: g * b, lambda g, o, a, b: g * a)
# (a / b) / b, as PyTorch: b * b overflows float16 past 256
DIV = Op("DivBackward0", _quiet(np.true_divide),
         lambda g, o, a, b: g / b, lambda g, o, a, b: -g * ((a / b) / b))
def _zero_grad(g, o, *args):
    # PyTorch's zeros, not g * 0: a NaN or inf incoming gradient does not leak through
    return np.zeros_like(g) if isinstance(g, np.ndarray) else np.where(True, 0.0, g)


# ties share the gradient; with a NaN both inputs get it (PyTorch's masks, not NumPy's)
MAXIMUM = Op("MaximumBackward0", np.maximum,
             lambda g, o, a, b: np.where(a == b, g / 2, np.where(a < b, 0.0, g)),
             lambda g, o, a, b: np.where(a == b, g / 2, np.where(a > b, 0.0, g)))
MINIMUM = Op("MinimumBackward0", np.minimum,
             lambda g, o, a, b: np.where(a == b, g / 2, np.where(a > b, 0.0, g)),
             lambda g, o, a, b: np.where(a == b, g / 2, np.where(a < b, 0.0, g)))


def add(a, b, alpha=1):
    if alpha == 1:
        return binary(ADD, a, b, wrap_int=True)
    return _scaled(ADD, a, b, alpha)


def _scaled(op, a, b, alpha):
    """a ± alpha * b with b cast to a and b's promoted dtype before alpha scales it, as
    PyTorch: int8 -128 times -1 is 128 in int16 or float32, not -128 wrapped; bool + 2 *
    bool stays bool."""
    _check_alpha(a, b, alpha)
    a, b = _operand(a, op.name), _operand(b, op.name)
    want = promote(a, b)
    if isinstance(b, Tensor):
        b = b if b._data.dtype == want else b.to(dtypes.from_numpy_dtype(want))
        b = mul(b, bool(alpha) if want == np.bool_ else alpha)
    elif want == np.bool_:  # bool + alpha * bool: or, with alpha read as a bool
        b = bool(b) and bool(alpha)
    else:  # a Python number: exact, then wrapped into an integer dtype
        b = _int_scalar(b * alpha, np.empty(0, want)) if want.kind in "iu" else b * alpha
    out = binary(op, a, b, wrap_int=True)
    return out if out._data.dtype == want else out.to(want)


def _check_alpha(a, b, alpha):
    if isinstance(alpha, float) and all(
            not isinstance(v, Tensor) or v._data.dtype.kind in "iub" for v in (a, b)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def _bool_tensor(v):
    # a Python bool counts as a bool tensor in PyTorch's checks (x - True is refused)
    return type(v) is bool or (isinstance(v, Tensor) and v._data.dtype == np.bool_)


def _no_bool(name, x):
    """Unary ops PyTorch has no bool kernel for (abs, trunc, floor, ...)."""
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors")


def _check_no_bool_sub(a, b):
    if _bool_tensor(a) or _bool_tensor(b):
        which = "two bool tensors" if _bool_tensor(a) and _bool_tensor(b) else "a bool tensor"
        raise RuntimeError(f"Subtraction, the `-` operator, with {which} is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def sub(a, b, alpha=1):
    _check_no_bool_sub(a, b)
    return binary(SUB, a, b, wrap_int=True) if alpha == 1 else _scaled(SUB, a, b, alpha)


def rsub(x, other):
    """`2 - x`: PyTorch's rsub with a number, whose node lists x alone."""
    _check_no_bool_sub(other, x)
    op = RSUB if isinstance(other, numbers.Number) else SUB
    return binary(op, other, x, wrap_int=True)


def mul(a, b):
    return binary(MUL, a, b, wrap_int=True)


def _tensors_only(name, a, b):
    # PyTorch's maximum/minimum take no Python number (gradient rules written with
    # np.maximum(x, 0) reach the ops through the ufunc table, not these functions)
    for position, (arg, v) in enumerate((("input", a), ("other", b)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(v).__name__}")


def maximum(a, b):
    _tensors_only("maximum", a, b)
    return binary(MAXIMUM, a, b)


def minimum(a, b):
    _tensors_only("minimum", a, b)
    return binary(MINIMUM, a, b)


def maximum_any(a, b):
    """np.maximum on tensors (gradient rules): either side may be a number."""
    return binary(MAXIMUM, a, b)


def minimum_any(a, b):
    return binary(MINIMUM, a, b)


# ---- unary ------------------------------------------------------------------------
NEG = Op("NegBackward0", np.negative, lambda g, o, x: -g, saves_inputs=False)
def _sign(x):
    # PyTorch's sign(nan) is 0 (NumPy's is nan); abs's gradient uses it too
    if x.dtype == np.bool_:  # sign of a bool is itself
        return x.copy()
    out = np.sign(x)
    if out.dtype.kind == "f":
        out = np.where(np.isnan(out), 0.0, out).astype(out.dtype, copy=False)
    return out


# g * sgn(x); under create_graph sgn(x) is a constant: PyTorch's sgn of a real tensor passes
# no gradient back at all (so a NaN met on the way does not reach a var of one element)
ABS = Op("AbsBackward0", np.abs,
         lambda g, o, x: g * (sign(x.detach()) if isinstance(x, Tensor) else _sign(x)))
EXP = Op("ExpBackward0", np.exp, lambda g, o, x: g * o, saves_inputs=False, uses_out=True)
LOG = Op("LogBackward0", _quiet(np.log), lambda g, o, x: g / x)
LOG2 = Op("Log2Backward0", _quiet(np.log2), lambda g, o, x: g / (x * np.log(2.0)))
LOG1P = Op("Log1PBackward0", _quiet(np.log1p), lambda g, o, x: g / (x + 1))
SQRT = Op("SqrtBackward0", _quiet(np.sqrt), lambda g, o, x: g / (2 * o), saves_inputs=False, uses_out=True)
SIN = Op("SinBackward0", np.sin, lambda g, o, x: g * np.cos(x))
COS = Op("CosBackward0", np.cos, lambda g, o, x: -g * np.sin(x))
# PyTorch's tanh_backward and sigmoid_backward are single kernels (float16 in float32)
TANH = Op("TanhBackward0", np.tanh, float16_in_float32(lambda g, o, x: g * (1 - o * o)),
          saves_inputs=False, uses_out=True)
SIGN = Op("SignBackward0", _sign, _zero_grad, saves_inputs=False)
RSQRT = Op("RsqrtBackward0", float16_in_float32(_quiet(lambda x: np.reciprocal(np.sqrt(x)))),
           # PyTorch's -0.5 * g * o ** 3: the cube rounded once (float16 differed by ulps)
           lambda g, o, x: -0.5 * g * o ** 3, saves_inputs=False, uses_out=True)


def _stepwise(name, fn):
    # piecewise-constant functions: zero gradient, but the result stays in the graph (as
    # in PyTorch: x.floor().requires_grad is True); integer inputs come back unchanged
    return Op(name,
              lambda x, *p: fn(x, *p) if x.dtype.kind == "f" else x.copy(),
              _zero_grad, saves_inputs=False)


TRUNC, FLOOR, CEIL, ROUND, ROUND_DECIMALS = (_stepwise(n, f) for n, f in (
    ("TruncBackward0", np.trunc), ("FloorBackward0", np.floor), ("CeilBackward0", np.ceil),
    ("RoundBackward0", np.round), ("RoundBackward1", np.round)))
_erf_f64 = np.vectorize(math.erf, otypes=[np.float64])  # NumPy has no erf ufunc
ERF = Op("ErfBackward0", lambda x: _erf_f64(x).astype(x.dtype, copy=False),
         lambda g, o, x: g * (2 / math.sqrt(math.pi)) * np.exp(-(x * x)))


def _sigmoid(x):
    # 1/(1+e^-x) as PyTorch computes it: exp overflowing to inf gives exactly 0, and the
    # lower tail keeps its relative precision (sigmoid(-20) = 2.06e-9 in float32, not 0);
    # one array, each step in place (a LeNet activation is 1.2M numbers)
    with np.errstate(over="ignore"):
        t = np.negative(x)
        if not (isinstance(t, np.ndarray) and t.dtype.kind == "f"):  # 0-d, integers
            return np.reciprocal(1 + np.exp(t))
        np.exp(t, out=t)
    t += 1
    return np.reciprocal(t, out=t)


def _sigmoid_grad(g, o, x):
    if isinstance(g, Tensor) or isinstance(o, Tensor) or not isinstance(o, np.ndarray) \
            or o.ndim == 0:  # tensors under create_graph; 0-d arithmetic gives scalars
        return g * o * (1 - o)
    # g·(1-o)·o in PyTorch's order, in one array
    t = np.subtract(1, o)
    np.multiply(t, g, out=t, casting="unsafe")
    t *= o
    return t


SIGMOID = Op("SigmoidBackward0", float16_in_float32(_sigmoid),
             float16_in_float32(_sigmoid_grad), saves_inputs=False, uses_out=True)
def _relu_grad(g, o, x):
    # not (o <= 0), not o > 0: a NaN output passes the gradient, as PyTorch's does
    keep = np.logical_not(o <= 0)
    if isinstance(g, Tensor):  # under create_graph (a 0-d g may be a NumPy scalar)
        return apply(_RELU_BACKWARD, (g, o))
    # multiplying by the mask is branch-free, ~10× faster than np.where on random signs;
    # but a NaN or inf gradient times 0 is NaN where PyTorch's where gives 0: redo those
    out = g * keep
    return np.where(keep, g, 0.0).astype(g.dtype, copy=False) if np.isnan(out).any() else out


# relu's gradient as an op of its own under create_graph, as PyTorch's threshold_backward:
# g where the output is > 0 (or NaN), and a zero gradient towards the output, which PyTorch
# sends back too (through a var of one element, 0 times its NaN factor is NaN there)
_RELU_BACKWARD = Op("ThresholdBackwardBackward0",
                    lambda g, o: np.where(np.logical_not(o <= 0), g, 0.0).astype(g.dtype),
                    lambda gg, out, g, o: np.where(np.logical_not(o <= 0), gg, 0.0),
                    _zero_grad)


# clamp masks with where, as PyTorch does
RELU = Op("ReluBackward0", lambda x: np.maximum(x, 0, dtype=x.dtype), _relu_grad,
          saves_inputs=False, uses_out=True)
CLAMP = Op("ClampBackward1", lambda x, lo, hi: np.clip(x, lo, hi).astype(x.dtype, copy=False),
           lambda g, o, x, lo, hi: np.where((x >= (-np.inf if lo is None else lo)) &
                                            (x <= (np.inf if hi is None else hi)), g, 0.0))


_NO_BOOL = {"AbsBackward0", "TruncBackward0", "FloorBackward0", "CeilBackward0"}


def _unary(op, floating=True):
    def fn(x):
        if not isinstance(x, Tensor):
            x = _operand(x, op.name)
            if not isinstance(x, Tensor):
                x = Tensor._wrap(np.asanyarray(x))
        if op.name in _NO_BOOL:
            _no_bool(fn.__name__, x)
        if floating and x._data.dtype.kind != "f":
            x = to_float(x)
        return apply1(op, x)
    fn.__name__ = op.name[:-9].lower()
    return fn


_neg = _unary(NEG, floating=False)


def neg(x):
    if _bool_tensor(x):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _neg(x)
abs = _unary(ABS, floating=False)
exp = _unary(EXP)
log = _unary(LOG)
log2 = _unary(LOG2)
log1p = _unary(LOG1P)
sqrt = _unary(SQRT)
sin = _unary(SIN)
cos = _unary(COS)
tanh = _unary(TANH)
sigmoid = _unary(SIGMOID)
relu = _unary(RELU, floating=False)
sign = _unary(SIGN, floating=False)
erf = _unary(ERF)


def erf_any(x):
    """erf of an array (forward passes) or of a tensor (gradient rules under create_graph)."""
    return erf(x) if isinstance(x, Tensor) else ERF.forward(x)


def square(x):
    return pow(x, 2)


rsqrt = _unary(RSQRT)
trunc = _unary(TRUNC, floating=False)
floor = _unary(FLOOR, floating=False)
ceil = _unary(CEIL, floating=False)


def round(x, decimals=0):
    if decimals == 0:
        return apply1(ROUND, x)
    return apply1(ROUND_DECIMALS, x, decimals)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if x._data.dtype.kind != "f" and any(
            isinstance(b, float) or (isinstance(b, Tensor) and b._data.dtype.kind == "f")
            for b in (min, max)):
        x = x.to(promote(x, *[b for b in (min, max) if b is not None]))  # as PyTorch
    # an int bound is cast to an integer tensor's dtype first (wrapping), as in PyTorch
    lo = min._data if isinstance(min, Tensor) else _int_scalar(min, x._data)
    hi = max._data if isinstance(max, Tensor) else _int_scalar(max, x._data)
    return apply1(CLAMP, x, lo, hi)


clip = clamp


def where(condition, input=None, other=None):
    cond = condition._data if isinstance(condition, Tensor) else np.asanyarray(condition)
    if input is None and other is None:
        return tuple(Tensor._wrap(i) for i in np.nonzero(cond))
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    a, b = _operand(input, "where"), _operand(other, "where")
    shapes = [np.shape(v._data if isinstance(v, Tensor) else v) for v in (cond, a, b)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"where: condition, input and other have shapes {shapes[0]}, "
                           f"{shapes[1]} and {shapes[2]}, which cannot be broadcast together "
                           "(sizes must match or be 1, aligned from the right)") from None
    want = promote(a, b)
    a = a.to(want) if isinstance(a, Tensor) and a._data.dtype != want else a
    b = b.to(want) if isinstance(b, Tensor) and b._data.dtype != want else b
    out = apply(_WHERE, (a, b), (cond,))
    if out._data.dtype != want:
        out._data = out._data.astype(want)
    return out


_WHERE = Op("WhereBackward0", lambda a, b, c: np.where(c, a, b),
            lambda g, o, a, b, c: np.where(c, g, 0.0),
            lambda g, o, a, b, c: np.where(c, 0.0, g), saves_inputs=False)


from .comparison import (allclose, eq, equal, ge, gt, isclose, isfinite,  # noqa: E402,F401
                         isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor,
                         lt, ne)
from .bitwise import (bitwise_and, bitwise_left_shift, bitwise_not,  # noqa: E402,F401
                      bitwise_or, bitwise_right_shift, bitwise_xor)
from .division import (IntegerDivisionByZero, _check_int_divisor, div,  # noqa: E402,F401
                       div_floor, floor_divide, remainder)
from .power import POW, POW_RSCALAR, POW_SCALAR, pow  # noqa: E402,F401
