"""`Tensor.unfold(dimension, size, step)`: sliding windows as a strided view of x's
memory (writes through it reach x, as in PyTorch); its gradient adds each window's
gradient back where the window lies."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply1
from .shape import _view_of


def _windows(arr, d, size, step):
    if arr.ndim == 0:  # one window of the one element
        return arr.reshape(1)
    x = arr
    n = x.shape[d]
    shape = x.shape[:d] + ((n - size) // step + 1,) + x.shape[d + 1:] + (size,)
    strides = x.strides[:d] + (x.strides[d] * step,) + x.strides[d + 1:] + (x.strides[d],)
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable)


def _fold_back(g, d, size, step, shape):
    """The gradient of the windows summed into x's shape (overlaps accumulate)."""
    if not shape:
        return g.reshape(())
    full = shape
    n = full[d]
    starts = np.arange(0, n - size + 1, step)
    where = starts[:, None] + np.arange(size)[None, :]
    z = np.zeros_like(g, shape=full[:d] + full[d + 1:] + (n,))
    np.add.at(z, (Ellipsis, where), np.moveaxis(g, d, -2))
    return np.moveaxis(z, -1, d).reshape(shape)


def _unfold_grad(g, o, x, d, size, step):
    return apply1(_FOLD, g, d, size, step, x.shape) if isinstance(g, Tensor) else \
        _fold_back(g, d, size, step, x.shape)


UNFOLD = Op("UnfoldBackward0", _windows, _unfold_grad)
_FOLD = Op("UnfoldBackwardBackward0", _fold_back,
           lambda gg, o, g, d, size, step, shape: apply1(UNFOLD, gg, d, size, step)
           if isinstance(gg, Tensor) else np.array(_windows(gg, d, size, step)),
           saves_inputs=False)


def unfold(x, dimension, size, step):
    """Sliding windows of `size` every `step` along `dimension`, as a new last dimension."""
    d = x._dim(dimension) if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise RuntimeError(f"unfold: size {size} must be at most the size {n} of dimension {d} "
                           f"and step {step} positive")
    return _view_of(apply1(UNFOLD, x, d, size, step), x, unfold, dimension, size, step)
