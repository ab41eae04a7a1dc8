"""2-D average pooling as PyTorch computes it on the CPU: each window summed in scan order
(float16 in float32), then divided once by its divisor (the window's size inside the
padded input, its size inside the input without `count_include_pad`, or
`divisor_override`). Integer tensors divide with truncation, as C++ does."""
import numpy as np

from . import avg_pool_tiled as tiled
from .adjoint import adjoint_pair
from .pool_windows import at_offset, cropped, offsets, padded, padded_shape


def _window_sizes(n, kernel, stride, pad, size):
    """Per output position along one axis: (size within the padded input, size within
    the input)."""
    start = np.arange(n) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    whole = end - start
    inside = np.minimum(end, size) - np.maximum(start, 0)
    return whole, inside


def divisors(win, count_include_pad, divisor_override):
    if divisor_override:
        return np.full((win.oh, win.ow), divisor_override, dtype=np.int64)
    rows = _window_sizes(win.oh, win.kh, win.sh, win.ph, win.h)
    cols = _window_sizes(win.ow, win.kw, win.sw, win.pw, win.w)
    pick = 0 if count_include_pad else 1
    return rows[pick][:, None] * cols[pick][None, :]


def _work_dtype(dtype):
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype if dtype.kind == "f" else np.dtype(np.int64)


def _divide(total, divisor, dtype):
    if total.dtype.kind == "f":
        out = total / divisor.astype(total.dtype)
    else:  # truncation toward zero
        out = np.sign(total) * (np.abs(total) // divisor)
    return out.astype(dtype, copy=False)


def _avg_pool(x, win, count_include_pad, divisor_override):
    if tiled.serves(x, win):
        return tiled.avg_pool(x, win, divisor_override)
    xp = padded(x.astype(_work_dtype(x.dtype), copy=False), win, 0)
    total = np.zeros_like(xp, shape=x.shape[:-2] + (win.oh, win.ow))
    for i, j in offsets(win):
        np.add(total, at_offset(xp, win, i, j), out=total)
    return _divide(total, divisors(win, count_include_pad, divisor_override), x.dtype)


def _avg_pool_adjoint(g, win, count_include_pad, divisor_override):
    """Each window's gradient / divisor added to every element of the window; offsets in
    reverse, so each element sums its windows in PyTorch's order."""
    if tiled.serves(g, win):
        return tiled.avg_pool_adjoint(g, win, divisor_override)
    work = g.astype(_work_dtype(g.dtype), copy=False)
    share = work / divisors(win, count_include_pad, divisor_override).astype(work.dtype)
    gp = np.zeros_like(share, shape=g.shape[:-2] + padded_shape(win))
    for i, j in reversed(offsets(win)):
        view = at_offset(gp, win, i, j)
        np.add(view, share, out=view)
    return cropped(gp, win).astype(g.dtype, copy=False)


AVG_POOL2D, AVG_POOL2D_ADJOINT = adjoint_pair(
    "AvgPool2DBackward0", _avg_pool, "AvgPool2DBackwardBackward0", _avg_pool_adjoint)
