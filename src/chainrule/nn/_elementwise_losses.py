"""The losses computed element by element and then reduced: mean squared and absolute
error, Huber, and binary cross-entropy (on probabilities and on logits)."""
import warnings

import numpy as np

from ..autograd.function import Op
from ..ops.core import apply, check_float
from ..tensors.tensor import Tensor
from ._losses import _check_reduction, _reduce


# ---- elementwise regression losses ------------------------------------------------------
def _pair(input, target, name):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: expected input and target tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise RuntimeError(f"{name}: input of shape {tuple(input.shape)} and target of "
                               f"shape {tuple(target.shape)} cannot be broadcast together; "
                               "they should have the same shape") from None
        warnings.warn(f"{name}: using a target size {tuple(target.shape)} that is different "
                      f"to the input size {tuple(input.shape)}. This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _check_reduction(reduction)
    _pair(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _check_reduction(reduction)
    _pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def _huber(a, b, delta):
    d = a - b
    ad = np.abs(d)
    return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))


HUBER = Op("HuberLossBackward0", _huber,
           lambda g, o, a, b, delta: g * np.clip(a - b, -delta, delta),
           lambda g, o, a, b, delta: -(g * np.clip(a - b, -delta, delta)))


def huber_loss(input, target, reduction="mean", delta=1.0):
    _check_reduction(reduction)
    _pair(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    return _reduce(apply(HUBER, (input, target), (float(delta),)), reduction)


# ---- binary cross-entropy -----------------------------------------------------------------
def _softplus_neg(x):  # log(1 + exp(-x)), stable
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)


def _bce_logits(x, y, pw):
    sp = _softplus_neg(x)
    if pw is None:
        return (1 - y) * x + sp
    return (1 - y) * x + (1 + (pw - 1) * y) * sp


def _bce_logits_gx(g, o, x, y, pw):
    e = np.exp(-np.abs(x))
    sig_neg = np.where(x >= 0, e / (1 + e), 1 / (1 + e))  # sigmoid(-x)
    if pw is None:
        return g * ((1 - y) - sig_neg)
    return g * ((1 - y) - (1 + (pw - 1) * y) * sig_neg)


def _bce_logits_gy(g, o, x, y, pw):
    if pw is None:
        return -(g * x)
    return g * (-x + (pw - 1) * _softplus_neg(x))


BCE_LOGITS = Op("BinaryCrossEntropyWithLogitsBackward0", _bce_logits, _bce_logits_gx,
                _bce_logits_gy)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    _check_reduction(reduction)
    check_float(input, "binary_cross_entropy_with_logits")
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: Target size "
                         f"{tuple(target.shape)} must be the same as input size "
                         f"{tuple(input.shape)}")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    pw = None if pos_weight is None else pos_weight._data.astype(input._data.dtype, copy=False)
    loss = apply(BCE_LOGITS, (input, target), (pw,))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _bce(p, y):
    with np.errstate(divide="ignore"):
        lp = np.maximum(np.log(p), -100)
        l1p = np.maximum(np.log1p(-p), -100)   # PyTorch clamps the logs at -100
    return -(y * lp + (1 - y) * l1p)


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's EPSILON is a float constant, also in float64


def _bce_gp(g, o, p, y):
    return g * (p - y) / np.maximum((1 - p) * p, _BCE_EPS)


def _bce_gy(g, o, p, y):
    with np.errstate(divide="ignore"):
        return g * (np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100))


BCE = Op("BinaryCrossEntropyBackward0", _bce, _bce_gp, _bce_gy)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    _check_reduction(reduction)
    check_float(input, "binary_cross_entropy")
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: Using a target size {tuple(target.shape)} "
                         f"that is different to the input size {tuple(input.shape)} is not "
                         "supported; please ensure they have the same size.")
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1 (probabilities; for logits use binary_cross_entropy_with_logits)")
    t = target._data
    if t.size and (t.min() < 0 or t.max() > 1):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                           "and 1")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    loss = apply(BCE, (input, target))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
