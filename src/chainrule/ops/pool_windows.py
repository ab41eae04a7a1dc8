"""The windows of a 2-D pooling over the last two dimensions: their geometry, the input
padded so that every window lies inside it, and one strided view per kernel offset.
Pooling kernels loop over the kh*kw offsets only; each step is one NumPy call over all
windows of the batch at once."""
from collections import namedtuple

import numpy as np

# kernel, stride, padding, dilation, output size and input size, each (rows, columns)
Windows = namedtuple("Windows", "kh kw sh sw ph pw dh dw oh ow h w")


def output_length(size, kernel, stride, pad, dilation, ceil_mode):
    """PyTorch's pooling output length: the last window must start inside the input or
    its left padding (ceil_mode may otherwise add a window of padding only)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    n = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (n - 1) * stride >= size + pad:
        n -= 1
    return n


def padded_shape(win):
    """Rows and columns the windows reach, from the first padded row/column on."""
    rows = max(win.ph + win.h, (win.oh - 1) * win.sh + (win.kh - 1) * win.dh + 1)
    cols = max(win.pw + win.w, (win.ow - 1) * win.sw + (win.kw - 1) * win.dw + 1)
    return rows, cols


def padded(x, win, fill):
    """x inside a frame of `fill` wide enough for every window (ceil_mode's last window
    may reach past the padding)."""
    rows, cols = padded_shape(win)
    if (rows, cols) == (win.h, win.w):
        return x
    out = np.full_like(x, fill, shape=x.shape[:-2] + (rows, cols))
    out[..., win.ph:win.ph + win.h, win.pw:win.pw + win.w] = x
    return out


def cropped(xp, win):
    """The inverse of `padded`: the input's own rows and columns, contiguous."""
    if xp.shape[-2:] == (win.h, win.w):
        return xp
    return xp[..., win.ph:win.ph + win.h, win.pw:win.pw + win.w].copy()


def offsets(win):
    """The kernel offsets (i, j), in PyTorch's scan order (row by row)."""
    return [(i, j) for i in range(win.kh) for j in range(win.kw)]


def at_offset(xp, win, i, j):
    """The element at kernel offset (i, j) of every window: a strided view of xp."""
    r, c = i * win.dh, j * win.dw
    return xp[..., r:r + (win.oh - 1) * win.sh + 1:win.sh, c:c + (win.ow - 1) * win.sw + 1:win.sw]


def overlapping(win):
    """Whether an input element can lie in two windows (gradients then accumulate)."""
    return (win.sh < (win.kh - 1) * win.dh + 1) or (win.sw < (win.kw - 1) * win.dw + 1)
