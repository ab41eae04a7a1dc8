"""conv3d and conv_transpose3d, lowered onto the 2-D convolution.

conv3d gathers, for each output depth, the input planes its kernel's depth taps meet and
lays them out as channels; one conv2d over (height, width) then sums taps and channels
together. conv_transpose3d runs conv_transpose2d with the depth taps as extra output
channels and adds each tap's planes back at the depth it reaches. The gathering and the
adding back are a linear map and its adjoint (each the other's gradient), the rest is
permuting and the 2-D convolution ops, so gradients of every order follow."""
import numpy as np

from .conv import _convolution, _transposed, planar_conv
from .conv import conv_transpose2d as _conv_transpose2d
from .adjoint import adjoint_pair
from .core import apply1


def _tap_slices(t, geom):
    """Tap t's (window positions, depth positions) that lie inside the depth, as slices;
    None when none does. A window o meets depth o * stride + t * dilation - front."""
    _, stride, dilation, front, depth, windows = geom
    offset = t * dilation - front
    first = max(0, -(offset // stride) if offset < 0 else 0)
    last = min(windows, (depth - 1 - offset) // stride + 1) if depth - 1 >= offset else 0
    if last <= first:
        return None
    start = first * stride + offset
    return slice(first, last), slice(start, start + (last - first - 1) * stride + 1, stride)


def _gather_taps(x, geom):
    """(N, C, D, H, W) -> (N, C, KD, windows, H, W): the depth each tap of each window
    meets (zero outside the depth: the padding)."""
    taps, windows = geom[0], geom[5]
    out = np.zeros_like(x, shape=x.shape[:2] + (taps, windows) + x.shape[3:])
    for t in range(taps):
        where = _tap_slices(t, geom)
        if where is not None:
            out[:, :, t, where[0]] = x[:, :, where[1]]
    return out


def _spread_taps(g, geom):
    """The adjoint: each tap's planes added back at the depth they came from (float16
    summed in float32)."""
    taps, depth = geom[0], geom[4]
    work = g.astype(np.float32) if g.dtype == np.float16 else g
    out = np.zeros_like(work, shape=g.shape[:2] + (depth,) + g.shape[4:])
    for t in range(taps):
        where = _tap_slices(t, geom)
        if where is not None:
            view = out[:, :, where[1]]
            np.add(view, work[:, :, t, where[0]], out=view)
    return out.astype(g.dtype, copy=False)


# geometry: (taps, stride, dilation, front padding, depth, windows)
GATHER_TAPS, SPREAD_TAPS = adjoint_pair("DepthTapsBackward0", _gather_taps,
                                        "DepthTapsBackwardBackward0", _spread_taps)


def _lowered_conv(x, weight, bias, stride, pads, dilation, groups):
    n, c, d, h, w = x.shape
    o, cg, kd = weight.shape[:3]
    (front, back), sd, dd = pads[0], stride[0], dilation[0]
    out_depth = (d + front + back - dd * (kd - 1) - 1) // sd + 1
    taps = apply1(GATHER_TAPS, x, (kd, sd, dd, front, d, out_depth))
    # channels ordered (group, tap, channel) to match the weight's (tap, channel) per group
    planes = taps.reshape(n, groups, cg, kd, out_depth, h, w).permute(0, 4, 1, 3, 2, 5, 6)
    planes = planes.reshape(n * out_depth, groups * kd * cg, h, w)
    kernel = weight.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, *weight.shape[3:])
    out = planar_conv(planes, kernel, bias, stride[1:], pads[1:], dilation[1:], groups)
    out = out.reshape(n, out_depth, o, *out.shape[2:])
    return out.permute(0, 2, 1, 3, 4).contiguous()


def _lowered_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation,
                       out_size):
    if x._data.dtype == np.float16:  # in float32, rounded once, as PyTorch's kernel does
        wide = _lowered_transpose(x.float(), weight.float(), None if bias is None else
                                  bias.float(), stride, padding, output_padding, groups,
                                  dilation, out_size)
        return wide.half()
    n, c, d, h, w = x.shape
    og, kd = weight.shape[1:3]
    planes = x.permute(0, 2, 1, 3, 4).reshape(n * d, c, h, w)
    # output channels ordered (group, tap, channel): each tap's planes, per group
    kernel = weight.permute(0, 2, 1, 3, 4).reshape(c, kd * og, *weight.shape[3:])
    spread = _conv_transpose2d(planes, kernel, None, stride[1:], padding[1:],
                               output_padding[1:], groups, dilation[1:])
    spread = spread.reshape(n, d, groups, kd, og, *out_size[1:])
    spread = spread.permute(0, 2, 4, 3, 1, 5, 6).reshape(n, groups * og, kd, d, *out_size[1:])
    out = apply1(SPREAD_TAPS, spread, (kd, stride[0], dilation[0], padding[0], out_size[0], d))
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1, 1)
    return out


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of (N, C, D, H, W) (or (C, D, H, W)) with weight
    (O, C/groups, KD, KH, KW); padding an int, a triple, 'same' or 'valid'."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d",
                        _lowered_conv)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The adjoint of conv3d in its input, with weight (C, O/groups, KD, KH, KW)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 3, "conv_transpose3d", _lowered_transpose)


