"""Cumulative product and log-sum-exp along a dimension. Their gradients are written with
chainrule ops, so they are themselves differentiable (second order). Running values are
kept in the accumulator `accumulate.RULES` names, each output rounded to the input's dtype."""
import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Op
from ..tensors.tensor import Tensor
from . import elementwise as E
from .accumulate import accumulator, reduction_input
from .core import apply1
from .reduction import _cumprod, cumsum, numpy_names
from .rules import tensor_rule
from .shape import cat, flip


def _rev_cumsum(t, d):
    return flip(cumsum(flip(t, d), d), d)


def _cumprod_grad(g, out, x, d):
    if x.numel() <= 1 or x.shape[d] == 1:  # PyTorch passes g on (not g · inf / inf)
        return g
    if not np.any(x._data == 0):
        # d out_j / d x_i = out_j / x_i for j >= i
        return _rev_cumsum(g * out, d) / x
    if grad_mode.is_grad_enabled():
        return _cumprod_grad_products(g, x, d)
    return _cumprod_grad_first_zero(g, out, x, d)


def _cumprod_grad_products(g, x, d):
    """create_graph: out_{i-1} * sum_{j >= i} g_j prod_{i<k<=j} x_k everywhere, as PyTorch's
    double-backward formula, differentiable (the prefix multiplied last: -inf before a zero
    gives -inf, not NaN) (n^2 memory)."""
    n = x.shape[d]
    xm = x.transpose(d, -1)
    gm = g.transpose(d, -1)
    up_to_i = Tensor._wrap(np.tril(np.ones((n, n), dtype=bool)))   # [i, k]: k <= i
    after = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).masked_fill(up_to_i, 1)
    partial = cumprod(after, -1)  # [..., i, j] = prod over i < k <= j
    upper = Tensor._wrap(np.triu(np.ones((n, n), dtype=x._data.dtype)))  # j >= i
    tail = (partial * upper * gm.unsqueeze(-2)).sum(-1)
    ones = Tensor._wrap(np.ones(tuple(xm.shape[:-1]) + (1,), dtype=xm._data.dtype))
    prefix = cat([ones, cumprod(xm[..., :-1], -1)], -1)  # out_{i-1}
    return (prefix * tail).transpose(d, -1)


def _cumprod_grad_first_zero(g, out, x, d):
    """PyTorch's first-order rule with zeros: before a slice's first zero z the division
    (inf / inf stays NaN there); at z, out_{z-1} as the result holds it (with dtype=,
    rounded to that dtype) times sum_j g_j prod_{z<k<=j} x_k, where g counts only before
    the second zero but the product runs on (0 · inf is NaN past it); after z, 0."""
    data = x._data
    zeros = np.cumsum(data == 0, axis=d)
    before, first = zeros == 0, (zeros == 1) & (data == 0)
    running = cumprod(E.where(Tensor._wrap((zeros == 1) & ~first), x, 1.0), d)
    tail = (E.where(Tensor._wrap(zeros == 1), g, 0.0) * running).sum(d, keepdim=True)
    om = out.transpose(d, -1)
    ones = Tensor._wrap(np.ones(tuple(om.shape[:-1]) + (1,), dtype=data.dtype))
    prefix = cat([ones, om[..., :-1]], -1).transpose(d, -1)  # out_{i-1}
    fast = _rev_cumsum(E.where(before, g * out, 0.0), d) / E.where(before, x, 1.0)
    return E.where(before, fast, E.where(first, prefix * tail, 0.0))


def _cumprod_grad_of_input(g, out, x, d, dt):
    # PyTorch's rule takes the input as given, before dtype='s cast (a float64 subnormal
    # is not the float32 zero it casts to), and g and the result in its dtype; to a wider
    # dtype=, before a slice's first zero g · out / x is in that dtype, rounded once
    if dt is None:
        return _cumprod_grad(g, out, x, d)
    narrow = _cumprod_grad(g.to(x.dtype), out.to(x.dtype), x, d)
    if np.dtype(dt).itemsize <= x._data.dtype.itemsize:
        return narrow
    wide = _cumprod_grad(g, out, x.to(out.dtype), d).to(x.dtype)
    before = Tensor._wrap(np.cumsum(x._data == 0, axis=d) == 0)
    return E.where(before, wide, narrow)


CUMPROD = Op("CumprodBackward0", lambda x, d, dt: _cumprod(x if dt is None else x.astype(dt), d),
             tensor_rule(_cumprod_grad_of_input, 1), uses_out=True)


@numpy_names
def cumprod(x, dim, dtype=None):
    cast, dt = reduction_input(x, "cumprod", dtype), None
    if cast is not x and x._data.dtype.kind == cast._data.dtype.kind == "f":
        cast, dt = x, cast._data.dtype  # cast inside the op: its rule sees x
    if not cast.ndim:
        cast._dim(dim)  # a 0-d tensor takes dim -1 or 0 only, as PyTorch
        return apply1(CUMPROD, cast.reshape(1), 0, dt).reshape(())
    return apply1(CUMPROD, cast, cast._dim(dim), dt)


def _logcumsumexp(x, d):
    # log(exp(running) + exp(x_i)) one step at a time: each step is stable against its own
    # larger operand (a prefix far below the overall maximum does not underflow)
    if not x.ndim:
        return x.copy()
    acc = x.astype(accumulator("logcumsumexp", x.dtype), copy=False)
    return np.logaddexp.accumulate(acc, axis=d).astype(x.dtype, copy=False)


def _logcumsumexp_grad(g, out, x, d):
    # PyTorch's rule: the positive and negative parts of g, each as a reverse
    # logcumsumexp in log space, so no exp(x - out) overflows; a 0-d x passes g on
    if not x.ndim:
        return g
    lowest = float(np.finfo(g._data.dtype).min)
    log_abs = E.log(E.abs(g))
    parts = [E.where(cond, log_abs, lowest) - out for cond in (g > 0, g < 0)]
    pos, neg = (E.exp(flip(logcumsumexp(flip(p, d), d), d) + x) for p in parts)
    return pos - neg


LOGCUMSUMEXP = Op("LogcumsumexpBackward0", _logcumsumexp, tensor_rule(_logcumsumexp_grad),
                  uses_out=True)


@numpy_names
def logcumsumexp(x, dim):
    x = reduction_input(x, "logcumsumexp")
    return apply1(LOGCUMSUMEXP, x, x._dim(dim))
