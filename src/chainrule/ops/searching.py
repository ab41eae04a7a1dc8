"""Searching sorted sequences and membership: searchsorted, bucketize, isin, and the index
helpers tril_indices, triu_indices, unravel_index. Results are integer or bool tensors
(no gradient, as in PyTorch)."""
import numpy as np

from ..tensors import dtypes
from ..tensors.tensor import Tensor


def _array(v):
    return v._data if isinstance(v, Tensor) else np.asanyarray(v)


def searchsorted(sorted_sequence, values, out_int32=False, right=False, side=None, sorter=None):
    seq, vals = _array(sorted_sequence), _array(values)
    side = side or ("right" if right else "left")
    if side not in ("left", "right"):
        raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter), -1)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"searchsorted: boundaries {tuple(seq.shape)} and input "
                               f"{tuple(vals.shape)} must have the same leading dimensions")
        rows = [np.searchsorted(s, v, side=side) for s, v in
                zip(seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1]))]
        out = np.stack(rows).reshape(vals.shape) if rows else np.zeros(vals.shape, np.int64)
    return Tensor._wrap(np.asanyarray(out, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, out_int32=False, right=False):
    if _array(boundaries).ndim != 1:
        raise RuntimeError("bucketize: boundaries tensor must be 1 dimension")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, assume_unique=False, invert=False):
    return Tensor._wrap(np.asanyarray(np.isin(_array(elements), _array(test_elements), invert=invert)))


def _tri_indices(np_fn, row, col, offset, dtype):
    r, c = np_fn(row, offset, col)
    return Tensor._wrap(np.stack([r, c]).astype(dtypes.to_numpy_dtype(dtype or dtypes.int64)))


def tril_indices(row, col, offset=0, dtype=None, device=None, layout=None):
    return _tri_indices(np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, dtype=None, device=None, layout=None):
    return _tri_indices(np.triu_indices, row, col, offset, dtype)


def unravel_index(indices, shape):
    idx = _array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError("unravel_index: expected 'indices' to be an integer tensor")
    size = int(np.prod(shape))
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise RuntimeError(f"unravel_index: index out of bounds for shape {tuple(shape)}")
    coords = np.unravel_index(np.where(idx < 0, idx + size, idx), tuple(shape))
    return tuple(Tensor._wrap(np.asanyarray(c, dtype=np.int64)) for c in coords)
