"""nn.functional.pad: constant (negative widths crop), reflect, replicate and circular.

Constant padding's adjoint is constant padding of the gradient by the negated widths (the
pad cropped away, the crop padded back with zeros), so one op serves every order. The
other modes pick each output element from an input element along each padded dimension:
a gather by an index vector per dimension, whose adjoint adds each gradient back to where
it was picked from; the two ops are each other's rules."""
import numbers

import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES
from .core import apply

_MODES = ("constant", "reflect", "replicate", "circular")


def _constant(x, pairs, value):
    """pairs: one (low, high) per dimension of x, negative widths cropping."""
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pairs, x.shape))
    core = x[crop]
    shape = tuple(m + max(lo, 0) + max(hi, 0) for (lo, hi), m in zip(pairs, core.shape))
    out = np.full_like(x, value, shape=shape)
    out[tuple(slice(max(lo, 0), max(lo, 0) + m) for (lo, _), m in zip(pairs, core.shape))] = core
    return out


def _negated(pairs):
    return tuple((-lo, -hi) for lo, hi in pairs)


CONSTANT_PAD = Op("ConstantPadNdBackward0", _constant,
                  lambda g, o, x, pairs, value: _pad_any(g, _negated(pairs), 0),
                  saves_inputs=False)


def _pad_any(g, pairs, value):
    if isinstance(g, Tensor):
        return apply(CONSTANT_PAD, (g,), (pairs, value))
    return _constant(g, pairs, value)


def _source(mode, n, lo, hi):
    """For each output position along a dimension of size n, the input position it copies."""
    p = np.arange(n + lo + hi) - lo  # position relative to the input's start
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    if mode == "reflect":
        p = np.abs(p)
        return np.where(p > n - 1, 2 * (n - 1) - p, p)
    start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)  # circular: wrap what is kept
    return start + (np.arange(n + lo + hi) - max(lo, 0)) % kept


def _gather(x, maps):
    """maps: (axis, index vector) per padded dimension."""
    for axis, index in maps:
        x = np.take(x, index, axis=axis)
    return x


def _scatter(g, maps, shape):
    """The adjoint of _gather: each gradient added back to the element it was taken from."""
    for axis, index in reversed(maps):
        size = list(g.shape)
        size[axis] = shape[axis]
        out = np.zeros_like(g, shape=tuple(size))
        where = (slice(None),) * axis + (index,)
        np.add.at(out, where, g)
        g = out
    return g


def _gather_any(g, maps, shape):
    if isinstance(g, Tensor):
        return apply(PAD_GATHER, (g,), (maps, shape))
    return _gather(g, maps)


def _scatter_any(g, maps, shape):
    if isinstance(g, Tensor):
        return apply(PAD_SCATTER, (g,), (maps, shape))
    return _scatter(g, maps, shape)


PAD_GATHER = Op("ReflectionPad2DBackward0", lambda x, maps, shape: _gather(x, maps),
                lambda g, o, x, maps, shape: _scatter_any(g, maps, shape), saves_inputs=False)
PAD_SCATTER = Op("ReflectionPad2DBackwardBackward0", _scatter,
                 lambda g, o, x, maps, shape: _gather_any(g, maps, shape), saves_inputs=False)
# PyTorch's node names per mode and dimension count (the same kernels)
_NAMED = {PAD_GATHER.name: PAD_GATHER}


def _gather_op(mode, k):
    name = {"reflect": f"ReflectionPad{k}DBackward0", "replicate": f"ReplicationPad{k}DBackward0",
            "circular": "CopySlices"}[mode]
    if name not in _NAMED:
        _NAMED[name] = PAD_GATHER.renamed(name)
    return _NAMED[name]


def _check_widths(pad):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    for i, v in enumerate(pad):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(v).__name__} at pos {i}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)}")


def _pairs(pad, ndim):
    """(low, high) per dimension of the input; pad lists the last dimension first."""
    pairs = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        pairs[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return tuple(pairs)


def _check_shape_for_mode(x, k, mode):
    shape = list(x.shape)
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: Padding size {2 * k} is not supported for {x.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode != "circular" and 0 in shape[1:]:
        raise RuntimeError(f"pad: Expected {k + 1}D or {k + 2}D (batch mode) tensor with "
                           "possibly 0 batch size and other non-zero dimensions for input, "
                           f"but got: {shape}")
    if mode != "circular" and x._data.dtype == np.bool_:
        kernel = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f'pad: "{kernel}_pad{k}d" not implemented for '
                                  f"'{SCALAR_NAMES['bool']}'")


def _check_fits(x, pairs, k, mode):
    for i in range(k):
        axis = x.ndim - 1 - i
        n, (lo, hi) = x.shape[axis], pairs[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"pad: Argument #{4 + 2 * i}: Padding size should be less than "
                               "the corresponding input dimension, but got: padding "
                               f"({lo}, {hi}) at dimension {axis} of input {list(x.shape)}")
        if mode == "circular" and (lo > n or hi > n or (n - max(-lo, 0) - max(-hi, 0) <= 0
                                                        and max(lo, hi) > 0)):
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once: "
                               f"padding ({lo}, {hi}) at dimension {axis} of input "
                               f"{list(x.shape)}")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative widths in constant mode, crop) the last len(pad) // 2
    dimensions; pad lists (left, right) of the last dimension first, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    _check_widths(pad)
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(pad)} and input "
                           f"of dimension {input.ndim}")
    if mode not in _MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    pairs = _pairs(pad, input.ndim)
    if mode == "constant":
        sizes = [n + lo + hi for n, (lo, hi) in zip(input.shape, pairs)]
        if min(sizes, default=0) < 0:
            raise RuntimeError(f"pad: the padding {tuple(pad)} leaves input of size "
                               f"{list(input.shape)} with a negative size {sizes}")
        return apply(CONSTANT_PAD, (input,), (pairs, 0 if value is None else value))
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pad) // 2
    _check_shape_for_mode(input, k, mode)
    _check_fits(input, pairs, k, mode)
    maps = tuple((axis, _source(mode, input.shape[axis], *pairs[axis]))
                 for axis in range(input.ndim - k, input.ndim))
    return apply(_gather_op(mode, k), (input,), (maps, tuple(input.shape)))
