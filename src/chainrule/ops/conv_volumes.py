"""conv3d and conv_transpose3d, lowered onto the 2-D convolution.

conv3d gathers, for each output depth, the input slices its kernel's depth taps meet and
stacks them as channels; one conv2d over (height, width) then sums taps and channels
together. conv_transpose3d runs conv_transpose2d with the depth taps as extra output
channels and adds each tap's planes back at the depth it reaches. Only slicing, stacking,
permuting and the 2-D convolution ops are used, so gradients of every order follow from
theirs."""
import numpy as np

from .conv import _convolution, _transposed, planar_conv
from .conv import conv_transpose2d as _conv_transpose2d
from .padding import pad
from .shape import cat, stack


def _depth_taps(x, taps, stride, dilation, out_depth):
    """(N, C, D, H, W) -> (N, C, KD, OD, H, W): the slice each depth tap meets."""
    reach = stride * (out_depth - 1) + 1
    return [x[:, :, t * dilation:t * dilation + reach:stride] for t in range(taps)]


def _lowered_conv(x, weight, bias, stride, pads, dilation, groups):
    n, c, _, h, w = x.shape
    o, cg, kd = weight.shape[:3]
    (front, back), sd, dd = pads[0], stride[0], dilation[0]
    if front or back:
        x = pad(x, (0, 0, 0, 0, front, back))
    out_depth = (x.shape[2] - dd * (kd - 1) - 1) // sd + 1
    taps = stack(_depth_taps(x, kd, sd, dd, out_depth), 2)
    # channels ordered (group, tap, channel) to match the weight's (tap, channel) per group
    planes = taps.reshape(n, groups, cg, kd, out_depth, h, w).permute(0, 4, 1, 3, 2, 5, 6)
    planes = planes.reshape(n * out_depth, groups * kd * cg, h, w)
    kernel = weight.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, *weight.shape[3:])
    out = planar_conv(planes, kernel, bias, stride[1:], pads[1:], dilation[1:], groups)
    out = out.reshape(n, out_depth, o, *out.shape[2:])
    return out.permute(0, 2, 1, 3, 4).contiguous()


def _spread_depth(parts, stride, dilation, length):
    """Σ over taps t of parts[t] (N, B, D, H, W) placed at depths d*stride + t*dilation of
    a depth `length` (zeros elsewhere)."""
    total = None
    for t, part in enumerate(parts):
        n, b, d, h, w = part.shape
        if stride > 1:  # stride-1 zero planes after each plane
            gaps = part.new_zeros((n, b, d, stride - 1, h, w))
            part = cat([part.unsqueeze(3), gaps], 3).reshape(n, b, d * stride, h, w)
            part = part[:, :, :(d - 1) * stride + 1]
        front = t * dilation
        placed = pad(part, (0, 0, 0, 0, front, length - front - part.shape[2]))
        total = placed if total is None else total + placed
    return total


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
    spread = spread.permute(0, 3, 2, 4, 1, 5, 6).reshape(n, kd, groups * og, d, *out_size[1:])
    full = (d - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + output_padding[0]
    out = _spread_depth([spread[:, t] for t in range(kd)], stride[0], dilation[0], full)
    out = out[:, :, padding[0]:padding[0] + out_size[0]]
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1, 1)
    return out if out.is_contiguous() else out.contiguous()


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


