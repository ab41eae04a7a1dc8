"""Cumulative product along a dimension. Its gradient is written with chainrule ops, so it
is itself differentiable (second order)."""
import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..tensor import Tensor
from .core import apply1
from .reduction import cumsum, numpy_names
from .rules import tensor_rule
from .shape import flip


def _rev_cumsum(t, d):
    return flip(cumsum(flip(t, d), d), d)


def _cumprod_grad(g, out, x, d):
    if not np.any(x._data == 0):
        # d out_j / d x_i = out_j / x_i for j >= i
        return _rev_cumsum(g * out, d) / x
    # with zeros: out_j / x_i is 0/0; use prod_{k <= j, k != i} x_k directly (n^2 memory)
    n = x.shape[d]
    xm = x.transpose(d, -1)
    gm = g.transpose(d, -1)
    eye = Tensor._wrap(np.eye(n, dtype=bool))
    others = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).masked_fill(eye, 1)  # [..., i, k]
    partial = cumprod(others, -1)  # [..., i, j] = prod over k <= j, k != i
    upper = Tensor._wrap(np.triu(np.ones((n, n), dtype=x._data.dtype)))  # j >= i
    gi = (partial * upper * gm.unsqueeze(-2)).sum(-1)
    return gi.transpose(d, -1)


CUMPROD = Op("CumprodBackward0", lambda x, d: np.cumprod(x, axis=d),
             tensor_rule(_cumprod_grad), uses_out=True)


@numpy_names
def cumprod(x, dim, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "bu" or x._data.dtype in (np.int8, np.int16, np.int32):
        x = x.to(dtypes.int64)  # integer products accumulate in int64, as in PyTorch
    if not x.ndim:
        return apply1(CUMPROD, x.reshape(1), 0).reshape(())
    return apply1(CUMPROD, x, x._dim(dim))
