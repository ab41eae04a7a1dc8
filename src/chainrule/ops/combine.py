"""Combining and broadcasting several tensors: hstack/vstack/dstack, column_stack,
block_diag, meshgrid, broadcast_tensors, cartesian_prod, combinations, atleast_nd and
tensordot. All are compositions of differentiable ops (cat, stack, expand, reshape,
matmul), so gradients and second order come with them."""
import itertools

import numpy as np

from ..tensors.tensor import Tensor
from .shape import cat, stack, _tensors


def atleast_1d(*tensors):
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors[0] if len(tensors) == 1 and not single else tensors
    shaped = []
    for t in items:
        shape = tuple(t.shape)
        if len(shape) < n:  # PyTorch's placement: (n,) -> (1, n) -> (1, n, 1)
            shape = {0: (1,) * n, 1: (1,) + shape + (1,) * (n - 2)}.get(len(shape), shape + (1,))
        shaped.append(t.reshape(shape) if shape != tuple(t.shape) else t)
    return shaped[0] if single else tuple(shaped)


def hstack(tensors):
    tensors = atleast_1d(*tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat(atleast_2d(*tensors), 0)


row_stack = vstack


def dstack(tensors):
    return cat(atleast_3d(*tensors), 2)


def column_stack(tensors):
    cols = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def block_diag(*tensors):
    if not tensors:
        return Tensor._wrap(np.zeros((1, 0), dtype=np.float32))
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensors(tensors, "block_diag")]
    if any(m.ndim != 2 for m in mats):
        raise RuntimeError("block_diag: input tensors must have 2 or fewer dimensions")
    width = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        pad_l = Tensor._wrap(np.zeros((m.shape[0], left), dtype=m._data.dtype))
        pad_r = Tensor._wrap(np.zeros((m.shape[0], width - left - m.shape[1]), dtype=m._data.dtype))
        rows.append(cat([pad_l, m, pad_r], 1))
        left += m.shape[1]
    return cat(rows, 0)


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {list(shapes)} cannot be broadcast "
                           "together") from None


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    if any(t.ndim > 1 for t in tensors):
        raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list")
    vecs = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(vecs) >= 2
    if swap:
        vecs[0], vecs[1] = vecs[1], vecs[0]
    shape = tuple(v.shape[0] for v in vecs)
    n = len(vecs)
    grids = [v.reshape((1,) * i + (-1,) + (1,) * (n - i - 1)).expand(shape) for i, v in enumerate(vecs)]
    if swap:  # "xy": the first two inputs index columns and rows, as in NumPy
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(x, r=2, with_replacement=False):
    if x.ndim != 1:
        raise RuntimeError(f"combinations: expected a 1-D tensor, got {x.ndim}-D")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(x.shape[0]), r))
    if not rows:
        return Tensor._wrap(np.zeros((0, r) if r else (0,), dtype=x._data.dtype))
    return x[Tensor._wrap(np.asanyarray(rows, dtype=np.int64))]


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [a._dim(d) for d in da], [b._dim(d) for d in db]
    if [a.shape[i] for i in da] != [b.shape[j] for j in db]:
        raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                           f"sizes {[a.shape[i] for i in da]} and second has "
                           f"{[b.shape[j] for j in db]}")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = int(np.prod([a.shape[i] for i in da]))
    left = a.permute(free_a + da).reshape(-1, k)
    right = b.permute(db + free_b).reshape(k, -1)
    return (left @ right).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))
