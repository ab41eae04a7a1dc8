"""Average pooling over windows that tile the input (stride equal to the kernel, no
padding, no dilation: LeNet's 2×2 pools), for float arrays. Each window is summed in
PyTorch's scan order into the first pair's sum (no zeroed accumulator) and divided once
in place; the adjoint writes each window's share of the gradient straight into the
elements of its window, which no other window touches (no zeroing, no adds)."""
import numpy as np

from .pool_windows import at_offset, offsets


def serves(a, win):
    """Whether these windows tile the input (all of each inside it: not ceil_mode's
    partial last window) and `a` is float32/float64."""
    return (a.dtype in (np.float32, np.float64) and win.sh == win.kh and win.sw == win.kw
            and win.ph == win.pw == 0 and win.dh == win.dw == 1 and win.kh * win.kw > 1
            and win.oh * win.kh <= win.h and win.ow * win.kw <= win.w)


def _divisor(win, divisor_override):
    return divisor_override or win.kh * win.kw


def avg_pool(x, win, divisor_override):
    (i0, j0), (i1, j1), *rest = offsets(win)
    total = np.add(at_offset(x, win, i0, j0), at_offset(x, win, i1, j1))
    for i, j in rest:
        np.add(total, at_offset(x, win, i, j), out=total)
    np.divide(total, _divisor(win, divisor_override), out=total)
    return total


def avg_pool_adjoint(g, win, divisor_override):
    share = np.divide(g, _divisor(win, divisor_override))
    dx = np.empty_like(share, shape=g.shape[:-2] + (win.h, win.w))
    for i, j in offsets(win):
        dx[..., i:win.oh * win.kh:win.kh, j:win.ow * win.kw:win.kw] = share
    if win.oh * win.kh < win.h:  # rows and columns past the last window: no gradient
        dx[..., win.oh * win.kh:, :] = 0
    if win.ow * win.kw < win.w:
        dx[..., :, win.ow * win.kw:] = 0
    return dx
