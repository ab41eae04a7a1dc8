"""LayerNorm, GroupNorm and LocalResponseNorm modules, with PyTorch's parameters, defaults
and repr."""
import numbers

import numpy as np

from ..tensors import devices
from ..tensors import dtypes
from ..tensors.tensor import Tensor
from . import functional as F, init
from .module import Module
from .parameter import Parameter


def _filled(shape, fill, dtype, device, name):
    devices.place(device, name)
    np_dtype = dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype())
    return Parameter(Tensor._wrap(np.full(shape, fill, dtype=np_dtype)))


def _affine_parameters(module, affine, bias, shape, dtype, device):
    """A weight of ones and a bias of zeros of `shape` (or None when not affine)."""
    name = type(module).__name__
    module.register_parameter("weight", _filled(shape, 1.0, dtype, device, name) if affine else None)
    module.register_parameter("bias", _filled(shape, 0.0, dtype, device, name)
                              if affine and bias else None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalises over the trailing `normalized_shape` dims of each sample, then applies
    an elementwise weight (ones) and bias (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, elementwise_affine, bias, self.normalized_shape, dtype, device)

    reset_parameters = _reset_affine

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Splits the channels into `num_groups` groups, normalises each group of each
    sample, then applies a per-channel weight (ones) and bias (zeros)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_groups == 0:
            raise ZeroDivisionError(f"GroupNorm: num_groups must be positive, got 0 (with "
                                    f"num_channels={num_channels})")
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        _affine_parameters(self, affine, bias, (num_channels,), dtype, device)

    reset_parameters = _reset_affine

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Divides each value by (k + alpha * mean of squares over `size` channels) ** beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
