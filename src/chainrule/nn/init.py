"""Weight initialisation, in place and without recording gradients, with PyTorch's formulas
for gains and fans and the global generator (so manual_seed makes it reproducible)."""
import functools
import math

import numpy as np

from .. import random as _random
from ..tensors.tensor import Tensor
from .parameter import UninitializedParameter

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _initialized(fn):
    """Refuse a lazy module's placeholder, as PyTorch does: filling it before the first call
    would be silently lost when the call gives it its real shape."""
    @functools.wraps(fn)
    def wrapper(tensor, *args, **kwargs):
        if isinstance(tensor, UninitializedParameter):
            raise ValueError(f"nn.init.{fn.__name__}: attempted to use an uninitialized "
                             "parameter of a lazy module; call the module once on a dummy "
                             "batch so its parameters get their shape, then initialise them")
        if not isinstance(tensor, Tensor):
            raise TypeError(f"nn.init.{fn.__name__}: expected a tensor, got "
                            f"{type(tensor).__name__}")
        return fn(tensor, *args, **kwargs)
    return wrapper


def _fill(tensor, arr):
    # writes the storage directly: init never records a graph (as under no_grad)
    tensor._data[...] = arr
    tensor._version[0] += 1
    return tensor


def _rng(generator):
    return _random._rng(generator)


@_initialized
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor._data.shape))


@_initialized
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor._data.shape))


@_initialized
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    if not a <= b or not std >= 0:
        raise ValueError(f"trunc_normal_: expected a <= b and std >= 0, got a={a}, b={b}, "
                         f"std={std}")
    if std == 0 or a == b:
        return _fill(tensor, min(max(mean, a), b))
    z = _truncated_std_normal(_rng(generator), (a - mean) / std, (b - mean) / std,
                              tensor._data.shape)
    return _fill(tensor, np.clip(mean + std * z, a, b))


def _std_normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _truncated_std_normal(rng, lo, hi, shape):
    """Exact samples of N(0, 1) restricted to [lo, hi] by rejection, with a proposal chosen
    so that at least about a third of the draws are kept even when [lo, hi] lies far in a
    tail (plain resampling of a normal would then never end)."""
    if _std_normal_cdf(hi) - _std_normal_cdf(lo) > 0.3:
        return _rejection(rng, shape, lambda n: rng.normal(size=n), lo, hi, lambda z: 1.0)
    if hi <= 0:  # mirror a lower-tail interval onto the upper tail
        return -_truncated_std_normal(rng, -hi, -lo, shape)
    if lo <= 0 or (hi * hi - lo * lo) / 2 < 1:
        # a short interval: uniform proposal, accepted with the density ratio
        peak = 0.0 if lo <= 0 else lo
        return _rejection(rng, shape, lambda n: rng.uniform(lo, hi, size=n), lo, hi,
                          lambda z: np.exp((peak * peak - z * z) / 2))
    # the upper tail beyond lo: shifted exponential proposal (Robert, 1995)
    rate = (lo + math.sqrt(lo * lo + 4)) / 2
    return _rejection(rng, shape, lambda n: lo + rng.exponential(1 / rate, size=n), lo, hi,
                      lambda z: np.exp(-(z - rate) ** 2 / 2))


def _rejection(rng, shape, propose, lo, hi, accept_prob):
    out = np.empty(int(np.prod(shape)))
    todo = np.arange(out.size)
    while todo.size:
        z = propose(todo.size)
        ok = (z >= lo) & (z <= hi) & (rng.uniform(size=todo.size) < accept_prob(z))
        out[todo[ok]] = z[ok]
        todo = todo[~ok]
    return out.reshape(shape)


@_initialized
def constant_(tensor, val):
    return _fill(tensor, val)


@_initialized
def zeros_(tensor):
    return _fill(tensor, 0)


@_initialized
def ones_(tensor):
    return _fill(tensor, 1)


@_initialized
def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


@_initialized
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


@_initialized
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


@_initialized
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


@_initialized
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


# old names without the trailing underscore
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
kaiming_uniform, kaiming_normal = kaiming_uniform_, kaiming_normal_
