"""Convolutions: conv1d/conv2d and conv_transpose1d/conv_transpose2d.

Three ops close the convolution under differentiation: conv (x, w), its adjoint in the
input (conv_transpose) and its adjoint in the weight. Each one's gradient rules are the
other two, so a gradient of any order is again made of these three kernels."""
from ..tensors.tensor import Tensor
from ..autograd.function import Op
from . import conv_args as args
from .conv_kernels import (bias_grad, conv_forward, conv_input, conv_weight, out_spatial,
                           spatial, transpose_forward)
from .core import apply


def _any_tensor(*values):
    return any(isinstance(v, Tensor) for v in values)


def conv(x, w, b, geom, out_hw):
    if _any_tensor(x, w, b):
        return apply(CONV_GRAD, (x, w, b), (geom, out_hw))
    return conv_forward(x, w, b, geom, out_hw)


def conv_in(g, w, geom, x_hw):
    if _any_tensor(g, w):
        return apply(CONV_INPUT, (g, w), (geom, x_hw))
    return conv_input(g, w, geom, x_hw)


def conv_w(x, g, geom, khw):
    if _any_tensor(x, g):
        return apply(CONV_WEIGHT, (x, g), (geom, khw))
    return conv_weight(x, g, geom, khw)


def bias_of(g):
    if isinstance(g, Tensor):
        return g.sum(dim=(0, *range(2, g.ndim)))
    return bias_grad(g)


# conv(x, w) + b: the input's gradient is the adjoint in the input, the weight's the
# adjoint in the weight (patches of x times g), the bias's g summed over pixels
_CONV_RULES = (lambda g, o, x, w, b, geom, hw: conv_in(g, w, geom, spatial(x)),
               lambda g, o, x, w, b, geom, hw: conv_w(x, g, geom, spatial(w)),
               lambda g, o, x, w, b, geom, hw: bias_of(g))
CONV = Op("ConvolutionBackward0", conv_forward, *_CONV_RULES)
CONV_GRAD = Op("ConvolutionBackwardBackward0", conv_forward, *_CONV_RULES)

# conv_in(g, w) is linear in g (its adjoint is conv with w) and in w (its adjoint is the
# weight adjoint of the incoming gradient h against g)
CONV_INPUT = Op("ConvolutionBackwardBackward0", conv_input,
                lambda h, o, g, w, geom, x_hw: conv(h, w, None, geom, spatial(g)),
                lambda h, o, g, w, geom, x_hw: conv_w(h, g, geom, spatial(w)))

# conv_w(x, g) = Σ g·patches(x): its adjoint in x spreads g by h, in g it is conv(x, h)
CONV_WEIGHT = Op("ConvolutionBackwardBackward0", conv_weight,
                 lambda h, o, x, g, geom, khw: conv_in(g, h, geom, spatial(x)),
                 lambda h, o, x, g, geom, khw: conv(x, h, None, geom, spatial(g)))

# conv_transpose(x, w) + b is conv_in with x in the gradient's place
CONV_TRANSPOSE = Op("ConvolutionBackward0", transpose_forward,
                    lambda h, o, x, w, b, geom, hw: conv(h, w, None, geom, spatial(x)),
                    lambda h, o, x, w, b, geom, hw: conv_w(h, x, geom, spatial(w)),
                    lambda h, o, x, w, b, geom, hw: bias_of(h))


def _geometry(stride, pads, dilation, groups):
    """The kernels' 2-D geometry tuple; conv1d's values get a height of 1."""
    if len(stride) == 1:
        stride, pads, dilation = (1, *stride), ((0, 0), *pads), (1, *dilation)
    (pt, pb), (pl, pr) = pads
    return (stride[0], stride[1], pt, pb, pl, pr, dilation[0], dilation[1], groups)


def _common_checks(x, weight, bias, k, opname):
    args.check_tensor(x, "input", 1, opname)
    args.check_tensor(weight, "weight", 2, opname)
    if bias is not None:
        args.check_tensor(bias, "bias", 3, opname)
    args.check_dims(x, weight, k, opname)


def _convolution(x, weight, bias, stride, padding, dilation, groups, k, opname,
                 run=None):
    """Checks shared by every dimension, then `run` (the 1-D/2-D kernels when None)."""
    _common_checks(x, weight, bias, k, opname)
    stride = args.int_tuple(stride, k, "stride", opname)
    dilation = args.int_tuple(dilation, k, "dilation", opname)
    pads = args.conv_pads(padding, weight, stride, dilation, opname)
    args.check_positive(stride, dilation, groups, opname, [p for pair in pads for p in pair])
    args.check_dtypes(x, weight, bias, opname)
    if x.ndim == k + 1:  # unbatched: a batch of one, as PyTorch does
        return _convolution(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups,
                            k, opname, run).squeeze(0)
    args.check_weight(x, weight, bias, groups, False, opname)
    args.check_kernel_fits(x, weight, pads, dilation, opname)
    return (run or planar_conv)(x, weight, bias, stride, pads, dilation, groups)


def planar_conv(x, weight, bias, stride, pads, dilation, groups):
    """conv1d/conv2d on checked arguments; pads are (low, high) pairs."""
    geom = _geometry(stride, pads, dilation, groups)
    out_hw = out_spatial(spatial(x), spatial(weight), geom)
    return apply(CONV, (x, weight, bias), (geom, out_hw))


def _lift(values, k, fill):
    return tuple(values) if k == 2 else (fill, *values)


def _transposed(x, weight, bias, stride, padding, output_padding, groups, dilation, k,
                opname, run=None):
    _common_checks(x, weight, bias, k, opname)
    if isinstance(padding, str):
        raise TypeError(f"{opname}(): argument 'padding' must be tuple of ints, not str")
    stride = args.int_tuple(stride, k, "stride", opname)
    padding = args.int_tuple(padding, k, "padding", opname)
    output_padding = args.int_tuple(output_padding, k, "output_padding", opname)
    dilation = args.int_tuple(dilation, k, "dilation", opname)
    args.check_positive(stride, dilation, groups, opname, padding)
    args.check_dtypes(x, weight, bias, opname)
    if x.ndim == k + 1:
        return _transposed(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                           groups, dilation, k, opname, run).squeeze(0)
    args.check_weight(x, weight, bias, groups, True, opname)
    if run is not None:
        out = args.transposed_out(x.shape[2:], weight.shape[2:], stride, padding,
                                  output_padding, dilation, opname)
        return run(x, weight, bias, stride, padding, output_padding, groups, dilation, out)
    out_hw = args.transposed_out(spatial(x), spatial(weight), _lift(stride, k, 1),
                                 _lift(padding, k, 0), _lift(output_padding, k, 0),
                                 _lift(dilation, k, 1), opname)
    geom = _geometry(stride, [(p, p) for p in padding], dilation, groups)
    return apply(CONV_TRANSPOSE, (x, weight, bias), (geom, out_hw))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, W) (or (C, W)) with weight (O, C/groups, K)."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) (or (C, H, W)) with weight
    (O, C/groups, KH, KW); padding an int, a pair, 'same' or 'valid'."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The adjoint of conv1d in its input, with weight (C, O/groups, K)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The adjoint of conv2d in its input, with weight (C, O/groups, KH, KW)."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups,
                       dilation, 2, "conv_transpose2d")
