"""nn.functional's resampling: interpolate (nearest, nearest-exact, linear, bilinear,
area), pixel_shuffle and pixel_unshuffle, with PyTorch's output sizes, scales, checks and
messages."""
import math
import numbers

import numpy as np

from ..ops import resample
from ..ops.core import apply1
from ..ops.resample_uint8 import bilinear_uint8
from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES
from ._pool_volumes import adaptive_avg_pool3d
from ._pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
_OPS = {("nearest", 1): resample.NEAREST1D, ("nearest", 2): resample.NEAREST2D,
        ("nearest-exact", 1): resample.NEAREST_EXACT1D,
        ("nearest-exact", 2): resample.NEAREST_EXACT2D,
        ("linear", 1): resample.LINEAR1D, ("bilinear", 2): resample.BILINEAR2D,
        ("nearest", 3): resample.NEAREST3D, ("nearest-exact", 3): resample.NEAREST_EXACT3D,
        ("trilinear", 3): resample.TRILINEAR3D}
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _per_dim(value, dim, what, x):
    if isinstance(value, (list, tuple)):
        if len(value) != dim:
            raise ValueError(
                f"Input and {what} must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(x.shape[2:])} and {what} "
                f"{'of shape ' if what == 'scale_factor' else ''}{tuple(value)}. Please provide "
                f"input tensor in (N, C, d1, d2, ...,dK) format and {what} in "
                f"({'s' if what == 'scale_factor' else 'o'}1, ...,"
                f"{'s' if what == 'scale_factor' else 'o'}K) format.")
        return list(value)
    return [value] * dim


def _sizes_and_scales(x, size, scale_factor, recompute_scale_factor):
    """PyTorch's output size and the scales its kernels receive (None: in/out)."""
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if size is not None:
        sizes = _per_dim(size, dim, "output size", x)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
            raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                            "or Tuple[int, int, int], but got size with types "
                            f"{[type(s) for s in sizes]}")
        return [int(s) for s in sizes], [None] * dim
    scales = [float(s) for s in _per_dim(scale_factor, dim, "scale_factor", x)]
    sizes = [math.floor(n * s) for n, s in zip(x.shape[2:], scales)]
    return sizes, ([None] * dim if recompute_scale_factor else scales)


def _check_sizes(x, sizes):
    names = "DHW"[3 - len(sizes):]
    ins, outs = x.shape[2:], sizes
    if min(ins) <= 0 or min(outs) <= 0:
        given = ", ".join(f"{n}: {v}" for n, v in zip(names, ins))
        wanted = ", ".join(f"{n}: {v}" for n, v in zip(names, outs))
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but "
                           f"got input ({given}) output ({wanted})")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    align_corners = bool(align_corners)
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor)
    dim = input.ndim - 2
    if mode in _DIMS and dim != _DIMS[mode] and dim in (1, 2, 3):
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_DIMS[mode] + 2}D input")
    if antialias or mode == "bicubic":
        raise NotImplementedError(f"interpolate: chainrule does not support mode={mode!r} on "
                                  f"{input.ndim}-D input{' with antialias' if antialias else ''}"
                                  "; supported: nearest, nearest-exact, area (3-D, 4-D and 5-D "
                                  "input), linear (3-D), bilinear (4-D), trilinear (5-D)")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear",
                    "area") or dim not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: {_MODES} (got {mode})")
    _check_sizes(input, sizes)
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dim - 1](
            input, sizes)
    _check_dtype(input, mode, dim)
    if input._data.dtype == np.uint8 and mode == "bilinear":
        return Tensor._wrap(bilinear_uint8(input._data, sizes, scales, align_corners))
    return _resample(input, mode, sizes, scales, align_corners)


def _check_dtype(x, mode, dim):
    """Floats, and uint8 where PyTorch's CPU kernels take it: the nearest modes and
    bilinear."""
    dtype = x._data.dtype
    if dtype.kind == "f" or (dtype == np.uint8 and mode in ("nearest", "nearest-exact",
                                                             "bilinear")):
        return
    name = SCALAR_NAMES.get(dtype.name, x.dtype)
    if dtype == np.uint8 and mode in ("linear", "trilinear"):
        raise NotImplementedError(f'"compute_indices_weights_linear" not implemented for '
                                  f"'{name}'")
    raise NotImplementedError(f'"upsample_{mode.replace("-", "_")}{dim}d" not implemented '
                              f"for '{name}'")


def _resample(x, mode, sizes, scales, align_corners):
    ins = tuple(x.shape[2:])
    if mode in ("nearest", "nearest-exact"):
        axes = tuple(resample.nearest_source(n, m, s, mode == "nearest-exact", len(ins) == 2)
                     for n, m, s in zip(ins, sizes, scales))
    else:
        axes = tuple(resample.linear_source(n, m, align_corners, s, x._data.dtype)
                     for n, m, s in zip(ins, sizes, scales))
    return apply1(_OPS[mode, len(ins)], x, axes, ins)


def _factor(value, name, fn):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{fn} expects a positive {name}, but got {value}")
    return int(value)


def _at_least_3d(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input "
                           f"with {x.ndim} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    fn = "pixel_shuffle"
    _at_least_3d(input, fn)
    r = _factor(upscale_factor, "upscale_factor", fn)
    channels = input.shape[-3]
    if channels % (r * r):
        raise RuntimeError(f"{fn} expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)={channels} is "
                           f"not divisible by {r * r}")
    return apply1(resample.PIXEL_SHUFFLE, input, r)


def pixel_unshuffle(input, downscale_factor):
    fn = "pixel_unshuffle"
    _at_least_3d(input, fn)
    r = _factor(downscale_factor, "downscale_factor", fn)
    for name, axis in (("height", -2), ("width", -1)):
        if input.shape[axis] % r:
            raise RuntimeError(f"{fn} expects {name} to be divisible by downscale_factor, but "
                               f"input.size({axis})={input.shape[axis]} is not divisible by {r}")
    return apply1(resample.PIXEL_UNSHUFFLE, input, r)
