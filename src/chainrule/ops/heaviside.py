"""The Heaviside step function. Like PyTorch's, it has no derivative: backward through it
raises instead of returning zeros that would silently stop learning."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply


def _heaviside(x, values):
    # x == 0 takes `values`; NaN compares false everywhere and gives 0, as in PyTorch
    return np.where(x == 0, values, x > 0).astype(x.dtype)


def _no_derivative(g, o, x, values):
    raise RuntimeError("derivative for heaviside is not implemented")


HEAVISIDE = Op("HeavisideBackward0", _heaviside, _no_derivative, _no_derivative)


def heaviside(input, values):
    for name, v in (("input", input), ("values", values)):
        if not isinstance(v, Tensor):
            raise TypeError(f"heaviside(): argument '{name}' must be a tensor, not "
                            f"{type(v).__name__}")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           f"dtypes (input is {input.dtype}, values is {values.dtype}).")
    try:
        np.broadcast_shapes(input._data.shape, values._data.shape)
    except ValueError:
        raise RuntimeError(f"heaviside: input of shape {tuple(input.shape)} and values of shape "
                           f"{tuple(values.shape)} cannot be broadcast together") from None
    return apply(HEAVISIDE, (input, values))
