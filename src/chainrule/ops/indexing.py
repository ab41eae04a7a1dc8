"""Indexing: `x[i]`, `x[i] = v`, masked_fill, gather, index_select. Basic indexing (ints,
slices, None, ...) gives a view sharing storage; advanced indexing (integer tensors or
lists, bool masks) copies, and repeated indices accumulate gradient."""
import operator

import numpy as np

from ..tensors import dtypes
from ..autograd.function import Op
from ..tensors.tensor import Tensor, to_array
from ..tensors.views import make_view, writable
from .core import apply, apply1

_BASIC = (int, slice, type(None), type(Ellipsis))
_PLAIN_BOUNDS = (int, type(None))


def checked_slice(s):
    """`s`, refused as PyTorch refuses it: bounds that are not integers, a step below 1."""
    if type(s.start) in _PLAIN_BOUNDS and type(s.stop) in _PLAIN_BOUNDS and s.step is None:
        return s  # x[i:j]: nothing to check
    for bound in (s.start, s.stop, s.step):
        if bound is not None and not hasattr(type(bound), "__index__"):
            raise TypeError("slice indices must be integers or None or have an __index__ "
                            f"method, got {type(bound).__name__}")
    if s.step is not None and operator.index(s.step) <= 0:
        raise ValueError(f"step must be greater than zero, got {s.step}")
    return s


def convert_index(index):
    """Turn a user index into one NumPy understands, and say whether it is basic."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
            if i.dtype.kind == "f":
                raise IndexError(f"tensors used as indices must be long, int or bool tensors, "
                                 f"got {i.dtype}")
            basic = False
        elif isinstance(i, (list, tuple, np.ndarray, range)):  # x[(0,), b]: a sequence
            i = np.asanyarray(i)
            if i.dtype.kind == "f":
                raise IndexError(f"indices must be integers or bools, got {i.dtype}")
            basic = False
        elif isinstance(i, bool):
            basic = False
        elif isinstance(i, np.integer):
            i = int(i)
        elif type(i) is slice:
            checked_slice(i)
        elif not isinstance(i, _BASIC):
            raise IndexError(f"only integers, slices, None, ..., and long or bool tensors are "
                             f"valid indices, got {type(i).__name__}")
        out.append(i)
    return tuple(out), basic


def torch_order(idx, ndim):
    """Split an advanced index into (first, rest) so that `a[first][rest]` has PyTorch's
    axis order: PyTorch applies ints and None first and then the advanced indices on what
    is left, where NumPy counts ints as advanced and None/... as separators (moving the
    advanced dimensions to the front). `first` is None when NumPy's order is already it."""
    if not any(i is None or i is Ellipsis or type(i) is int for i in idx) or any(
            isinstance(i, bool) for i in idx):
        return None, idx
    used = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
               for i in idx if i is not None and i is not Ellipsis)
    full = []
    for i in idx:
        full.extend([slice(None)] * (ndim - used) if i is Ellipsis else [i])
    first, rest = [], []
    for i in full:
        if i is None:
            first.append(None)
            rest.append(slice(None))
        elif type(i) is int:
            first.append(i)
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            first.extend([slice(None)] * i.ndim)
            rest.append(i)
        else:
            first.append(slice(None))
            rest.append(i)
    return tuple(first), tuple(rest)


def _at(a, pair):
    first, rest = pair
    return (a if first is None else a[first])[rest]


def _put_at(a, pair, v):
    first, rest = pair
    if isinstance(v, np.ndarray) and v.dtype != a.dtype:
        v = dtypes.convert(v, a.dtype)  # as PyTorch converts (a float into uint8: wrapped)
    (a if first is None else a[first])[rest] = v  # a[first] is a view: writes reach a


def _scatter_back(g, index, shape, dtype):
    """Gradient of x[index]: g added into zeros of x's shape (repeats accumulate)."""
    if type(g) is Tensor:
        return apply(_SCATTER, (g,), (index, shape))
    z = np.zeros_like(g, shape=shape)  # like g: a compile recording sees it
    np.add.at(z, index, g)
    return z


def _basic_back(g, index, shape):
    if type(g) is Tensor:
        return apply(_SCATTER, (g,), (index, shape))
    z = np.zeros_like(g, shape=shape)  # like g: a compile recording sees it
    z[index] = g
    return z


def _scatter_fw(g, index, shape):
    z = np.zeros_like(g, shape=shape)  # like g: a compile recording sees it
    np.add.at(z, index, g)
    return z


_SCATTER = Op("IndexPutBackward0", _scatter_fw, lambda g, o, gg, index, shape: g[index],
              saves_inputs=False)
GETITEM = Op("IndexBackward0", lambda x, index, shape: x[index],
             lambda g, o, x, index, shape: _scatter_back(g, index, shape, None), saves_inputs=False)
SLICE = Op("SliceBackward0", lambda x, index, shape: x[index],
           lambda g, o, x, index, shape: _basic_back(g, index, shape), saves_inputs=False)
SELECT, UNSQUEEZE, ALIAS = (SLICE.renamed(n) for n in
                            ("SelectBackward0", "UnsqueezeBackward0", "AliasBackward0"))
GATHER, INDEX_SELECT = GETITEM.renamed("GatherBackward0"), GETITEM.renamed("IndexSelectBackward0")


def basic_op(idx, shape, single=False):
    """PyTorch names a basic index by its last step that does something: x[0] selects,
    x[1:] slices, x[:, None] unsqueezes; a slice spanning a whole dimension is skipped
    (x[..., :] aliases) unless it is the whole index (x[:] slices)."""
    if single and isinstance(idx[0], slice):
        return SLICE
    spare = len(shape) - sum(1 for i in idx if i is not None and i is not Ellipsis)
    dim, op = 0, ALIAS
    for item in idx:
        if item is Ellipsis:
            dim += spare
        elif item is None:
            op = UNSQUEEZE
        else:
            if not isinstance(item, slice):
                op = SELECT
            elif item.indices(shape[dim]) != (0, shape[dim], 1):
                op = SLICE
            dim += 1
    return op


def _mask_of(pair, shape):
    m = np.zeros(shape, dtype=bool)
    _put_at(m, pair, True)
    return m


INDEX_PUT = Op("IndexPutBackward0", lambda x, v, index: _put(x, v, index),
               lambda g, o, x, v, index: np.where(_mask_of(index, g.shape), 0.0, g),
               lambda g, o, x, v, index: _at(g, index), saves_inputs=False)


def _put(x, v, pair):
    r = x.copy()
    _put_at(r, pair, v)
    return r


def _index_error(x, index, err):
    return IndexError(f"index {index!r} is out of range for a tensor of shape "
                      f"{tuple(x.shape)}: {err}")


def basic_index(x, idx, op=None, single=False):
    """x[idx] for a tuple of ints, slices, None and ...: a view of x, recorded as `op`
    (split and unbind pass theirs; by default named by basic_op)."""
    op = op or basic_op(idx, x._data.shape, single)
    if Ellipsis not in idx:
        idx = idx + (Ellipsis,)  # NumPy then returns a 0-d view, not a scalar copy
    out = apply1(op, x, idx, x._data.shape)
    if out._data.base is not None:
        make_view(out, x, getitem, idx)
    return out


def getitem(x, index):
    if type(index) is slice:  # x[i:j], a batch: the commonest index, straight to its view
        try:
            return basic_index(x, (checked_slice(index), Ellipsis), SLICE)
        except IndexError as err:
            raise _index_error(x, index, err) from None
    idx, basic = convert_index(index)
    if not basic:
        first, rest = torch_order(idx, x._data.ndim)
        if first is not None:
            return getitem(getitem(x, first), rest)
    try:
        if basic:
            return basic_index(x, idx, single=not isinstance(index, tuple))
        return apply1(GETITEM, x, idx, x._data.shape)
    except IndexError as err:
        raise _index_error(x, index, err) from None


def _writable_at(arr, idx):
    """`arr` ready for a write at the basic index `idx`: refused only when the elements
    written repeat in memory (all of an expanded tensor, not one element of it)."""
    if not arr.flags.writeable:
        region = arr[idx]
        if isinstance(region, np.ndarray) and region.size and any(
                st == 0 and n > 1 for st, n in zip(region.strides, region.shape)):
            return writable(arr)  # raises PyTorch's error
    return writable(arr, overlap_ok=True)


def setitem(x, index, value):
    idx, basic = convert_index(index)
    pair = (None, idx) if basic else torch_order(idx, x._data.ndim)
    if isinstance(value, Tensor):
        v = value
    else:
        v = Tensor._wrap(to_array(value, opname="setitem"))
    lead = 0
    while lead < v._data.ndim and v._data.shape[lead] == 1:
        lead += 1
    if lead:  # PyTorch drops a value's leading size-1 dimensions (x[0] = ones(1) works)
        v = v.reshape(v._data.shape[lead:])
    from ..autograd import grad_mode
    if not (grad_mode._state[0] and (x.requires_grad or v.requires_grad)):
        try:  # a basic index is checked for repeats where it writes: x.expand(3, 2)[0, 0]
            _put_at(_writable_at(x._data, idx) if basic else writable(x._data), pair, v._data)
        except (ValueError, IndexError) as err:
            raise RuntimeError(f"setitem: cannot assign a value of shape {tuple(v.shape)} to "
                               f"x[{index!r}] of a tensor of shape {tuple(x.shape)}: {err}") from None
        x._version[0] += 1
        return
    if basic:  # as PyTorch: copy_ into the view x[index] (its base gets a CopySlices node)
        try:
            target = getitem(x, idx)
        except IndexError as err:
            raise _index_error(x, index, err) from None
        target.copy_(v)
        return
    try:
        x._inplace(lambda old, val: apply(INDEX_PUT, (old, val.to(old.dtype)), (pair,)), v,
                   opname="setitem")
    except ValueError as err:
        raise RuntimeError(f"setitem: cannot assign a value of shape {tuple(v.shape)} to "
                           f"x[{index!r}] of a tensor of shape {tuple(x.shape)}: {err}") from None
    except IndexError as err:
        raise _index_error(x, index, err) from None


# the value is cast to x's dtype before filling (an int64 x must not pass through float64)
MASKED_FILL = Op("MaskedFillBackward0", lambda x, mask, value: np.where(
                     mask, np.asanyarray(value).astype(x.dtype), x),
                 lambda g, o, x, mask, value: np.where(mask, 0.0, g), saves_inputs=False)


def masked_fill(x, mask, value):
    m = mask._data if isinstance(mask, Tensor) else np.asanyarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, got {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, x._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {tuple(m.shape)} cannot be broadcast "
                           f"to the tensor's shape {tuple(x.shape)}") from None
    if isinstance(value, Tensor):
        value = value.item()
    return apply1(MASKED_FILL, x, m, value)


def gather(x, dim, index):
    idx = index._data if isinstance(index, Tensor) else np.asanyarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather: expected an int64 index, got {idx.dtype}")
    d = x._dim(dim)
    if idx.ndim != x._data.ndim:
        raise RuntimeError(f"gather: index of shape {tuple(idx.shape)} must have as many "
                           f"dimensions as the input of shape {tuple(x.shape)}")
    if idx.size and (idx.min() < 0 or idx.max() >= x._data.shape[d]):  # no negatives, as PyTorch
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise RuntimeError(f"gather: index {int(bad)} is out of bounds for dimension {d} "
                         f"with size {x._data.shape[d]}")
    mesh = list(np.ix_(*[np.arange(s) for s in idx.shape]))
    mesh[d] = idx
    return apply1(GATHER, x, tuple(mesh), x._data.shape)


def index_select(x, dim, index):
    idx = index._data if isinstance(index, Tensor) else np.asanyarray(index)
    d = x._dim(dim)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): expected a 1-D integer index, got dtype "
                           f"{idx.dtype} and shape {tuple(idx.shape)}")
    n = x._data.shape[d] if x._data.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_select(): index out of range for dimension {d} with size {n}")
    index = (slice(None),) * d + (idx.reshape(-1),)
    return apply1(INDEX_SELECT, x, index, x._data.shape)


def take(x, index):
    return getitem(x.reshape(-1), (index,))


def nonzero(x, as_tuple=False):
    # a 0-d tensor counts as one element (NumPy refuses it): [[]] or an empty (0, 0)
    nz = np.nonzero(x._data) if x._data.ndim else tuple(np.nonzero(x._data.reshape(1)))
    if not x._data.ndim and not as_tuple:
        return Tensor._wrap(np.zeros((len(nz[0]), 0), dtype=np.int64))
    if as_tuple:
        return tuple(Tensor._wrap(i) for i in nz)
    return Tensor._wrap(np.stack(nz, axis=1) if nz else np.zeros((0, 0), dtype=np.int64))


def masked_select(x, mask):
    """x's elements where mask holds, the two broadcast together first."""
    from .shape import expand
    shape = np.broadcast_shapes(x._data.shape, mask._data.shape)
    if x._data.shape != shape:
        x = expand(x, shape)
    m = mask._data if mask._data.shape == shape else np.broadcast_to(mask._data, shape)
    return getitem(x, Tensor._wrap(m))
