"""Reductions over `dim` (an int, a tuple, or None for all) with `keepdim`. Their gradient
rules put the incoming gradient back in the reduced dimensions (`_unreduce`)."""
import builtins
import math
from collections import namedtuple

import numpy as np

from ..tensors import dtypes
from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply1, c_contiguous as _contiguous  # results laid out as PyTorch's
from . import elementwise
from .accumulate import accumulator, reduction_input

max_return = namedtuple("max", ["values", "indices"])
min_return = namedtuple("min", ["values", "indices"])


def numpy_names(fn):
    """Accept NumPy's `axis=`/`keepdims=` for `dim=`/`keepdim=`, as PyTorch does."""
    import functools

    @functools.wraps(fn)
    def wrapper(x, *args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(x, *args, **kwargs)
    return wrapper


def _axes(x, dim):
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted({x._dim(d) for d in dims}))
    return axes if axes and x._data.ndim else None  # a 0-d tensor has no axis to name


def _kept_shape(shape, axes):
    return tuple(1 if axes is None or i in axes else s for i, s in enumerate(shape))


def _unreduce(g, kshape):
    # keepdim form: the engine (or the caller's broadcasting product) expands it;
    # the method, not np.reshape, works on arrays and (under create_graph) tensors alike
    return g.reshape(kshape)


def _count(shape, axes):
    return math.prod(shape[a] for a in axes) if axes is not None else math.prod(shape)


def _acc_sum(x, ax, keep):
    """float16 sums accumulate in float32, as PyTorch does: no overflow past 65,504, no
    stalling once the running total dwarfs each element."""
    acc = accumulator("sum", x.dtype)
    out = np.asanyarray(np.add.reduce(x, axis=ax, keepdims=keep, dtype=acc))
    return out if acc == x.dtype else out.astype(x.dtype)


SUM = Op("SumBackward1", _contiguous(lambda x, ax, keep, ksh, sh: _acc_sum(x, ax, keep)),
         lambda g, o, x, ax, keep, ksh, sh: _unreduce(g, ksh), saves_inputs=False)
MEAN = Op("MeanBackward1", _contiguous(lambda x, ax, keep, ksh, sh, n: _mean(x, ax, keep, n)),
          lambda g, o, x, ax, keep, ksh, sh, n: _unreduce(_per_element(g, n), ksh),
          saves_inputs=False)


def _per_element(g, n):
    """g / n; float16 cannot hold a count past 65,504 (g / inf would be 0): divide by it
    as a float32 scalar."""
    dt = g._data.dtype if isinstance(g, Tensor) else g.dtype
    return g * np.float32(1.0 / n).astype(dt) if dt == np.float16 and n > 65504 else g / n


# PyTorch names a reduction over everything ...Backward0, over given dims ...Backward1
SUM_ALL, MEAN_ALL = SUM.renamed("SumBackward0"), MEAN.renamed("MeanBackward0")


def _mean(x, ax, keep, n):
    acc = accumulator("mean", x.dtype)
    if acc != x.dtype:  # the wide total divided before rounding
        out = np.asanyarray(np.add.reduce(x, axis=ax, keepdims=keep, dtype=acc))
        return np.asanyarray(out / n).astype(x.dtype)
    out = np.asanyarray(np.add.reduce(x, axis=ax, keepdims=keep))
    return np.true_divide(out, n, out=out)


@numpy_names
def sum(x, dim=None, keepdim=False, dtype=None):
    if isinstance(x, (list, tuple)):  # Python's builtin use, e.g. sum(tensors)
        return _builtin_sum(x, dim or 0)
    x = reduction_input(x, "sum", dtype)
    ax = _axes(x, dim)
    shape = x._data.shape
    return apply1(SUM if dim is not None else SUM_ALL, x, ax, keepdim, _kept_shape(shape, ax),
                  shape)


def _builtin_sum(items, start):
    total = start
    for v in items:
        total = total + v
    return total


@numpy_names
def mean(x, dim=None, keepdim=False, dtype=None):
    cast = reduction_input(x, "mean", dtype)
    wide = accumulator("mean", cast._data.dtype)
    if dtype is not None and wide != cast._data.dtype:
        # PyTorch's mean with dtype=float16 sums the input cast to float32, not to float16
        return mean(x.to(dtypes.from_numpy_dtype(wide)), dim, keepdim).to(cast.dtype)
    ax = _axes(cast, dim)
    shape = cast._data.shape
    return apply1(MEAN if dim is not None else MEAN_ALL, cast, ax, keepdim,
                  _kept_shape(shape, ax), shape, _count(shape, ax))


@numpy_names
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _var_or_std(VAR, x, dim, unbiased, keepdim, correction)


def _var_or_std(op, x, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(x, True): PyTorch's overload whose one argument is unbiased
        dim, unbiased = None, dim
    x = reduction_input(x, "var" if op is VAR else "std")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    ax = _axes(x, dim)
    n = _count(x._data.shape, ax)
    return apply1(op, x, ax, keepdim, _kept_shape(x._data.shape, ax), n,
                  builtins.max(n - correction, 0))


def _var(x, ax, keep, ksh, n, dof):
    # float16/float32 squares summed in float64 (PyTorch's accumulator on the CPU): no
    # overflow of float16 past 65,504 or float32 past 1e19; rounded once at the end
    wide = x.astype(accumulator("var", x.dtype), copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):  # empty or dof 0: nan, as PyTorch
        centred = wide - _mean(wide, ax, True, n)
        if x.dtype == np.float16 or x.size > n:
            # PyTorch's Welford pass (float16, or more than one result): equal values give
            # exactly 0, and so does the corrected two-pass form, which takes off what the
            # rounded mean missed; one float32/float64 result is a plain two-pass there
            centred -= _mean(centred, ax, True, n)
        total = np.asanyarray(np.add.reduce(centred * centred, axis=ax, keepdims=keep))
        return np.asanyarray(total / dof)


# PyTorch's rule 2(x - mean)/dof: the centred values' own mean (0 but for rounding) is not
# subtracted again, as differentiating the centring would do. Computed in x's dtype as
# PyTorch's formula is: a float16 x - mean rounds to float16's spacing
def _var_grad(g, o, x, ax, keep, ksh, n, dof):
    centred = x - x.mean(axis=ax, keepdims=True)
    if not dof and ax is None:  # 2 / 0 over everything: PyTorch's constant factor, NaN
        # where x is its mean and inf elsewhere (so the second derivative is 0, not NaN)
        data = x._data if isinstance(x, Tensor) else x  # a constant factor, as PyTorch's
        same = data == data.mean(axis=ax, keepdims=True)  # inf == its mean inf: NaN
        return g.reshape(ksh) * np.where(same, np.nan, np.inf).astype(data.dtype)
    return ((2.0 / dof if dof else math.inf) * g.reshape(ksh)) * centred


VAR = Op("VarBackward0", _contiguous(lambda *a: _var(*a).astype(a[0].dtype, copy=False)),
         _var_grad)


@numpy_names
def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _var_or_std(STD, x, dim, unbiased, keepdim, correction)


# PyTorch's gradients of std and p-norms are 0 where the result is 0 (a constant input),
# not inf·0 = nan; then var's rule
def _std_grad(g, o, x, ax, keep, ksh, n, dof):
    with np.errstate(divide="ignore", invalid="ignore"):
        g_var = np.where(o == 0, 0.0, g / (o * 2))
    return _var_grad(g_var, None, x, ax, keep, ksh, n, dof)


# the root of the float64 variance, rounded once: the variance may not fit, its root does
STD = Op("StdBackward0", _contiguous(lambda *a: np.sqrt(_var(*a)).astype(a[0].dtype, copy=False)),
         _std_grad, uses_out=True)


def _others_product(x, a):
    """Tensors (create_graph): the product of the other elements along axis `a` (all
    axes when None) as a masked n×n product, so it is differentiable again."""
    sh = x.shape
    if a is None:
        return _others_product(x.reshape(-1), 0).reshape(sh)
    n = sh[a]
    rows = x.unsqueeze(a).expand(*sh[:a], n, *sh[a:])
    eye = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(sh) - a - 1))
    return elementwise.where(eye, 1.0, rows).prod(dim=a + 1)


def _prod_grad(g, o, x, ax, keep, ksh, sh):
    if not sh:  # a 0-d input is its own product: PyTorch passes g on (not g * inf / inf)
        return _unreduce(g, ksh)
    if isinstance(x, Tensor):
        return _unreduce(g, ksh) * _others_product(x, None if ax is None else ax[0])
    if not (x == 0).any():  # PyTorch's form without zeros: result / x (inf / inf is nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return _unreduce(g, ksh) * (np.reshape(o, ksh) / x)
    if ax is None and np.count_nonzero(x == 0) > 1:  # PyTorch's shortcut outside create_graph:
        return np.zeros(sh, np.result_type(g, x))      # every other-product holds a zero
    # product of all the other elements, via exclusive cumulative products (safe with zeros)
    moved = x.reshape(-1) if ax is None else np.moveaxis(x, ax[0], -1)
    ones = np.ones(moved.shape[:-1] + (1,), dtype=x.dtype)
    left = np.concatenate([ones, _cumprod(moved[..., :-1])], axis=-1)
    right = np.concatenate([_cumprod(moved[..., ::-1][..., :-1])[..., ::-1], ones], axis=-1)
    others = (left * right).reshape(sh) if ax is None else np.moveaxis(left * right, -1, ax[0])
    return _unreduce(g, ksh) * others


def _cumprod(a, axis=-1):
    # running products accumulated wider, each rounded to a's dtype, as PyTorch's CPU
    # cumprod (float16 in float32, float32 in float64)
    with np.errstate(over="ignore"):  # past the dtype's range: inf, as PyTorch
        return np.cumprod(a, axis=axis, dtype=accumulator("cumprod", a.dtype)).astype(
            a.dtype, copy=False)


def _prod(x, ax, keep, ksh, sh):
    if x.dtype == np.float16 and x.size:
        # PyTorch multiplies float16 in order, rounding each partial product to float16
        # (NumPy's reduction keeps a float32 one): 2 ** 20 * 2 ** -20 overflows on the way
        a = 0 if ax is None else ax[0]
        out = np.take(np.multiply.accumulate(x.reshape(-1) if ax is None else x, axis=a), -1,
                      axis=a)
        return np.asanyarray(np.reshape(out, ksh) if keep else out)
    out = np.prod(x, axis=ax, keepdims=keep, dtype=accumulator("prod", x.dtype))
    with np.errstate(over="ignore"):  # a product past the dtype's range is inf, silently
        return np.asanyarray(out).astype(x.dtype, copy=False)


PROD = Op("ProdBackward0", _contiguous(_prod), _prod_grad, uses_out=True)


@numpy_names
def prod(x, dim=None, keepdim=False, dtype=None):
    x = reduction_input(x, "prod", dtype)
    ax = None if dim is None else (x._dim(dim),)
    if not x._data.ndim:
        ax = None
    shape = x._data.shape
    return apply1(PROD, x, ax, keepdim, _kept_shape(shape, ax), shape)


def _extreme_all_grad(g, o, x, ax, keep, ksh, sh):
    # ties share the gradient evenly, as PyTorch's amax/amin do; a NaN result came from
    # the NaNs, which then share it
    ko = np.reshape(o, ksh)
    mask = (x == ko) | (np.isnan(x) & np.isnan(ko))
    share = _unreduce(g, ksh) / np.sum(mask, axis=ax, keepdims=True)
    return np.where(mask, share, 0.0)  # where, not *: a NaN gradient stays at the extremes


def _amax_grad(g, o, x, ax, keep, ksh, sh):
    # amax/amin: PyTorch multiplies by the mask, so a slice whose result is NaN (no element
    # equals it) and a NaN incoming gradient give NaN over the whole slice
    mask = x == np.reshape(o, ksh)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unreduce(g, ksh) / np.sum(mask, axis=ax, keepdims=True) * mask


AMAX = Op("AmaxBackward0",
          _contiguous(lambda x, ax, keep, ksh, sh: np.asanyarray(np.max(x, axis=ax, keepdims=keep))),
          _amax_grad, uses_out=True)
AMIN = Op("AminBackward0",
          _contiguous(lambda x, ax, keep, ksh, sh: np.asanyarray(np.min(x, axis=ax, keepdims=keep))),
          _amax_grad, uses_out=True)
_DIM_EXTREME = Op("MaxBackward0",
                  lambda x, ax, keep, idx, ksh, sh: np.take_along_axis(
                      x, np.reshape(idx, ksh), axis=ax).reshape(idx.shape if not keep else ksh),
                  lambda g, o, x, ax, keep, idx, ksh, sh: _scatter_to_index(g, ax, idx, ksh, sh),
                  saves_inputs=False)


def _scatter_to_index(g, ax, idx, ksh, sh):
    # where, not *: a NaN or inf gradient reaches the picked element only, as in PyTorch
    picked = np.arange(sh[ax]).reshape((-1,) + (1,) * (len(sh) - ax - 1)) == np.reshape(idx, ksh)
    return np.where(picked, np.reshape(g, ksh), 0.0)


# x.max(): the gradient goes evenly to the elements equal to the result, or to the NaNs
MAX_ALL = Op("MaxBackward1", AMAX.forward, _extreme_all_grad, uses_out=True)
MIN_ALL = Op("MinBackward1", AMIN.forward, _extreme_all_grad, uses_out=True)


def _extreme(x, dim, keepdim, pick, op_all, name):
    if x._data.size == 0:
        raise RuntimeError(f"{name}(): expected a non-empty tensor, got shape {tuple(x.shape)}")
    if dim is None:
        return apply1(op_all, x, None, False, (1,) * x._data.ndim, x._data.shape)
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        return (elementwise.maximum if name == "max" else elementwise.minimum)(x, dim)
    ax = x._dim(dim)
    if x._data.ndim == 0:
        vals = x.clone() if x.requires_grad else x
        return (max_return if name == "max" else min_return)(vals, Tensor._wrap(np.asanyarray(0)))
    idx = pick(x._data, axis=ax)
    shape = x._data.shape
    ksh = _kept_shape(shape, (ax,))
    values = apply1(_DIM_EXTREME, x, ax, keepdim, idx, ksh, shape)
    indices = Tensor._wrap(np.asanyarray(np.reshape(idx, ksh) if keepdim else idx).copy(order="C"))
    return (max_return if name == "max" else min_return)(values, indices)


@numpy_names
def max(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, np.argmax, MAX_ALL, "max")


@numpy_names
def min(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, np.argmin, MIN_ALL, "min")


def _amax_amin(op, x, dim, keepdim):
    ax = _axes(x, dim) if dim not in (None, ()) else None
    return apply1(op, x, ax, keepdim, _kept_shape(x._data.shape, ax), x._data.shape)


@numpy_names
def amax(x, dim=(), keepdim=False):
    return _amax_amin(AMAX, x, dim, keepdim)


@numpy_names
def amin(x, dim=(), keepdim=False):
    return _amax_amin(AMIN, x, dim, keepdim)


@numpy_names
def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return Tensor._wrap(np.asanyarray(np.argmax(x._data)))
    return Tensor._wrap(np.asanyarray(np.argmax(x._data, axis=x._dim(dim), keepdims=keepdim)))


@numpy_names
def argmin(x, dim=None, keepdim=False):
    if dim is None:
        return Tensor._wrap(np.asanyarray(np.argmin(x._data)))
    return Tensor._wrap(np.asanyarray(np.argmin(x._data, axis=x._dim(dim), keepdims=keepdim)))


@numpy_names
def all(x, dim=None, keepdim=False):
    return Tensor._wrap(np.asanyarray(np.all(x._data, axis=_axes(x, dim), keepdims=keepdim)))


@numpy_names
def any(x, dim=None, keepdim=False):
    return Tensor._wrap(np.asanyarray(np.any(x._data, axis=_axes(x, dim), keepdims=keepdim)))


@numpy_names
def count_nonzero(x, dim=None):
    return Tensor._wrap(np.asanyarray(np.count_nonzero(x._data, axis=_axes(x, dim)), dtype=np.int64))


@numpy_names
def cumsum(x, dim, dtype=None):
    x = reduction_input(x, "cumsum", dtype)
    d = x._dim(dim)
    if not x._data.ndim:  # NumPy's cumsum would flatten a 0-d input to shape (1,)
        return apply1(CUMSUM, x.reshape(1), 0).reshape(())
    return apply1(CUMSUM, x, d)


def _cumsum(x, d):
    # running totals kept wide, each rounded: a float32 sum over 1e6 elements does not
    # drift (PyTorch accumulates in double on the CPU)
    acc = accumulator("cumsum", x.dtype)
    out = np.cumsum(x, axis=d, dtype=acc)
    return out if acc == x.dtype else out.astype(x.dtype)


CUMSUM = Op("CumsumBackward0", _cumsum,
            lambda g, o, x, d: np.flip(_cumsum_any(np.flip(g, d), d), d), saves_inputs=False)


def _cumsum_any(g, d):
    return cumsum(g, d) if isinstance(g, Tensor) else _cumsum(g, d)


from .norms import norm  # noqa: E402,F401  (norms builds on the reductions above)
