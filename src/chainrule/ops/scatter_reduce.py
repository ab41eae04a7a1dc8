"""scatter_reduce: src's values reduced into self at the indices along a dim ('sum',
'prod', 'mean', 'amax', 'amin'), with or without self's own value (include_self), and
torch.scatter's legacy reduce='multiply'. Gradients follow PyTorch's formulas (ties of
amax/amin share the gradient; prod divides out zeros one at a time), written with
chainrule's ops so second order follows."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply
from .elementwise import where
from .indexing import gather
from .rules import tensor_rule
from .scatter import _mesh, _on_0d, _scatter_args, _written_mask, scatter_add

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a position scattered to starts from when self's value is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype == np.bool_:
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _counts(shape, mesh, include_self):
    """How many values each position's mean takes (at least 1, as PyTorch divides)."""
    n = np.full(shape, 1 if include_self else 0, dtype=np.int64)
    np.add.at(n, mesh, 1)
    return np.maximum(n, 1)


def _forward(x, src, mesh, idx, d, reduce, include_self):
    out = x.copy()
    if not include_self:
        out[mesh] = _identity(reduce, x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        _UFUNC[reduce].at(out, mesh, src)
        if reduce == "mean":
            n = _counts(x.shape, mesh, include_self)
            # integers round down, as PyTorch's div(rounding_mode="floor")
            out = np.floor_divide(out, n) if x.dtype.kind in "iub" else out / n
    return out.astype(x.dtype, copy=False)


def _self_rule(g, o, x, src, mesh, idx, d, reduce, include_self):
    if reduce == "sum":
        grad = g
    elif reduce == "mean":
        grad = g / Tensor._wrap(_counts(tuple(x.shape), mesh, include_self).astype(g._data.dtype))
    elif reduce == "prod":
        ones_at_zeros = where(x == 0, 1.0, x)  # self's zeros divided out one at a time
        grad = g * scatter_reduce(ones_at_zeros, d, Tensor._wrap(idx), src, "prod",
                                  include_self=include_self) / ones_at_zeros
    else:
        grad = (x == o).to(g.dtype) * g / _extreme_ties(o, x, src, idx, d)
    if include_self:
        return grad
    return grad.masked_fill(Tensor._wrap(_written_mask(tuple(x.shape), mesh)), 0)


def _src_rule(g, o, x, src, mesh, idx, d, reduce, include_self):
    index = Tensor._wrap(idx)
    if reduce == "sum":
        return gather(g, d, index)
    if reduce == "mean":
        n = _counts(tuple(x.shape), mesh, include_self).astype(g._data.dtype)
        return gather(g / Tensor._wrap(n), d, index)
    if reduce == "prod":
        return _prod_src_grad(g, o, x, src, d, index, include_self)
    value = gather(o, d, index)
    return (src == value).to(g.dtype) * gather(g / _extreme_ties(o, x, src, idx, d), d, index)


def _extreme_ties(o, x, src, idx, d):
    """How many values (self's and src's) equal each position's amax/amin: they share it."""
    index = Tensor._wrap(idx)
    at_result = (src == gather(o, d, index)).to(o.dtype)
    return scatter_add((x == o).to(o.dtype), d, index, at_result).detach()


def _prod_src_grad(g, o, x, src, d, index, include_self):
    """g * (the product without this src value): result / src where src is not 0; where it
    is the only 0 scattered to its position, the product of the others."""
    zero = src == 0
    none = Tensor._wrap(np.zeros(tuple(x.shape), dtype=x._data.dtype))
    zeros_there = gather(scatter_add(none, d, index, zero.to(x.dtype)), d, index)
    single = zero & (zeros_there == 1)
    others = scatter_reduce(x, d, index, where(single, 1.0, src), "prod",
                            include_self=include_self)
    return where(single, gather(g * others, d, index),
                 gather(g * o, d, index) / where(zero, 1.0, src))


SCATTER_REDUCE = Op("ScatterReduceBackward0", _forward, tensor_rule(_self_rule, 2),
                    tensor_rule(_src_rule, 2), uses_out=True)


@_on_0d
def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    if reduce not in REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not "
                        f"{type(src).__name__}")
    src, idx, d = _scatter_args(x, dim, index, src, "scatter_reduce")
    return apply(SCATTER_REDUCE, (x, src), (_mesh(idx, d), idx, d, reduce, bool(include_self)))


MULTIPLY_NO_DERIVATIVE = Op("NotImplemented", lambda x, src, mesh: _multiply_at(x, src, mesh),
                            *[lambda g, o, *a: _no_scatter_derivative()] * 2, saves_inputs=False)


def _multiply_at(x, src, mesh):
    out = x.copy()
    np.multiply.at(out, mesh, src)
    return out


def _no_scatter_derivative():
    raise RuntimeError("derivative for aten::scatter is not implemented")


def scatter_multiply(x, dim, index, src):
    """torch.scatter(..., reduce='multiply'): PyTorch records no derivative for it."""
    src, idx, d = _scatter_args(x, dim, index, src, "scatter")
    return apply(MULTIPLY_NO_DERIVATIVE, (x, src), (_mesh(idx, d),))
