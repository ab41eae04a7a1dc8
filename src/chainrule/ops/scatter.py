"""Writing values at indices: scatter, scatter_add, index_add, index_put (accumulate),
index_fill, index_copy, masked_scatter (their in-place forms are bound in
tensors/methods_ordering_scatter.py). Each gradient sends g back along the same indices (gather or
index_select of g) and passes g through where the input's values survive."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor, to_array
from .core import apply
from .elementwise import where
from .indexing import convert_index, gather, getitem, index_select
from .rules import check_bounds, index_array, tensor_rule


def _mesh(idx, d):
    """Full coordinates for `idx` along dim d (the other dims are the index's own)."""
    mesh = list(np.ix_(*[np.arange(s) for s in idx.shape]))
    mesh[d] = idx
    return tuple(mesh)


def _scatter_fw(x, src, mesh, add):
    out = x.copy()
    if add:
        np.add.at(out, mesh, src)
    else:
        out[mesh] = src
    return out


def _written_mask(shape, mesh):
    m = np.zeros(shape, dtype=bool)
    m[mesh] = True
    return m


SCATTER = Op("ScatterBackward0", lambda x, src, mesh, idx, d: _scatter_fw(x, src, mesh, False),
             tensor_rule(lambda g, o, x, src, mesh, idx, d: g.masked_fill(
                 Tensor._wrap(_written_mask(g.shape, mesh)), 0), 2),
             tensor_rule(lambda g, o, x, src, mesh, idx, d: gather(g, d, Tensor._wrap(idx)), 2),
             saves_inputs=False)
SCATTER_ADD = Op("ScatterAddBackward0", lambda x, src, mesh, idx, d: _scatter_fw(x, src, mesh, True),
                 lambda g, o, x, src, mesh, idx, d: g,
                 tensor_rule(lambda g, o, x, src, mesh, idx, d: gather(g, d, Tensor._wrap(idx)), 2),
                 saves_inputs=False)


def _same_dtype(x, other, opname, what):
    if other._data.dtype != x._data.dtype:
        raise RuntimeError(f"{opname}(): expected self.dtype to be equal to {what}.dtype, got "
                           f"{x.dtype} and {other.dtype}")


def _scatter_args(x, dim, index, src, opname):
    idx = index_array(index, opname)
    d = x._dim(dim)
    if idx.ndim != x._data.ndim:
        raise RuntimeError(f"{opname}: index of shape {tuple(idx.shape)} must have as many "
                           f"dimensions as self of shape {tuple(x.shape)}")
    for k, s in enumerate(idx.shape):
        if k != d and s > x._data.shape[k]:
            raise RuntimeError(f"{opname}: index has size {s} in dimension {k}, larger than "
                               f"self's size {x._data.shape[k]}")
    check_bounds(idx, x._data.shape[d], d, opname)
    if isinstance(src, Tensor):
        _same_dtype(x, src, opname, "src")
        if src._data.ndim != idx.ndim or any(a > b for a, b in zip(idx.shape, src._data.shape)):
            raise RuntimeError(f"{opname}: index of shape {tuple(idx.shape)} does not fit in "
                               f"src of shape {tuple(src.shape)}")
        src = src[tuple(slice(0, s) for s in idx.shape)]
    else:
        src = Tensor._wrap(np.full(idx.shape, src, dtype=x._data.dtype))
    return src, idx, d


def _on_0d(fn):
    """A 0-d self (with 0-d index and src) is treated as a one-element vector."""
    def wrapper(x, dim, index, src=None, *args, **kwargs):
        if x.ndim:
            return fn(x, dim, index, src, *args, **kwargs)
        one = lambda t: t.reshape(1) if isinstance(t, Tensor) and t.ndim == 0 else t
        return fn(x.reshape(1), dim, one(index), one(src), *args, **kwargs).reshape(())
    wrapper.__name__ = fn.__name__
    return wrapper


@_on_0d
def scatter(x, dim, index, src=None, value=None, reduce=None):
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number)")
    if reduce in ("add", "multiply"):
        src = src if isinstance(src, Tensor) else Tensor._wrap(
            np.full(index_array(index, "scatter").shape, src, dtype=x._data.dtype))
        if reduce == "add":
            return scatter_add(x, dim, index, src)
        from .scatter_reduce import scatter_multiply
        return scatter_multiply(x, dim, index, src)
    if reduce is not None:
        raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got "
                           f"{reduce!r}")
    src, idx, d = _scatter_args(x, dim, index, src, "scatter")
    return apply(SCATTER, (x, src), (_mesh(idx, d), idx, d))


@_on_0d
def scatter_add(x, dim, index, src):
    src, idx, d = _scatter_args(x, dim, index, src, "scatter_add")
    return apply(SCATTER_ADD, (x, src), (_mesh(idx, d), idx, d))


INDEX_ADD = Op("IndexAddBackward0",
               lambda x, src, idx, d, alpha: _index_add_fw(x, src, idx, d, alpha),
               lambda g, o, x, src, idx, d, alpha: g,
               tensor_rule(lambda g, o, x, src, idx, d, alpha:
                           index_select(g, d, Tensor._wrap(idx)) * alpha, 2),
               saves_inputs=False)


def _index_add_fw(x, src, idx, d, alpha):
    out = np.moveaxis(x.copy(), d, 0)
    np.add.at(out, idx, np.moveaxis(src * alpha if alpha != 1 else src, d, 0))
    return np.moveaxis(out, 0, d)


def index_add(x, dim, index, source, alpha=1):
    idx = index_array(index, "index_add")
    d = x._dim(dim)
    if idx.ndim > 1:
        raise IndexError(f"index_add: index must be 1-D, got shape {tuple(idx.shape)}")
    check_bounds(idx, x._data.shape[d], d, "index_add")
    want = x._data.shape[:d] + (idx.size,) + x._data.shape[d + 1:]
    if tuple(source.shape) != want and not (source.ndim == 0 and x.ndim <= 1):
        raise RuntimeError(f"index_add: source of shape {tuple(source.shape)} must have shape "
                           f"{want} (self's shape with dimension {d} the index's length)")
    _same_dtype(x, source, "index_add", "source")
    source = source.reshape(want)
    return apply(INDEX_ADD, (x, source), (idx.reshape(-1), d, alpha))


def _put_accumulate_fw(x, v, idx):
    out = x.copy()
    np.add.at(out, idx, np.broadcast_to(v, out[idx].shape))
    return out


INDEX_PUT_ACC = Op("IndexPutBackward0", _put_accumulate_fw,
                   lambda g, o, x, v, idx: g,
                   tensor_rule(lambda g, o, x, v, idx: getitem(g, idx), 2), saves_inputs=False)


def index_put(x, indices, values, accumulate=False):
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put: indices must be a tuple of tensors")
    values = values if isinstance(values, Tensor) else Tensor._wrap(to_array(values))
    idx, _ = convert_index(tuple(indices))
    for k, i in enumerate(idx):
        if isinstance(i, np.ndarray) and i.dtype != np.bool_ and i.size:
            check_bounds(i, x._data.shape[k], k, "index_put", allow_negative=True)
    if not accumulate:
        out = x.clone()
        out[tuple(indices)] = values
        return out
    _same_dtype(x, values, "index_put", "values")
    try:
        return apply(INDEX_PUT_ACC, (x, values), (idx,))
    except ValueError as err:
        raise RuntimeError(f"index_put: values of shape {tuple(values.shape)} do not match "
                           f"the indexed shape: {err}") from None


def _along(x, d, idx):
    """A bool mask of x's shape, True in the slices `idx` along dimension d."""
    m = np.zeros(x._data.shape[d], dtype=bool)
    m[idx] = True
    return Tensor._wrap(m.reshape((-1,) + (1,) * (x.ndim - d - 1)))


def index_fill(x, dim, index, value):
    idx = index_array(index, "index_fill").reshape(-1)
    d = x._dim(dim) if x.ndim else 0
    check_bounds(idx, x._data.shape[d] if x.ndim else 1, d, "index_fill", allow_negative=True)
    # the fill value takes self's dtype, as in PyTorch (an int tensor filled with 1.5 gets 1)
    value = value.to(x.dtype) if isinstance(value, Tensor) else Tensor._wrap(
        np.asanyarray(value).astype(x._data.dtype))
    if x.ndim == 0:
        return where(Tensor._wrap(np.asanyarray(idx.size > 0)), value, x)
    return where(_along(x, d, idx), value, x)


def index_copy(x, dim, index, source):
    idx = index_array(index, "index_copy").reshape(-1)
    d = x._dim(dim)
    check_bounds(idx, x._data.shape[d], d, "index_copy")
    _same_dtype(x, source, "index_copy", "source")
    shape = (1,) * d + (idx.size,) + (1,) * (x.ndim - d - 1)
    full = np.broadcast_to(idx.reshape(shape), tuple(source.shape)).copy()
    return scatter(x, d, Tensor._wrap(full), source)


def masked_scatter(x, mask, source):
    m = mask._data if isinstance(mask, Tensor) else np.asanyarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter: expected a bool mask, got {m.dtype}")
    m = np.broadcast_to(m, x._data.shape)
    n = int(m.sum())
    if source.numel() < n:
        raise RuntimeError(f"masked_scatter: the mask selects {n} elements but source has "
                           f"only {source.numel()}")
    _same_dtype(x, source, "masked_scatter", "source")
    return index_put(x, (Tensor._wrap(m.copy()),), source.reshape(-1)[:n])

