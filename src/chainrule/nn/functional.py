"""chainrule.nn.functional: activations, dropout, linear, one_hot, and the losses (defined
in `_losses`). New differentiable ops are an `Op` (forward + gradient rules) each."""
import math

import numpy as np

from .. import random as _random
from ..autograd import grad_mode
from ..autograd.function import Op
from ..ops.core import apply1, check_float, float16_in_float32
from ..ops.elementwise import erf_any, relu as _relu, sigmoid, tanh
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ..ops.conv_volumes import conv3d, conv_transpose3d
from ..ops.fold import fold, unfold
from ..ops.padding import pad
from ..ops.linalg import linear
from ..ops.softmax import log_softmax, softmax
from ..tensors.tensor import Tensor
from ._batch_norm import batch_norm, instance_norm
from ._group_norm import group_norm
from ._layer_norm import layer_norm
from ._local_response_norm import local_response_norm
from ._elementwise_losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                  huber_loss, l1_loss, mse_loss)
from ._losses import cross_entropy, nll_loss
from ._normalize import normalize
from ._smooth_l1 import smooth_l1_loss

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "gelu",
           "dropout", "linear", "one_hot", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "smooth_l1_loss", "normalize", "logsigmoid", "softplus"]
__all__ += ["batch_norm", "instance_norm", "layer_norm", "group_norm", "local_response_norm"]
__all__ += ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "pad"]
__all__ += ["conv3d", "conv_transpose3d"]


def relu(x, inplace=False):
    return x.relu_() if inplace else _relu(x)


# leaky_relu: where x > 0 pass g, else g * slope (no float64 array of slopes is built)
LEAKY_RELU = Op("LeakyReluBackward0",
                lambda x, s: np.where(x > 0, x, x * s),
                lambda g, o, x, s: np.where(x > 0, g, g * s))


def leaky_relu(x, negative_slope=0.01, inplace=False):
    check_float(x, "leaky_relu")
    if inplace:
        return x._inplace(lambda old: apply1(LEAKY_RELU, old, float(negative_slope)),
                          opname="leaky_relu_")
    return apply1(LEAKY_RELU, x, float(negative_slope))


@float16_in_float32
def _logsigmoid_grad(g, x, z):
    """g * sigmoid(-x) from z = exp(-|x|), which never overflows: exact on both tails."""
    return g * np.where(x < 0, 1 / (1 + z), z / (1 + z))


# logsigmoid: min(x, 0) - log1p(exp(-|x|)); finite where log(sigmoid(x)) would give -inf.
# Here and below, float16 is computed in float32 and rounded once, as PyTorch's kernels do
LOGSIGMOID = Op("LogSigmoidBackward0",
                float16_in_float32(lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))),
                # z kept in x's dtype, as PyTorch's buffer is: float16 exp(-30) is 0, so an
                # inf incoming gradient gives NaN there, as in PyTorch
                lambda g, o, x: _logsigmoid_grad(g, x, np.exp(-np.abs(x))))


def logsigmoid(x):
    check_float(x, "logsigmoid")
    return apply1(LOGSIGMOID, x)


def _softplus(x, beta, threshold):
    bx = x * beta  # above the threshold softplus is x itself (exp would overflow)
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _softplus_grad(g, o, x, beta, threshold):
    z = np.exp(np.minimum(x * beta, threshold))
    return np.where(x * beta > threshold, g, g * (z / (z + 1)))


SOFTPLUS = Op("SoftplusBackward0", float16_in_float32(_softplus),
              float16_in_float32(_softplus_grad))


def softplus(x, beta=1.0, threshold=20.0):
    check_float(x, "softplus")
    return apply1(SOFTPLUS, x, float(beta), float(threshold))


# gelu: exact form x·Φ(x); erf_any takes arrays (forward) and tensors (create_graph)
_erf = erf_any
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x)))
    return (0.5 * x * (1.0 + _erf(x * (1 / math.sqrt(2.0))))).astype(x.dtype, copy=False)


def _gelu_grad(g, o, x, approximate):
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1.0 + _erf(x * (1 / math.sqrt(2.0))))
    pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf).astype(x.dtype, copy=False)


GELU = Op("GeluBackward0", float16_in_float32(_gelu), float16_in_float32(_gelu_grad))


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    check_float(x, "gelu")
    return apply1(GELU, x, approximate)


# dropout: multiply by a saved mask of 0 and 1/(1-p); backward multiplies g by the same mask
DROPOUT = Op("MulBackward0", lambda x, mask: x * mask,
             lambda g, o, x, mask: g * mask, saves_inputs=False)


def _check_p(p, name="dropout"):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{name} probability has to be between 0 and 1, but got {p!r}")


def dropout(x, p=0.5, training=True, inplace=False, generator=None):
    _check_p(p)
    if not training or p == 0:
        return x
    check_float(x, "dropout")
    arr = x._data
    if p == 1:
        mask = np.zeros(arr.shape, dtype=arr.dtype)
    else:
        keep = _random._rng(generator).random(arr.shape, dtype=np.float32 if arr.dtype == np.float32 else np.float64) >= p
        mask = keep.astype(arr.dtype)
        mask *= arr.dtype.type(1.0 / (1.0 - p))
    if inplace:
        return x._inplace(lambda old: apply1(DROPOUT, old, mask), opname="dropout_")
    return apply1(DROPOUT, x, mask)


def one_hot(tensor, num_classes=-1):
    arr = tensor._data
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors (int64), got {tensor.dtype}")
    if arr.size and arr.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(arr.min())}")
    if num_classes == -1:
        num_classes = int(arr.max()) + 1 if arr.size else 0
    elif arr.size and arr.max() >= num_classes:
        raise RuntimeError(f"one_hot: class value {int(arr.max())} is out of range for "
                           f"num_classes={num_classes}")
    out = np.zeros(arr.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, arr[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._wrap(out)


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)


def __getattr__(name):
    # the rest of torch.nn.functional (conv2d, ...) is named as not supported
    from ..compat.unsupported import missing
    raise missing("torch.nn.functional", name)


# pooling, kept in a module of its own
from . import _pooling  # noqa: E402
from ._pooling import *  # noqa: E402,F401,F403
__all__ += _pooling.__all__
from . import _pool_volumes  # noqa: E402
from ._pool_volumes import *  # noqa: E402,F401,F403
__all__ += _pool_volumes.__all__
from . import _max_unpool  # noqa: E402
from ._max_unpool import *  # noqa: E402,F401,F403
__all__ += _max_unpool.__all__

# more activations, in modules of their own
from . import _piecewise_activations, _smooth_activations  # noqa: E402
from ._piecewise_activations import *  # noqa: E402,F401,F403
from ._smooth_activations import *  # noqa: E402,F401,F403
__all__ += _smooth_activations.__all__ + _piecewise_activations.__all__

# resampling and channel-wise dropout
from . import _channel_dropout, _resampling  # noqa: E402
from ._channel_dropout import *  # noqa: E402,F401,F403
from ._resampling import *  # noqa: E402,F401,F403
__all__ += _resampling.__all__ + _channel_dropout.__all__

# attention
from . import _attention  # noqa: E402
from ._attention import *  # noqa: E402,F401,F403
__all__ += _attention.__all__
