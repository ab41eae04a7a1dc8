"""nn.functional's pooling: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d and
adaptive_max_pool1d/2d, with PyTorch's arguments, checks and messages (prefixed with the
function's name). The 1-D forms pool a height-1 plane, as PyTorch's do."""
import numbers

from ..ops import adaptive_pool, max_pool
from ..ops.adaptive_pool import Cells
from ..ops.avg_pool import AVG_POOL2D
from ..ops.core import apply1
from ..ops.pool_windows import Windows, output_length
from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def ints(value, n, name, fn, optional=False):
    """An int, or a tuple/list of 1 or n ints, as n ints (None or () when `optional`)."""
    if optional and (value is None or (isinstance(value, (tuple, list)) and not value)):
        return None
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        if len(value) in (1, n):
            return tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
        either = "either be omitted, a single int" if optional else "either be a single int"
        raise RuntimeError(f"{fn}: {name} must {either}, or a tuple of {n} ints, got "
                           f"{tuple(value)}")
    raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of ints, not "
                    f"{type(value).__name__}")


def check_input(x, spatial, fn, ints_ok=True):
    """spatial+1 or spatial+2 dims; only the batch may be empty; a dtype the op has."""
    check_dims(x, spatial, fn)
    check_dtype(x, fn, ints_ok)


def check_dims(x, spatial, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    shape = tuple(x.shape)
    if x.ndim not in (spatial + 1, spatial + 2) or 0 in shape[x.ndim - spatial - 1:]:
        raise RuntimeError(f"{fn}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
                           f"(batched) input whose dimensions other than the batch are "
                           f"non-empty, but got input of shape {shape}")


def check_dtype(x, fn, ints_ok=True):
    kind = x._data.dtype.kind
    if kind == "b" or kind == "c" or (kind != "f" and not ints_ok):
        raise NotImplementedError(f'"{fn}" not implemented for '
                                  f"'{SCALAR_NAMES.get(x._data.dtype.name, x.dtype)}'")


def check_window(kernel, stride, padding, dilation, fn):
    """A pooling window's arguments, per spatial dim, in PyTorch's order of checks."""
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError(f"{fn}: stride should not be zero")
        if p < 0:
            raise RuntimeError(f"{fn}: pad must be non-negative, but got pad: {p}")
        if p > int(((k - 1) * d + 1) / 2):
            raise RuntimeError(f"{fn}: pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={k} and dilation={d}")
    for name, values in (("kernel size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) <= 0:
            raise RuntimeError(f"{fn}: {name} should be greater than zero, but got {values}")


def windows(x, kernel, stride, padding, dilation, ceil_mode, fn):
    """The checked geometry of a pooling over x's last two dims (PyTorch's order of checks)."""
    h, w = x.shape[-2:]
    stride = stride or kernel
    check_window(kernel, stride, padding, dilation, fn)
    oh = output_length(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = output_length(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{fn}: Given input size: ({h}x{w}). Calculated output size: "
                           f"({oh}x{ow}). Output size is too small (input of shape "
                           f"{tuple(x.shape)}, kernel_size={kernel}, stride={stride}, "
                           f"padding={padding}, dilation={dilation})")
    return Windows(*kernel, *stride, *padding, *dilation, oh, ow, h, w)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    fn = "max_pool2d"
    kernel = ints(kernel_size, 2, "kernel_size", fn)
    stride = ints(stride, 2, "stride", fn, optional=True)
    padding, dilation = ints(padding, 2, "padding", fn), ints(dilation, 2, "dilation", fn)
    check_input(input, 2, fn)
    win = windows(input, kernel, stride, padding, dilation, ceil_mode, fn)
    return _max_pool(input, win, return_indices)


def _max_pool(x, win, return_indices):
    values = apply1(max_pool.MAX_POOL2D, x, win)
    if not return_indices:
        return values
    return values, Tensor._wrap(max_pool.winners(x._data, win))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    fn = "max_pool1d"
    kernel = ints(kernel_size, 1, "kernel_size", fn)
    stride = ints(stride, 1, "stride", fn, optional=True)
    padding, dilation = ints(padding, 1, "padding", fn), ints(dilation, 1, "dilation", fn)
    check_input(input, 1, fn)
    plane = input.unsqueeze(-2)
    win = windows(plane, (1,) + kernel, stride and (1,) + stride, (0,) + padding,
                  (1,) + dilation, ceil_mode, fn)
    out = _max_pool(plane, win, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    fn = "avg_pool2d"
    kernel = ints(kernel_size, 2, "kernel_size", fn)
    stride = ints(stride, 2, "stride", fn, optional=True)
    padding = ints(padding, 2, "padding", fn)
    check_input(input, 2, fn)
    return _avg_pool(input, kernel, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, fn)


def _avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, fn):
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override == 0):
        raise RuntimeError(f"{fn}: divisor must be not zero, got divisor_override="
                           f"{divisor_override!r}")
    win = windows(x, kernel, stride, padding, (1, 1), ceil_mode, fn)
    return apply1(AVG_POOL2D, x, win, bool(count_include_pad), divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    fn = "avg_pool1d"
    kernel = ints(kernel_size, 1, "kernel_size", fn)
    stride = ints(stride, 1, "stride", fn, optional=True)
    padding = ints(padding, 1, "padding", fn)
    check_input(input, 1, fn)
    return _avg_pool(input.unsqueeze(-2), (1,) + kernel, stride and (1,) + stride,
                     (0,) + padding, ceil_mode, count_include_pad, None, fn).squeeze(-2)


def _output_size(x, output_size, n, fn):
    """Adaptive pooling's output size: an int or n ints (None keeps the input's size)."""
    sizes = (output_size,) * n if not isinstance(output_size, (tuple, list)) else output_size
    if len(sizes) != n:
        raise RuntimeError(f"{fn}: output_size must be {n} int(s), got {tuple(sizes)}")
    sizes = tuple(x.shape[-n + i] if s is None else s for i, s in enumerate(sizes))
    if not all(_is_int(s) for s in sizes):
        raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, got "
                        f"{tuple(output_size) if n > 1 else output_size!r}")
    if min(sizes) < 0:
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal "
                           f"to 0 but received {sizes}")
    return tuple(int(s) for s in sizes)


def adaptive_avg_pool2d(input, output_size):
    fn = "adaptive_avg_pool2d"
    check_dims(input, 2, fn)
    oh, ow = _output_size(input, output_size, 2, fn)
    return _adaptive_avg(input, oh, ow, fn)


def _adaptive_avg(x, oh, ow, fn):
    if (oh, ow) == (1, 1):  # PyTorch's path: the mean of each plane (its dtype checks)
        return x.mean((-2, -1), keepdim=True)
    check_dtype(x, fn, ints_ok=False)
    return apply1(adaptive_pool.ADAPTIVE_AVG_POOL2D, x, Cells(oh, ow, *x.shape[-2:]))


def adaptive_avg_pool1d(input, output_size):
    fn = "adaptive_avg_pool1d"
    check_dims(input, 1, fn)
    (length,) = _output_size(input, output_size, 1, fn)
    return _adaptive_avg(input.unsqueeze(-2), 1, length, fn).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    fn = "adaptive_max_pool2d"
    check_input(input, 2, fn, ints_ok=False)
    oh, ow = _output_size(input, output_size, 2, fn)
    return _adaptive_max(input, Cells(oh, ow, *input.shape[-2:]), return_indices)


def _adaptive_max(x, cells, return_indices):
    values, winners = adaptive_pool.adaptive_max_pool2d(x, cells)
    return (values, Tensor._wrap(winners.index)) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    fn = "adaptive_max_pool1d"
    check_input(input, 1, fn, ints_ok=False)
    (length,) = _output_size(input, output_size, 1, fn)
    plane = input.unsqueeze(-2)
    out = _adaptive_max(plane, Cells(1, length, 1, plane.shape[-1]), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)

