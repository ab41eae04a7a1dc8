"""softmax, log_softmax and logsumexp along a dimension, computed stably (the maximum is
subtracted first, so huge logits do not overflow)."""
import numpy as np

from ..autograd.function import Op
from .accumulate import accumulator, reduction_input
from .core import apply1, float16_in_float32
from .reduction import _contiguous, numpy_names


# forwards get arrays: ndarray methods skip NumPy's function dispatch
def _softmax(x, d):
    e = np.exp(x - x.max(axis=d, keepdims=True))
    e /= e.sum(axis=d, keepdims=True)
    return e


def _log_softmax(x, d):
    shifted = x - x.max(axis=d, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=d, keepdims=True))


def _logsumexp(x, d, keep):
    # op by op in x's dtype, as PyTorch's: float16 rounds after each step, but its sum
    # accumulates in float32
    m = np.max(x, axis=d, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    total = np.add.reduce(np.exp(x - m), axis=d, keepdims=True,
                          dtype=accumulator("logsumexp", x.dtype))
    out = np.log(total.astype(x.dtype, copy=False)) + m
    return out if keep else np.squeeze(out, axis=d)


# float16 softmax is computed in float32 and rounded once, as PyTorch's kernels do; results
# are C-contiguous as PyTorch allocates them (a permuted input's softmax views like PyTorch's)
def _kernel(fn):
    return float16_in_float32(_contiguous(fn))


SOFTMAX = Op("SoftmaxBackward0", _kernel(_softmax),
             float16_in_float32(lambda g, o, x, d: o * (g - np.sum(g * o, axis=d, keepdims=True))),
             saves_inputs=False, uses_out=True)
LOG_SOFTMAX = Op("LogSoftmaxBackward0", _kernel(_log_softmax),
                 float16_in_float32(
                     lambda g, o, x, d: g - np.exp(o) * np.sum(g, axis=d, keepdims=True)),
                 saves_inputs=False, uses_out=True)
# PyTorch's formula g * exp(x - result), op by op (float16 exp(-32) is 0 there)
LOGSUMEXP = Op("LogsumexpBackward0", _contiguous(_logsumexp),
               lambda g, o, x, d, keep: (g if keep else np.expand_dims(g, d)) * np.exp(
                   x - (o if keep else np.expand_dims(o, d))), uses_out=True)


def _dim(x, dim, name):
    if dim is None:
        if x._data.ndim > 1:
            import warnings
            warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change "
                          "the call to include dim=X as an argument.", stacklevel=3)
        return 0 if x._data.ndim <= 1 else (0 if x._data.ndim in (0, 1, 3) else 1)
    return x._dim(dim)


@numpy_names
def softmax(x, dim=None, dtype=None):
    x = reduction_input(x, "softmax", dtype)
    return apply1(SOFTMAX, x, _dim(x, dim, "softmax"))


@numpy_names
def log_softmax(x, dim=None, dtype=None):
    x = reduction_input(x, "log_softmax", dtype)
    return apply1(LOG_SOFTMAX, x, _dim(x, dim, "log_softmax"))


@numpy_names
def logsumexp(x, dim, keepdim=False):
    x = reduction_input(x, "logsumexp")
    d = x._dim(dim)
    if not x._data.ndim:
        return apply1(LOGSUMEXP, x.reshape(1), 0, False)
    return apply1(LOGSUMEXP, x, d, keepdim)
