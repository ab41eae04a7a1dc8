"""nn.functional's 3-D pooling: max_pool3d, avg_pool3d, adaptive_avg_pool3d and
adaptive_max_pool3d, with PyTorch's arguments, checks and messages. Max pooling gathers
each window's winner (found in NumPy as PyTorch's kernel picks it), so its gradient
scatters to the winners; average pooling sums (height, width) windows with the 2-D
pooling, then the depth taps, and divides by each window's divisor. All are
differentiable ops, to any order."""
import numpy as np

from ..ops import pool_volumes
from ..ops.indexing import gather
from ..ops.padding import pad
from ..ops.pool_windows import output_length
from ..tensors.tensor import Tensor
from ._pooling import (_is_int, _output_size, adaptive_avg_pool1d, adaptive_avg_pool2d,
                       avg_pool2d, check_dims, check_input, check_window, ints)
from ..tensors.type_info import SCALAR_NAMES

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _sizes(x, kernel, stride, padding, dilation, ceil_mode, fn):
    """The checked output (depth, height, width), in PyTorch's order of checks."""
    check_window(kernel, stride, padding, dilation, fn)
    sizes = tuple(x.shape[-3:])
    out = tuple(output_length(*a, ceil_mode) for a in zip(sizes, kernel, stride, padding,
                                                             dilation))
    if min(out) < 1:
        shown = "x".join(str(v) for v in (x.shape[-4], *sizes))
        made = "x".join(str(v) for v in (x.shape[-4], *out))
        raise RuntimeError(f"{fn}: Given input size: ({shown}). Calculated output size: "
                           f"({made}). Output size is too small (input of shape "
                           f"{tuple(x.shape)}, kernel_size={kernel}, stride={stride}, "
                           f"padding={padding}, dilation={dilation})")
    return out


def _arguments(kernel_size, stride, padding, dilation, fn):
    kernel = ints(kernel_size, 3, "kernel_size", fn)
    stride = ints(stride, 3, "stride", fn, optional=True) or kernel
    return kernel, stride, ints(padding, 3, "padding", fn), ints(dilation, 3, "dilation", fn)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    fn = "max_pool3d"
    kernel, stride, padding, dilation = _arguments(kernel_size, stride, padding, dilation, fn)
    check_input(input, 3, fn)
    out = _sizes(input, kernel, stride, padding, dilation, ceil_mode, fn)
    index = pool_volumes.winners(input._data, out, kernel, stride, padding, dilation)
    return _at_winners(input, index, out, return_indices)


def _at_winners(x, index, out, return_indices):
    """The values at the winners: a gather, whose gradient scatters to them."""
    lead = tuple(x.shape[:-3])
    flat = Tensor._wrap(index.reshape(lead + (int(np.prod(out)),)))
    values = gather(x.flatten(-3), -1, flat).reshape(lead + out)
    return (values, Tensor._wrap(index)) if return_indices else values


def adaptive_max_pool3d(input, output_size, return_indices=False):
    fn = "adaptive_max_pool3d"
    check_input(input, 3, fn, ints_ok=False)
    out = _output_size(input, output_size, 3, fn)
    index = pool_volumes.adaptive_winners(input._data, out)
    return _at_winners(input, index, out, return_indices)


def _check_avg_dtype(x, fn):
    name = x._data.dtype.name
    if name not in ("float32", "float64", "int64"):  # PyTorch's CPU kernel's types
        raise NotImplementedError(f"\"{fn}_out_frame\" not implemented for "
                                  f"'{SCALAR_NAMES.get(name, x.dtype)}'")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    fn = "avg_pool3d"
    kernel, stride, padding, _ = _arguments(kernel_size, stride, padding, 1, fn)
    check_dims(input, 3, fn)
    _check_avg_dtype(input, fn)
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override == 0):
        raise RuntimeError(f"{fn}: divisor must be not zero, got divisor_override="
                           f"{divisor_override!r}")
    out = _sizes(input, kernel, stride, padding, (1, 1, 1), ceil_mode, fn)
    lead, (d, h, w) = tuple(input.shape[:-3]), tuple(input.shape[-3:])
    planes = input.reshape(-1, d, h, w)
    # each (height, width) window's sum: the 2-D pooling with a divisor of one
    sums = avg_pool2d(planes, kernel[1:], stride[1:], padding[1:], ceil_mode, True, 1)
    kd, sd, pd = kernel[0], stride[0], padding[0]
    reach = max(pd + d, (out[0] - 1) * sd + kd)
    sums = pad(sums, (0, 0, 0, 0, pd, reach - pd - d))
    total = None
    for t in range(kd):
        tap = sums[:, t:t + (out[0] - 1) * sd + 1:sd]
        total = tap if total is None else total + tap
    divisor = pool_volumes.divisors((d, h, w), out, kernel, stride, padding,
                                    count_include_pad, divisor_override)
    if input._data.dtype.kind == "f":
        result = total / Tensor._wrap(divisor.astype(input._data.dtype))
    else:  # integer division truncates, as C++'s does
        result = total.div(Tensor._wrap(divisor), rounding_mode="trunc")
    return result.reshape(lead + out)


def adaptive_avg_pool3d(input, output_size):
    """The mean over a (depth, height, width) cell is the mean over its depths of each
    plane's mean over its (height, width) cell."""
    fn = "adaptive_avg_pool3d"
    check_dims(input, 3, fn)
    od, oh, ow = _output_size(input, output_size, 3, fn)
    lead, (d, h, w) = tuple(input.shape[:-3]), tuple(input.shape[-3:])
    if (od, oh, ow) == (1, 1, 1):  # PyTorch's path: the mean of each volume
        return input.mean((-3, -2, -1), keepdim=True)
    planes = adaptive_avg_pool2d(input.reshape(-1, d, h, w), (oh, ow))
    depth = planes.reshape(-1, d, oh * ow).transpose(1, 2)
    depth = adaptive_avg_pool1d(depth, od)
    return depth.transpose(1, 2).reshape(lead + (od, oh, ow))

