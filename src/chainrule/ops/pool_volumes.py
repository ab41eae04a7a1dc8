"""Pooling windows over the last k dimensions of a NumPy array, any k: each window's
winner as PyTorch's max pooling picks it, and the divisors of average pooling. The
values and gradients are then ordinary differentiable ops (a gather at the winners;
sums divided by the divisors)."""
import itertools

import numpy as np

from .max_pool import _lowest


def _reach(size, out, kernel, stride, pad, dilation):
    """How far the windows reach along one axis, from the first padded element on."""
    return max(pad + size, (out - 1) * stride + (kernel - 1) * dilation + 1)


def _padded(x, sizes, out, kernel, stride, pads, dilation):
    k = len(sizes)
    reach = tuple(_reach(*a) for a in zip(sizes, out, kernel, stride, pads, dilation))
    xp = np.full_like(x, _lowest(x.dtype), shape=x.shape[:-k] + reach)
    xp[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(pads, sizes))] = x
    return xp


def winners(x, out, kernel, stride, pads, dilation):
    """Flat index (in the input's last k dims) of each window's winner: the first element
    equal to the maximum in scan order; in a NaN window the last NaN; never padding."""
    k = len(kernel)
    sizes = x.shape[-k:]
    xp = _padded(x, sizes, out, kernel, stride, pads, dilation)
    offsets = list(itertools.product(*(range(n) for n in kernel)))

    def at(offset):
        return xp[(Ellipsis,) + tuple(slice(o * d, o * d + (m - 1) * s + 1, s) for o, d, m, s
                                      in zip(offset, dilation, out, stride))]

    def where(offset):
        """Each window's element at `offset`: its flat index and whether it is inside."""
        axes = [np.arange(m) * s - p + o * d for m, s, p, o, d in
                zip(out, stride, pads, offset, dilation)]
        grid = np.ix_(*axes)
        inside = np.ones(out, dtype=bool)
        flat = np.zeros(out, dtype=np.int64)
        for axis, n in zip(grid, sizes):
            inside &= (axis >= 0) & (axis < n)
            flat = flat * n + axis
        return flat, inside

    best = at(offsets[0]).copy()
    for offset in offsets[1:]:
        np.maximum(best, at(offset), out=best)  # NaN propagates
    index = np.zeros_like(best, dtype=np.int64)
    for offset in reversed(offsets):  # the first match is written last
        flat, inside = where(offset)
        index = np.where((at(offset) == best) & inside, flat, index)
    if x.dtype.kind == "f" and np.isnan(best).any():
        for offset in offsets:  # the last NaN is written last
            flat, inside = where(offset)
            index = np.where(np.isnan(at(offset)) & inside, flat, index)
    return index


def _window_sizes(n, kernel, stride, pad, size):
    """Per output position along one axis: (size within the padded input, size within
    the input)."""
    start = np.arange(n) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    return end - start, np.minimum(end, size) - np.maximum(start, 0)


def divisors(sizes, out, kernel, stride, pads, count_include_pad, divisor_override):
    """Average pooling's divisor of each window, shaped like the output's last k dims."""
    if divisor_override:
        return np.full(out, divisor_override, dtype=np.int64)
    pick = 0 if count_include_pad else 1
    total = np.ones((), dtype=np.int64)
    for axis, args in enumerate(zip(out, kernel, stride, pads, sizes)):
        along = _window_sizes(*args)[pick]
        total = total[..., None] * along.reshape((1,) * axis + (-1,))
    return total


def _cells(out, size):
    """Adaptive pooling's cells along one axis: first input and length of each."""
    o = np.arange(out)
    start = (o * size) // out
    return start, -((-(o + 1) * size) // out) - start


def adaptive_winners(x, out):
    """Flat index (in the input's last k dims) of each adaptive cell's winner, scanned as
    PyTorch scans it: a greater value or a NaN takes the cell. Offsets past a smaller
    cell's end are masked, never revisiting an element."""
    sizes = x.shape[-len(out):]
    cells = [_cells(m, n) for m, n in zip(out, sizes)]
    lead = x.shape[:-len(out)]
    best = np.full_like(x, _lowest(x.dtype), shape=lead + tuple(out))
    index = np.zeros_like(best, dtype=np.int64)
    flat_x = x.reshape(lead + (int(np.prod(sizes)),))
    spans = [range(int(length.max(initial=0))) for _, length in cells]
    lengths = np.ix_(*(length for _, length in cells))
    for offset in itertools.product(*spans):
        grid = np.ix_(*(np.minimum(start + o, n - 1)
                        for (start, _), o, n in zip(cells, offset, sizes)))
        flat, inside = 0, True
        for axis, n, o, length in zip(grid, sizes, offset, lengths):
            flat = flat * n + axis
            inside = inside & (o < length)
        v = flat_x[..., flat]
        take = (v > best) | np.isnan(v) if x.dtype.kind == "f" else v > best
        take &= inside
        np.copyto(best, v, where=take)
        np.copyto(index, flat, where=take)
    return index
