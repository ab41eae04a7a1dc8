"""Basic layers: Linear, LazyLinear, Identity, Flatten, Dropout."""
import math
import numbers

import numpy as np

from ..tensors import devices
from ..tensors import dtypes
from ..tensors.tensor import Tensor
from . import functional as F, init
from .module import Module
from .parameter import Parameter, UninitializedParameter, materialize


def _empty(*shape, dtype=None, device=None):
    devices.place(device, "Linear")
    return Tensor._wrap(np.empty(shape, dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype())))


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), one fused graph node."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform(a=√5) = U(±1/√fan_in) for weight and bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        try:
            return F.linear(x, self.weight, self.bias)
        except (TypeError, RuntimeError) as err:  # F.linear checks; the message names the layer
            raise type(err)(f"Linear(in_features={self.in_features}, out_features="
                            f"{self.out_features}): {str(err).removeprefix('linear: ')}") from None

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def lazy_weight_and_bias(module, bias, dtype):
    """A lazy module's weight (and bias, or None): shapes fixed at the first call."""
    module.register_parameter("weight", UninitializedParameter(dtype=dtype))
    module.register_parameter("bias", UninitializedParameter(dtype=dtype) if bias else None)


class LazyLinear(Linear):
    """Linear whose in_features is taken from the first input. The placeholder parameters
    are materialised in place, so an optimizer built before the first call trains them.
    After the first call the module *is* a Linear (PyTorch's cls_to_become), so
    `type(m) == nn.Linear` checks that choose an initialisation see it."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        devices.place(device, "LazyLinear")
        self.in_features, self.out_features = 0, out_features
        lazy_weight_and_bias(self, bias, dtype)

    def has_uninitialized_params(self):
        return isinstance(self.weight, UninitializedParameter)

    def initialize_parameters(self, x):
        if x.ndim == 0:
            raise RuntimeError("LazyLinear: expected an input with at least one dimension")
        if self.has_uninitialized_params():
            self.in_features = x.shape[-1]
            materialize(self.weight, (self.out_features, self.in_features))
            if self.bias is not None:
                materialize(self.bias, (self.out_features,))
            self.reset_parameters()
        elif x.shape[-1] != self.weight.shape[1]:  # parameters came from a state dict
            raise RuntimeError(f"LazyLinear: the input's last dimension {x.shape[-1]} is not "
                               f"the in_features {self.weight.shape[1]} of the loaded weight")
        self.in_features = self.weight.shape[1]

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"LazyLinear: expected a tensor input, got {type(x).__name__}")
        self.initialize_parameters(x)
        self.__class__ = Linear
        return Linear.forward(self, x)

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            Linear.reset_parameters(self)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zeroes each element with probability p in training, scaling the rest by 1/(1-p);
    the identity in eval()."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
