"""Convolution layers: Conv1d, Conv2d, Conv3d (padding_mode zeros/reflect/replicate/
circular), ConvTranspose1d, ConvTranspose2d, ConvTranspose3d and LazyConv2d, with
PyTorch's arguments, defaults, initialisation, parameter names and repr."""
import math
import numbers

import numpy as np

from ..tensors import devices
from ..tensors import dtypes
from ..tensors.tensor import Tensor
from . import functional as F, init
from .module import Module
from .parameter import Parameter, UninitializedParameter, materialize
from .layers import lazy_weight_and_bias

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * n


def _empty(shape, dtype, device, name):
    devices.place(device, name)
    np_dtype = dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype())
    return Tensor._wrap(np.empty(shape, dtype=np_dtype))


def _same_padding(kernel_size, dilation):
    """(left, right) of each spatial dim for padding='same', the last dim first, as F.pad
    takes them: the odd one of the total goes to the right."""
    pads = []
    for k, d in zip(reversed(kernel_size), reversed(dilation)):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def _check_channels(in_channels, out_channels, groups):
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    if in_channels % groups != 0:
        raise ValueError(f"in_channels must be divisible by groups (in_channels={in_channels}, "
                         f"groups={groups})")
    if out_channels % groups != 0:
        raise ValueError(f"out_channels must be divisible by groups (out_channels="
                         f"{out_channels}, groups={groups})")


class _ConvNd(Module):
    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None, output_padding=0):
        super().__init__()
        _check_channels(in_channels, out_channels, groups)
        n = self._dims
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride, self.dilation = _ntuple(stride, n), _ntuple(dilation, n)
        self.output_padding = _ntuple(output_padding, n)
        self.transposed = self._transposed
        self._set_padding(padding, padding_mode)
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        name = type(self).__name__
        self.weight = Parameter(_empty(shape, dtype, device, name))
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype, device, name))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _set_padding(self, padding, padding_mode):
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'same', 'valid'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, self._dims)
        self.padding_mode = padding_mode
        if padding == "valid":
            self._reversed_padding_repeated_twice = (0, 0) * self._dims
        elif padding == "same":
            self._reversed_padding_repeated_twice = _same_padding(self.kernel_size, self.dilation)
        else:
            self._reversed_padding_repeated_twice = tuple(
                p for p in reversed(self.padding) for _ in range(2))

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform(a=√5) = U(±1/√fan_in) for weight and bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _conv(self, x, weight, bias):
        fn = (F.conv1d, F.conv2d, F.conv3d)[self._dims - 1]
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(x, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv(input, self.weight, self.bias)

    def extra_repr(self):
        n = len(self.kernel_size)
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs; weight (out, in/groups, k)."""
    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) inputs; weight (out, in/groups, kh, kw)."""
    _dims = 2


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) inputs; weight (out, in/groups, kd, kh, kw)."""
    _dims = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, x, output_size):
        """The output_padding that makes the output output_size (PyTorch's forward
        argument), checked against the sizes this input can give."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        batched = x.ndim == n + 2
        sizes = list(output_size)
        if len(sizes) == n + (2 if batched else 1):
            sizes = sizes[-n:]
        if len(sizes) != n:
            raise ValueError(f"ConvTranspose{n}D: for {x.ndim}D input, output_size must have "
                             f"{n} or {n + (2 if batched else 1)} elements (got {len(sizes)})")
        spatial = x.shape[-n:]
        smallest = [(m - 1) * s - 2 * p + d * (k - 1) + 1 for m, s, p, d, k in
                    zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [lo + s - 1 for lo, s in zip(smallest, self.stride)]
        if any(not lo <= v <= hi for v, lo, hi in zip(sizes, smallest, largest)):
            raise ValueError(f"requested an output size of {sizes}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of {list(spatial)})")
        return tuple(v - lo for v, lo in zip(sizes, smallest))

    def forward(self, input, output_size=None):
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._dims - 1]
        output_padding = self._output_padding(input, output_size)
        return fn(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                  self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d in its input; weight (in, out/groups, k)."""
    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d in its input; weight (in, out/groups, kh, kw)."""
    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """The adjoint of Conv3d in its input; weight (in, out/groups, kd, kh, kw)."""
    _dims = 3


class LazyConv2d(Conv2d):
    """Conv2d whose in_channels comes from the first input; afterwards it *is* a Conv2d
    (PyTorch's cls_to_become), the placeholder parameters materialised in place."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        devices.place(device, "LazyConv2d")
        _check_channels(0, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = 0, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, 2)
        self.stride, self.dilation = _ntuple(stride, 2), _ntuple(dilation, 2)
        self.output_padding, self.transposed = (0, 0), False
        self._set_padding(padding, padding_mode)
        lazy_weight_and_bias(self, bias, dtype)

    def has_uninitialized_params(self):
        return isinstance(self.weight, UninitializedParameter)

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            Conv2d.reset_parameters(self)

    def initialize_parameters(self, x):
        if x.ndim not in (3, 4):
            raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, "
                               f"but got input of size: {list(x.shape)}")
        if self.has_uninitialized_params():
            self.in_channels = x.shape[1] if x.ndim == 4 else x.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError(f"in_channels must be divisible by groups (in_channels="
                                 f"{self.in_channels}, groups={self.groups})")
            materialize(self.weight, (self.out_channels, self.in_channels // self.groups,
                                      *self.kernel_size))
            if self.bias is not None:
                materialize(self.bias, (self.out_channels,))
            self.reset_parameters()
        self.in_channels = self.weight.shape[1] * self.groups

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"LazyConv2d: expected a tensor input, got {type(input).__name__}")
        self.initialize_parameters(input)
        self.__class__ = Conv2d
        return Conv2d.forward(self, input)
