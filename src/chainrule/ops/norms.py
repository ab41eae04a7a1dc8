"""Vector norms (p = 2, 1, inf and other positive p) as one op each, with PyTorch's
gradient rules: LinalgVectorNormBackward0."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from . import elementwise
from .accumulate import accumulator, reduction_input
from .core import apply1
from .elementwise import abs as abs_
from .reduction import _axes, _contiguous, _count, _kept_shape, numpy_names, sum


def _pnorm(x, ax, keep, ksh, p):
    # as PyTorch: float16 powers summed in float32 (no overflow when the norm fits), float32
    # in float32 (past 1e19 the squares overflow to inf there too), and a reduction over
    # one element is just |x| (PyTorch squares some 0-d tensors, depending on how they
    # were made: tests/fuzz/fuzz_known.py)
    if _count(x.shape, ax) == 1:
        return np.asanyarray(np.sum(np.abs(x), axis=ax, keepdims=keep))
    wide = x.astype(accumulator("norm", x.dtype), copy=False)
    with np.errstate(over="ignore"):
        out = np.sum(wide * wide if p == 2 else np.abs(wide) ** p, axis=ax, keepdims=keep)
        out = np.sqrt(out) if p == 2 else out ** (1.0 / p)
    return np.asanyarray(out).astype(x.dtype)


def _pnorm_grad(g, o, x, ax, keep, ksh, p):
    ko = np.reshape(o, ksh)  # PyTorch's form: x |x|^(p-2) g / norm^(p-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ko == 0, 0.0, x * np.abs(x) ** (p - 2) * np.reshape(g, ksh) / ko ** (p - 1))


PNORM = Op("LinalgVectorNormBackward0", _contiguous(_pnorm), _pnorm_grad, uses_out=True)


def _norm2(x, ax, keep):
    return _pnorm(x, ax, keep, None, 2)


def _norm2_grad(g, o, x, ax, keep, ksh):
    # PyTorch's form g * (x / norm), 0 where the norm is 0: x / norm first (with subnormal
    # x, g * x would round before the division), and its second derivative at a zero norm
    # is NaN as PyTorch's (0 * d(x / norm)/d norm = 0 * 0/0)
    ko = np.reshape(o, ksh)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.reshape(g, ksh) * np.where(ko == 0, 0.0, x / ko)


NORM2 = Op("LinalgVectorNormBackward0", _contiguous(lambda x, ax, keep, ksh: _norm2(x, ax, keep)),
           _norm2_grad, uses_out=True)


def _norm_inf_grad(g, o, x, ax, keep, ksh):
    # PyTorch's rule: ties share the gradient, and in a slice whose norm is NaN the NaNs
    # take it; times sign(x), which is 0 at a NaN, so such a slice gets zeros (amax's
    # rule would spread NaN over it)
    a = np.abs(x)
    mask = np.logical_or(a == np.reshape(o, ksh), np.isnan(a))
    share = np.reshape(g, ksh) / np.sum(mask, axis=ax, keepdims=True)
    # sgn passes no gradient back, as PyTorch's: a constant under create_graph
    sgn = elementwise.sign(x.detach()) if isinstance(x, Tensor) else elementwise._sign(x)
    return sgn * (share * mask)


NORM_INF = Op("LinalgVectorNormBackward0",
              _contiguous(lambda x, ax, keep, ksh: np.asanyarray(np.max(np.abs(x), axis=ax,
                                                                        keepdims=keep))),
              _norm_inf_grad, uses_out=True)


@numpy_names
def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    x = reduction_input(x, "norm", dtype)
    ax = _axes(x, dim)
    if p in ("fro", 2, 2.0):
        return apply1(NORM2, x, ax, keepdim, _kept_shape(x._data.shape, ax))
    if p in (1, 1.0):
        return sum(abs_(x), dim=ax, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return apply1(NORM_INF, x, ax, keepdim, _kept_shape(x._data.shape, ax))
    if isinstance(p, (int, float)) and p > 0:
        return apply1(PNORM, x, ax, keepdim, _kept_shape(x._data.shape, ax), float(p))
    raise ValueError(f"norm: unsupported p={p!r}; use 1, 2, 'fro', inf or a positive number")
