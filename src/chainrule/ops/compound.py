"""Compound arithmetic written as compositions of differentiable ops (so their gradients,
and gradients of gradients, come for free): lerp, addcmul/addcdiv, addmm and friends,
clamp_min/clamp_max, diff, kron, cross, nansum/nanmean, aminmax, logcumsumexp, vdot/ger/
dist, cov/corrcoef, sum_to_size, var_mean/std_mean."""
from collections import namedtuple

import numpy as np

from ..tensors import dtypes
from ..autograd.function import Op
from ..tensors.tensor import Tensor
from . import elementwise as E, reduction as R
from .core import apply1, c_contiguous
from .accumulate import reduction_input
from .linalg import bmm, matmul, mv, outer
from .fmod_and_nan_to_num import nan_to_num
from .scan import logcumsumexp  # noqa: F401  (re-exported)
from .shape import cat, stack

aminmax_return = namedtuple("aminmax", ["min", "max"])


def lerp(start, end, weight):
    return start + weight * (end - start)


def addcmul(x, tensor1, tensor2, value=1):
    return x + value * (tensor1 * tensor2)


def addcdiv(x, tensor1, tensor2, value=1):
    return x + value * (tensor1 / tensor2)


def _scaled(x, beta, product, alpha):
    product = product if alpha == 1 else alpha * product
    return product if beta == 0 else (x if beta == 1 else beta * x) + product


def addmm(x, mat1, mat2, beta=1, alpha=1):
    return _scaled(x, beta, matmul(mat1, mat2), alpha)


def addmv(x, mat, vec, beta=1, alpha=1):
    return _scaled(x, beta, mv(mat, vec), alpha)


def addr(x, vec1, vec2, beta=1, alpha=1):
    return _scaled(x, beta, outer(vec1, vec2), alpha)


def baddbmm(x, batch1, batch2, beta=1, alpha=1):
    return _scaled(x, beta, bmm(batch1, batch2), alpha)


def addbmm(x, batch1, batch2, beta=1, alpha=1):
    return _scaled(x, beta, R.sum(bmm(batch1, batch2), 0), alpha)


def clamp_min(x, min):
    return E.clamp(x, min=min)


def clamp_max(x, max):
    return E.clamp(x, max=max)


def true_divide(a, b):
    return E.div(a, b)


def float_power(a, b):
    a = a.double() if isinstance(a, Tensor) else float(a)
    b = b.double() if isinstance(b, Tensor) else float(b)
    return E.pow(a, b)


def diff(x, n=1, dim=-1, prepend=None, append=None):
    d = x._dim(dim)
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], d)
    for _ in range(n):
        m = x.shape[d]
        hi = x[(slice(None),) * d + (slice(1, m),)]
        lo = x[(slice(None),) * d + (slice(0, max(m - 1, 0)),)]
        x = E.logical_xor(hi, lo) if x._data.dtype == np.bool_ else hi - lo
    return x


def kron(a, b):
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.ndim) + tuple(b.shape))
    # (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...) then merge each pair of dimensions
    pa = a.reshape(tuple(v for s in a.shape for v in (s, 1)))
    pb = b.reshape(tuple(v for s in b.shape for v in (1, s)))
    return (pa * pb).reshape(tuple(i * j for i, j in zip(a.shape, b.shape)))


def cross(a, b, dim=None):
    if dim is None:
        dim = next((i for i, s in enumerate(np.broadcast_shapes(a.shape, b.shape)) if s == 3), None)
        if dim is None:
            raise RuntimeError("cross: no dimension of size 3 in the inputs")
    d = a._dim(dim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"cross: inputs must have size 3 in dimension {d}, got "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    ai = [a[(slice(None),) * d + (i,)] for i in range(3)]
    bi = [b[(slice(None),) * d + (i,)] for i in range(3)]
    return stack([ai[1] * bi[2] - ai[2] * bi[1], ai[2] * bi[0] - ai[0] * bi[2],
                  ai[0] * bi[1] - ai[1] * bi[0]], d)


# PyTorch's rule multiplies the gradient by "not NaN" (a NaN gradient stays NaN at a NaN
# input), where a `where` in the forward would send 0 there
NANSUM = Op("NansumBackward0",
            c_contiguous(lambda x, ax, keep, ksh: R._acc_sum(np.where(np.isnan(x), 0, x), ax, keep)),
            lambda g, o, x, ax, keep, ksh: R._unreduce(g, ksh) * (x == x))


@R.numpy_names
def nansum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None and x._data.dtype.kind == "f" and np.dtype(dtypes.to_numpy_dtype(dtype)).kind in "iub":
        # PyTorch's nan_to_num before an integer cast: NaN is 0 and ±inf the dtype's
        # extremes (float16 inf is 65,504: 224 in uint8, not inf's 0)
        x = nan_to_num(x)
    x = reduction_input(x, "nansum", dtype)
    if x._data.dtype.kind != "f":
        return R.sum(x, dim, keepdim, dtype=x.dtype)
    ax = R._axes(x, dim)
    return apply1(NANSUM, x, ax, keepdim, R._kept_shape(x._data.shape, ax))


@R.numpy_names
def nanmean(x, dim=None, keepdim=False, dtype=None):
    x = reduction_input(x, "nanmean", dtype)
    count = R.sum(E.logical_not(E.isnan(x)), dim, keepdim)
    return nansum(x, dim, keepdim) / count


def aminmax(x, dim=None, keepdim=False):
    if dim is None:
        return aminmax_return(R.amin(x), R.amax(x))
    return aminmax_return(R.amin(x, dim, keepdim), R.amax(x, dim, keepdim))


def vdot(a, b):
    return (a * b).sum() if a.ndim == b.ndim == 1 else _vector_error("vdot", a, b)


def _vector_error(name, a, b):
    raise RuntimeError(f"{name}: expected two 1-D tensors, got shapes {tuple(a.shape)} and "
                       f"{tuple(b.shape)}")


def ger(a, b):
    return outer(a, b)


def dist(a, b, p=2):
    return R.norm(a - b, p)


def cov(x, correction=1, fweights=None, aweights=None):
    if fweights is not None or aweights is not None:
        raise NotImplementedError("chainrule does not support torch.cov with fweights/aweights")
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    centred = rows - R.mean(rows, 1, keepdim=True)
    out = matmul(centred, centred.t()) / (rows.shape[1] - correction)
    return out.reshape(()) if x.ndim < 2 else out


def corrcoef(x):
    c = cov(x)
    if c.ndim == 0:
        return c / c
    d = E.sqrt(c.diagonal())
    return E.clamp(c / d.reshape(-1, 1) / d.reshape(1, -1), -1, 1)


def sum_to_size(x, *size):
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = x.ndim - len(size)
    if lead < 0 or any(s not in (1, n) for s, n in zip(size, x.shape[lead:])):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to the tensor's "
                           f"size {list(x.shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and x.shape[lead + i] != 1)
    out = R.sum(x, dims, keepdim=True) if dims else x
    return out.reshape(size)


@R.numpy_names
def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return (R.var(x, dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            R.mean(x, None if isinstance(dim, bool) else dim, keepdim=keepdim))


@R.numpy_names
def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return (R.std(x, dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            R.mean(x, None if isinstance(dim, bool) else dim, keepdim=keepdim))
