"""Adaptive 2-D pooling: output cell o along an axis of n inputs covers inputs
floor(o*n/out) to ceil((o+1)*n/out), so windows may differ in size by one. The kernels
loop over the largest window's offsets; an offset past a smaller window's end is masked.
Sums run in PyTorch's order and divide as it does (by rows, then by columns)."""
from collections import namedtuple

import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from . import plane_index
from .adjoint import adjoint_pair
from .core import apply1

# output size and input size, each (rows, columns)
Cells = namedtuple("Cells", "oh ow h w")


def _spans(out, size):
    o = np.arange(out)
    start = (o * size) // out
    end = -((-(o + 1) * size) // out)
    return start, end - start


def _offsets(cells):
    """Per kernel offset (i, j): each cell's input row and column at that offset, and
    whether the offset lies inside the cell."""
    rs, rn = _spans(cells.oh, cells.h)
    cs, cn = _spans(cells.ow, cells.w)
    for i in range(int(rn.max(initial=0))):
        rows, rows_in = np.minimum(rs + i, cells.h - 1), i < rn
        for j in range(int(cn.max(initial=0))):
            cols, cols_in = np.minimum(cs + j, cells.w - 1), j < cn
            yield rows[:, None] * cells.w + cols[None, :], rows_in[:, None] & cols_in[None, :]


def _sizes(cells, dtype):
    _, rn = _spans(cells.oh, cells.h)
    _, cn = _spans(cells.ow, cells.w)
    return rn.astype(dtype)[:, None], cn.astype(dtype)[None, :]


def _planes(x, cells):
    return x.reshape(x.shape[:-2] + (cells.h * cells.w,))


def _work(x):
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _avg(x, cells):
    flat = _planes(_work(x), cells)
    total = np.zeros_like(flat, shape=x.shape[:-2] + (cells.oh, cells.ow))
    for where, inside in _offsets(cells):
        np.add(total, np.where(inside, flat[..., where], 0), out=total)
    rows, cols = _sizes(cells, total.dtype)
    return (total / rows / cols).astype(x.dtype, copy=False)


def _avg_adjoint(g, cells):
    rows, cols = _sizes(cells, _work(g).dtype)
    share = _work(g) / rows / cols
    out = np.zeros_like(share, shape=g.shape[:-2] + (cells.h * cells.w,))
    # offsets in reverse: an element in several cells sums them in PyTorch's order
    for where, inside in reversed(list(_offsets(cells))):
        np.add.at(out, (Ellipsis, where), np.where(inside, share, 0))
    return out.reshape(g.shape[:-2] + (cells.h, cells.w)).astype(g.dtype, copy=False)


ADAPTIVE_AVG_POOL2D, ADAPTIVE_AVG_POOL2D_ADJOINT = adjoint_pair(
    "AdaptiveAvgPool2DBackward0", _avg, "AdaptiveAvgPool2DBackwardBackward0", _avg_adjoint)


class Winners:
    """Where the forward pass leaves each cell's winner: row * width + column."""
    __slots__ = ("index",)


def _max(x, cells, winners):
    flat = _planes(x, cells)
    shape = x.shape[:-2] + (cells.oh, cells.ow)
    best = np.full_like(x, -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                        shape=shape)
    index = np.zeros_like(best, dtype=np.int64)  # like best: a compile recording sees it
    for where, inside in _offsets(cells):
        v = flat[..., where]
        take = (v > best) | np.isnan(v) if x.dtype.kind == "f" else v > best
        take &= inside
        np.copyto(best, v, where=take)
        np.copyto(index, where, where=take)
    winners.index = index
    return best


GATHER_WINNERS, SCATTER_TO_WINNERS = adjoint_pair(
    "AdaptiveMaxPool2DBackward0", plane_index.gather,
    "AdaptiveMaxPool2DBackwardBackward0", plane_index.scatter)


def _max_grad(g, out, x, cells, winners):
    if isinstance(g, Tensor):
        return apply1(SCATTER_TO_WINNERS, g, winners.index, (cells.h, cells.w))
    return plane_index.scatter(g, winners.index, (cells.h, cells.w))


ADAPTIVE_MAX_POOL2D = Op("AdaptiveMaxPool2DBackward0", _max, _max_grad, saves_inputs=False)


def adaptive_max_pool2d(x, cells):
    """(values, PyTorch's flat indices) of an adaptive max pool over x's last two dims."""
    winners = Winners()
    return apply1(ADAPTIVE_MAX_POOL2D, x, cells, winners), winners
