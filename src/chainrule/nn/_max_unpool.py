"""nn.functional's max_unpool1d/2d/3d: each value written at its index (as max pooling's
return_indices gives it) into a zero plane of the output size, with PyTorch's output
sizes, checks and messages. A scatter into zeros: the gradient gathers at the indices."""
import numpy as np

from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES
from ._pooling import ints

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _output_size(x, kernel, stride, padding, output_size):
    """PyTorch's unpooling size: the pooling's input size by default; a requested size
    (optionally with batch and channel first) must lie within a stride of it."""
    k = len(kernel)
    default = [(n - 1) * s + kk - 2 * p for n, s, kk, p in
               zip(x.shape[-k:], stride, kernel, padding)]
    if output_size is None:
        return default
    sizes = list(output_size)
    if len(sizes) == k + 2:
        sizes = sizes[2:]
    if len(sizes) != k:
        raise ValueError(f"output_size should be a sequence containing {k} or {k + 2} "
                         f"elements, but it has a length of '{len(sizes)}'")
    for d, (v, n, s) in enumerate(zip(sizes, default, stride)):
        if not n - s < v < n + s:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f"between {n - s} and {n + s})")
    return [int(v) for v in sizes]


def _check(x, indices, k, fn):
    for name, v in (("input", x), ("indices", indices)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not "
                            f"{type(v).__name__}")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"{fn}: elements in indices should be type int64 but got: "
                           f"{SCALAR_NAMES.get(indices._data.dtype.name, indices.dtype)}")
    if x.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{fn}: Input to max_unpooling{k}d should be a {k + 1}d or "
                           f"{k + 2}d Tensor, but got a tensor with {x.ndim} dimensions.")
    if tuple(x.shape) != tuple(indices.shape):
        raise RuntimeError(f"{fn}: Expected shape of indices to be same as that of the input "
                           f"tensor ({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    for dim in range(x.ndim - k - 1, x.ndim):
        if x.shape[dim] == 0:
            raise RuntimeError(f"{fn}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {list(x.shape)} with dimension {dim} "
                               "being empty.")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{fn}\" not implemented for "
                                  f"'{SCALAR_NAMES.get(x._data.dtype.name, x.dtype)}'")


def _unpool(x, indices, sizes, fn):
    """Each value of x's last len(sizes) dims written at its flat index in a zero volume
    of `sizes`."""
    k, volume = len(sizes), int(np.prod(sizes))
    index = indices._data
    wrong = (index < 0) | (index >= volume)
    shown = list(sizes) + [1] * (k == 1)  # 1-D unpools a width-1 plane, as PyTorch's does
    if wrong.any():
        raise RuntimeError(f"{fn}: Found an invalid max index: {index[wrong].flat[0]} (output "
                           f"volumes are of size {'x'.join(str(s) for s in shown)})")
    lead = tuple(x.shape[:-k])
    count = int(np.prod(x.shape[-k:]))
    zeros = x.new_zeros(lead + (volume,))
    out = zeros.scatter(-1, indices.reshape(lead + (count,)), x.reshape(lead + (count,)))
    return out.reshape(lead + tuple(sizes))


def _arguments(kernel_size, stride, padding, k, fn):
    kernel = ints(kernel_size, k, "kernel_size", fn)
    stride = ints(stride, k, "stride", fn, optional=True) or kernel
    return kernel, stride, ints(padding, k, "padding", fn)


def _max_unpool(k, input, indices, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{k}d"
    kernel, stride, padding = _arguments(kernel_size, stride, padding, k, fn)
    _check(input, indices, k, fn)
    if k == 3 and min(stride) <= 0:  # PyTorch checks strides only for the 3-D form
        raise RuntimeError(f"{fn}: strides should be greater than zero, but got stride: "
                           f"{list(stride)}")
    sizes = _output_size(input, kernel, stride, padding, output_size)
    return _unpool(input, indices, sizes, fn)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d at its indices: (N, C, L) (or (C, L)); zeros elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d at its indices: (N, C, H, W) (or (C, H, W))."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool3d at its indices: (N, C, D, H, W) (or (C, D, H, W))."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)
