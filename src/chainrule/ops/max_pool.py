"""2-D max pooling as PyTorch computes it on the CPU: each window's first maximum in scan
order wins, a NaN wins over any number (a later NaN over an earlier one), and a window
whose elements are all -inf picks its first element inside the input. The forward pass
takes the maxima only (one np.maximum per kernel offset); the gradient finds each
window's winner from them and scatters through its flat index."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from . import plane_index
from .adjoint import adjoint_pair
from .core import apply1
from .pool_windows import at_offset, offsets, padded


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool(x, win):
    """Each window's maximum; a NaN in a window makes it NaN (np.maximum propagates it)."""
    xp = padded(x, win, _lowest(x.dtype))
    best = at_offset(xp, win, 0, 0).copy()
    for i, j in offsets(win)[1:]:
        np.maximum(best, at_offset(xp, win, i, j), out=best)
    return best


def winners(x, win):
    """PyTorch's indices (row * width + column in the input plane) of each window's
    winner: the first element equal to the maximum; in a NaN window, the last NaN."""
    best = _max_pool(x, win)
    xp = padded(x, win, _lowest(x.dtype))
    # made like `best` (not from its shape) so that a compile recording follows them
    index = np.zeros_like(best, dtype=np.int64)
    found = np.empty_like(best, dtype=bool)
    for i, j in reversed(offsets(win)):  # the first match is written last
        index = _mark(index, np.equal(at_offset(xp, win, i, j), best, out=found), win, i, j)
    if x.dtype.kind == "f" and np.isnan(best).any():
        for i, j in offsets(win):  # the last NaN is written last
            index = _mark(index, np.isnan(at_offset(xp, win, i, j), out=found), win, i, j)
    return index


def _mark(index, hit, win, i, j):
    rows = np.arange(win.oh) * win.sh - win.ph + i * win.dh
    cols = np.arange(win.ow) * win.sw - win.pw + j * win.dw
    inside = ((rows >= 0) & (rows < win.h))[:, None] & ((cols >= 0) & (cols < win.w))[None, :]
    if not inside.all():  # padding equals an all -inf window's maximum: never a winner
        hit &= inside
    return np.where(hit, rows[:, None] * win.w + cols[None, :], index)


GATHER_WINNERS, SCATTER_TO_WINNERS = adjoint_pair(
    "MaxPool2DWithIndicesBackward0", plane_index.gather,
    "MaxPool2DWithIndicesBackwardBackward0", plane_index.scatter)


def _max_pool_grad(g, out, x, win):
    # the winners are found again from x: the output may have been changed in place since
    index = winners(x._data if isinstance(x, Tensor) else x, win)
    if isinstance(g, Tensor):
        return apply1(SCATTER_TO_WINNERS, g, index, (win.h, win.w))
    return plane_index.scatter(g, index, (win.h, win.w))


MAX_POOL2D = Op("MaxPool2DWithIndicesBackward0", _max_pool, _max_pool_grad)
