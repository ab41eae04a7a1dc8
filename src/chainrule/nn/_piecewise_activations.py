"""Piecewise activations of nn.functional (hardswish, hardsigmoid, hardtanh, relu6,
threshold, softshrink, hardshrink, rrelu) and the ones PyTorch composes from other ops
(softsign, softmin, glu, tanhshrink). Each kernel makes the comparisons of PyTorch's
vectorised CPU kernels (which run on all but a tensor's last few elements), so NaN and the
breakpoints themselves get PyTorch's values and gradients."""
import warnings

import numpy as np

from .. import random as _random
from ..autograd.function import Op
from ..ops.core import apply1
from ._smooth_activations import _op
from ..ops.softmax import softmax
from ..tensors.type_info import SCALAR_NAMES

__all__ = ["hardswish", "hardsigmoid", "hardtanh", "hardtanh_", "relu6", "threshold",
           "threshold_", "softshrink", "hardshrink", "rrelu", "rrelu_", "softsign",
           "softmin", "glu", "tanhshrink"]


def _floats_only(x, fn):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{fn}" not implemented for '
                                  f"'{SCALAR_NAMES.get(x._data.dtype.name, x.dtype)}'")


def _apply(x, op, inplace, fn, *params, inplace_op=None):
    if inplace:
        return x._inplace(lambda old: apply1(inplace_op or op, old, *params), opname=f"{fn}_")
    return apply1(op, x, *params)


# PyTorch's breakpoints: hardswish's slope is 0 at -3 and 1 at 3; hardsigmoid's slope is
# 1/6 in float32 (a float literal in its kernel) whatever the dtype
_ONE_SIXTH = float(np.float32(1) / np.float32(6))
HARDSWISH = _op("HardswishBackward0",
                lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
                lambda g, o, x: np.where(x <= -3, 0, np.where(x >= 3, g, g * (x / 3 + 0.5))))
HARDSIGMOID = _op("HardsigmoidBackward0",
                  lambda x: np.minimum(np.maximum(x + 3, 0), 6) / 6,
                  lambda g, o, x: np.where(np.logical_and(x > -3, x < 3), g * _ONE_SIXTH, 0))


def hardswish(input, inplace=False):
    _floats_only(input, "hardswish")
    return _apply(input, HARDSWISH, inplace, "hardswish")


def hardsigmoid(input, inplace=False):
    _floats_only(input, "hardsigmoid")
    return _apply(input, HARDSIGMOID, inplace, "hardsigmoid")


def _clamp(x, low, high):
    return np.minimum(np.maximum(x, low), high).astype(x.dtype, copy=False)


# the gradient is zero at the bounds themselves (unlike clamp's) and at NaN
HARDTANH = _op("HardtanhBackward0", _clamp,
               lambda g, o, x, low, high: np.where(np.logical_and(x > low, x < high), g, 0))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    return _apply(input, HARDTANH, inplace, "hardtanh", min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _threshold(x, threshold, value):
    return np.where(x <= threshold, x.dtype.type(value), x)


THRESHOLD = _op("ThresholdBackward0", _threshold,
                lambda g, o, x, threshold, value: np.where(x <= threshold, 0, g))
# PyTorch's in-place form tests the result against the threshold (the input is gone)
THRESHOLD_INPLACE = _op("ThresholdBackward1", _threshold,
                        lambda g, o, x, threshold, value: np.where(o <= threshold, 0, g),
                        saves_inputs=False, uses_out=True)


def threshold(input, threshold, value, inplace=False):
    return _apply(input, THRESHOLD, inplace, "threshold", threshold, value,
                  inplace_op=THRESHOLD_INPLACE)


def threshold_(input, threshold, value):
    return _apply(input, THRESHOLD, True, "threshold", threshold, value,
                  inplace_op=THRESHOLD_INPLACE)


def _dead_zone(x, lambd):
    return np.logical_and(x >= -lambd, x <= lambd)


def _live(x, lambd):  # not the complement of the dead zone: NaN is in neither
    return np.logical_or(x < -lambd, x > lambd)


SOFTSHRINK = _op("SoftshrinkBackward0",
                 lambda x, lambd: np.where(x > lambd, x - lambd,
                                           np.where(x < -lambd, x + lambd, x * 0)),
                 lambda g, o, x, lambd: np.where(_live(x, lambd), g, 0))
HARDSHRINK = _op("HardshrinkBackward0",
                 lambda x, lambd: np.where(_dead_zone(x, lambd), 0, x),
                 lambda g, o, x, lambd: np.where(_live(x, lambd), g, 0))


def softshrink(input, lambd=0.5):
    _floats_only(input, "softshrink")
    if not lambd >= 0:
        largest = np.finfo(input._data.dtype).max
        raise RuntimeError(f"softshrink: lambda must be in range [0, {largest:.6g}] for input "
                           f"dtype {SCALAR_NAMES[input._data.dtype.name]}, but found {lambd}")
    return apply1(SOFTSHRINK, input, float(lambd))


def hardshrink(input, lambd=0.5):
    _floats_only(input, "hardshrink")
    return apply1(HARDSHRINK, input, float(lambd))


# rrelu: evaluation is a leaky relu of slope (lower + upper) / 2; training draws each
# negative element's slope from U(lower, upper), kept as the gradient's factor
RRELU = _op("RreluWithNoiseBackward0",
            lambda x, slope: np.where(x > 0, x, x * slope),
            lambda g, o, x, slope: np.where(x > 0, g, g * slope))
RRELU_INPLACE = RRELU.renamed("RreluWithNoiseBackward1")
RRELU_NOISE = Op("RreluWithNoiseBackward0", lambda x, noise: x * noise,
                 lambda g, o, x, noise: g * noise, saves_inputs=False)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper "
                           f"bound, got lower={lower} and upper={upper}")
    _floats_only(input, "rrelu")
    if not training:
        return _apply(input, RRELU, inplace, "rrelu", (lower + upper) / 2,
                      inplace_op=RRELU_INPLACE)
    arr = input._data
    draw = _random._rng(None).random(arr.shape, dtype=np.float64)
    noise = np.where(arr <= 0, lower + (upper - lower) * draw, 1.0).astype(arr.dtype)
    return _apply(input, RRELU_NOISE, inplace, "rrelu", noise)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=_stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return softmax(-input, dim, dtype=dtype)


def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu: glu does not support scalars because halving size must be "
                           "even")
    d = input._dim(dim)
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                           f"{size} (input of shape {tuple(input.shape)})")
    first, second = input.split(size // 2, d)
    return first * second.sigmoid()

