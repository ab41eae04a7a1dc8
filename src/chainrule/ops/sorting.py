"""Order statistics: sort, argsort, topk, kthvalue, median, mode, cummax/cummin, unique and
bincount. Indices come from NumPy; the values are `gather(x, dim, indices)`, so their
gradient (and its gradient) is gather's: g flows back to the chosen elements."""
from collections import namedtuple

import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply1
from .elementwise import where
from .indexing import gather
from .rules import tensor_rule

sort_return = namedtuple("sort", ["values", "indices"])
topk_return = namedtuple("topk", ["values", "indices"])
kthvalue_return = namedtuple("kthvalue", ["values", "indices"])
median_return = namedtuple("median", ["values", "indices"])
mode_return = namedtuple("mode", ["values", "indices"])
cummax_return = namedtuple("cummax", ["values", "indices"])
cummin_return = namedtuple("cummin", ["values", "indices"])


def _order(a, d, descending):
    """Stable order along d; NaN counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = np.argsort(np.flip(a, d), axis=d, kind="stable")  # ties keep their order reversed
    return n - 1 - np.flip(rev, d)


def _pick(x, d, idx, keepdim, kind):
    """Values at `idx` (which has size 1 along d) and the indices, as `kind`."""
    values = gather(x, d, Tensor._wrap(idx))
    ind = Tensor._wrap(idx)
    if not keepdim:
        values, ind = values.squeeze(d), ind.squeeze(d)
    return kind(values, ind)


def _as_1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def _back_0d(result, x, kind):
    if x.ndim:
        return result
    return kind(result[0].reshape(()), result[1].reshape(()))


def sort(x, dim=-1, descending=False, stable=False):
    x1 = _as_1d(x)
    d = x1._dim(dim)
    idx = _order(x1._data, d, descending)
    return _back_0d(sort_return(gather(x1, d, Tensor._wrap(idx)), Tensor._wrap(idx)), x, sort_return)


def argsort(x, dim=-1, descending=False, stable=False):
    return sort(x, dim, descending).indices


def msort(x):
    return sort(x, 0).values


def topk(x, k, dim=-1, largest=True, sorted=True):
    x1 = _as_1d(x)
    d = x1._dim(dim)
    if not 0 <= k <= x1._data.shape[d]:
        raise RuntimeError(f"topk: selected index k={k} out of range for dimension {d} with "
                           f"size {x1._data.shape[d]}")
    idx = np.take(_order(x1._data, d, largest), np.arange(k), axis=d)
    return _back_0d(topk_return(gather(x1, d, Tensor._wrap(idx)), Tensor._wrap(idx)), x, topk_return)


def kthvalue(x, k, dim=-1, keepdim=False):
    x1 = _as_1d(x)
    d = x1._dim(dim)
    n = x1._data.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {d} "
                           f"with size {n}")
    idx = np.take(_order(x1._data, d, False), [k - 1], axis=d)
    return _back_0d(_pick(x1, d, idx, keepdim or x.ndim == 0, kthvalue_return), x, kthvalue_return)


def median(x, dim=None, keepdim=False):
    if dim is None:
        return _median_all(x)
    x1 = _as_1d(x)
    d = x1._dim(dim)
    n = x1._data.shape[d]
    if n == 0:
        raise IndexError(f"median(): expected a non-empty dimension {d}")
    order = _order(x1._data, d, False)
    nans = np.isnan(x1._data).sum(d, keepdims=True) if x1._data.dtype.kind == "f" else 0
    # the lower median; a row holding NaN gives NaN (its first NaN), as in PyTorch
    pos = np.where(nans > 0, n - nans, (n - 1) // 2)
    idx = np.take_along_axis(order, np.broadcast_to(pos, order.shape[:d] + (1,) + order.shape[d + 1:]), d)
    return _back_0d(_pick(x1, d, idx, keepdim or x.ndim == 0, median_return), x, median_return)


def _median_all(x):
    a = x._data.reshape(-1)
    if not a.size:
        if a.dtype.kind != "f":
            raise RuntimeError("median(): cannot take the median of an empty integer tensor")
        return Tensor._wrap(np.asanyarray(np.nan, dtype=a.dtype))
    if a.dtype.kind == "f" and np.isnan(a).any():
        chosen = np.isnan(a)
    else:
        chosen = a == a[np.argsort(a, kind="stable")[(a.size - 1) // 2]]
    return apply1(MEDIAN_ALL, x.reshape(-1), chosen)


# the gradient is shared evenly among the elements equal to the median (PyTorch's rule)
MEDIAN_ALL = Op("MedianBackward0", lambda a, chosen: a[np.argmax(chosen)].copy(),
                tensor_rule(lambda g, o, a, chosen: where(
                    Tensor._wrap(chosen), g / int(chosen.sum()), 0.0), 1),
                saves_inputs=False)


def mode(x, dim=-1, keepdim=False):
    x1 = _as_1d(x)
    d = x1._dim(dim)
    a = np.moveaxis(x1._data, d, -1)
    rows = a.reshape(-1, a.shape[-1])
    picks = np.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)
        best = values[np.argmax(counts)]  # most frequent; ties go to the smallest value
        picks[r] = np.nonzero(row == best)[0][-1]  # PyTorch reports its last position
    idx = np.moveaxis(picks.reshape(a.shape[:-1] + (1,)), -1, d)
    return _back_0d(_pick(x1, d, idx, keepdim or x.ndim == 0, mode_return), x, mode_return)


def _cumulative(x, dim, running, better, kind):
    x1 = _as_1d(x)
    d = x1._dim(dim)
    a = np.moveaxis(x1._data, d, 0)
    best = running.accumulate(a, axis=0) if a.shape[0] else a  # NaN, once seen, stays
    take = np.ones(a.shape, dtype=bool)
    take[1:] = better(a[1:], best[:-1])  # ties move the index to the later position
    if a.dtype.kind == "f":
        take |= np.isnan(a)
    steps = np.arange(a.shape[0]).reshape((-1,) + (1,) * (a.ndim - 1))
    idx = np.maximum.accumulate(np.where(take, steps, 0), axis=0) if a.shape[0] else \
        np.zeros(a.shape, dtype=np.int64)
    idx = np.moveaxis(idx.astype(np.int64), 0, d)
    return _back_0d(kind(gather(x1, d, Tensor._wrap(idx)), Tensor._wrap(idx)), x, kind)


def cummax(x, dim):
    return _cumulative(x, dim, np.maximum, np.greater_equal, cummax_return)


def cummin(x, dim):
    return _cumulative(x, dim, np.minimum, np.less_equal, cummin_return)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    a = x._data
    axis = None if dim is None else x._dim(dim)
    # each NaN is its own value, as in PyTorch
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis,
                                        equal_nan=False)
    if axis is None:
        inverse = inverse.reshape(a.shape)
    out = [Tensor._wrap(values.astype(a.dtype, copy=False))]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(-1) if axis is not None else inverse))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x, weights=None, minlength=0):
    a = x._data
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._wrap(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data if isinstance(weights, Tensor) else np.asanyarray(weights)
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights of shape {tuple(w.shape)} must match the input's "
                           f"shape {tuple(a.shape)}")
    out = np.bincount(a, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(np.float32 if w.dtype == np.float32 else np.float64))


def unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    if dim is not None:
        raise NotImplementedError("chainrule does not support torch.unique_consecutive with dim=")
    a = x._data.reshape(-1)
    starts = np.ones(a.size, dtype=bool)
    starts[1:] = a[1:] != a[:-1]
    out = [Tensor._wrap(a[starts])]
    if return_inverse:
        out.append(Tensor._wrap((np.cumsum(starts) - 1).reshape(x._data.shape)))
    if return_counts:
        out.append(Tensor._wrap(np.diff(np.append(np.nonzero(starts)[0], a.size)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def quantile(x, q, dim=None, keepdim=False, interpolation="linear"):
    """Quantiles by sorting and interpolating between neighbours: differentiable through
    gather and the interpolation weights, as PyTorch's."""
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"quantile() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    qs = q._data if isinstance(q, Tensor) else np.asanyarray(q, dtype=np.float64)
    if qs.ndim > 1 or np.any((qs < 0) | (qs > 1)):
        raise RuntimeError("quantile() q values must be in the range [0, 1] (a scalar or 1-D)")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"quantile() input tensor must be either float or double dtype, "
                           f"got {x.dtype}")
    flat = dim is None
    x1 = x.reshape(-1) if flat else _as_1d(x)
    d = 0 if flat else x1._dim(dim)
    n = x1._data.shape[d]
    values = sort(x1, d).values
    pos = qs.reshape(-1) * (n - 1)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)  # halves to even, as PyTorch
    frac = 0.5 if interpolation == "midpoint" else pos - lo
    pieces = []
    for k in range(pos.size):
        a = values.index_select(d, Tensor._wrap(lo[k:k + 1]))
        b = values.index_select(d, Tensor._wrap(hi[k:k + 1]))
        w = frac if np.isscalar(frac) else float(frac[k])
        piece = a + (b - a) * w if w else a
        pieces.append(piece if keepdim and not flat else piece.squeeze(d))
    if flat and keepdim:
        pieces = [p.reshape((1,) * x.ndim) for p in pieces]
    if qs.ndim == 0:
        return pieces[0]
    from .shape import stack
    return stack(pieces, 0)


def nanmedian(x, dim=None, keepdim=False):
    """The lower median of the non-NaN values (NaN only where every value is NaN)."""
    if dim is None:
        a = x._data.reshape(-1)
        keep = ~np.isnan(a) if a.dtype.kind == "f" else np.ones(a.shape, dtype=bool)
        if not keep.any():
            return median(x)
        return median(x.reshape(-1)[Tensor._wrap(np.nonzero(keep)[0])])
    x1 = _as_1d(x)
    d = x1._dim(dim)
    order = _order(x1._data, d, False)  # NaN sorts last
    valid = (~np.isnan(x1._data)).sum(d, keepdims=True) if x1._data.dtype.kind == "f" else \
        np.full(x1._data.shape[:d] + (1,) + x1._data.shape[d + 1:], x1._data.shape[d])
    pos = np.maximum(valid - 1, 0) // 2
    idx = np.take_along_axis(order, pos, d)
    return _back_0d(_pick(x1, d, idx, keepdim or x.ndim == 0, median_return), x, median_return)


def histc(x, bins=100, min=0, max=0):
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"histc: expected a floating-point input, got {x.dtype}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={min}, max={max}")
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(a.dtype))
