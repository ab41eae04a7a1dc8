"""The one kernel behind batch, layer, group and instance normalisation.

Each of them reshapes the input into a *statistics view* `view`, takes the mean and the
biased variance over `axes` of it, and applies an affine map whose weight and bias
broadcast against the view as `param_view`. A `NormPlan` records those shapes and the
statistics of one call; one Op per PyTorch name (NativeBatchNormBackward0, ...) runs the
shared forward and gradient rules.

The gradient rules (_norm_grads.py) are written once in array operations: plain backward
calls them with NumPy arrays and the statistics saved by the forward; under create_graph
they receive tensors and recompute the statistics from the input with chainrule ops, so
the closed-form gradient is itself differentiable (second order by construction).

float16 is computed in float32 and rounded once, as PyTorch's CPU kernels do; statistics
of float16 accumulate in float32, those of float32 and float64 in float64."""
import numpy as np

from ..autograd.function import Op
from ..ops.core import _widen, quiet as _quiet
from ._norm_grads import grad_bias, grad_input, grad_weight, param

_F16 = np.dtype(np.float16)


def compute_dtype(dtype):
    return np.dtype(np.float32) if dtype == _F16 else np.dtype(dtype)


def accumulator(dtype):
    return np.float32 if dtype == _F16 else np.float64


class NormPlan:
    """Shapes of one normalisation call and, once computed, its statistics (mean and
    1/sqrt(var + eps) in the view's keepdims shape, in the compute dtype)."""
    __slots__ = ("view", "axes", "param_view", "param_axes", "count", "eps",
                 "batch_stats", "fused", "mean", "invstd", "saved_sums")

    def __init__(self, view, axes, param_view, eps, batch_stats=True, fused=True):
        self.view, self.axes, self.param_view = tuple(view), tuple(axes), tuple(param_view)
        # the axes a weight gradient sums over: those the weight is broadcast along
        self.param_axes = tuple(i for i, n in enumerate(self.param_view) if n == 1)
        self.count = int(np.prod([self.view[i] for i in self.axes], dtype=np.int64))
        self.eps = float(eps)
        self.batch_stats = batch_stats
        # fused: out = x * alpha + beta with per-(sample, channel) alpha and beta (batch and
        # group norm, as PyTorch's kernels); layer norm's weight varies along the
        # normalised axes, so it applies (x - mean) * invstd, then weight and bias
        self.fused = fused
        self.mean = self.invstd = self.saved_sums = None


def batch_moments(xv, axes, count, acc):
    """Mean (in `xv`'s dtype, the compute dtype) and biased variance (in `acc`) of the
    view `xv` over `axes`, keepdims. The variance is taken around the rounded mean, as
    PyTorch's kernel does."""
    with np.errstate(all="ignore"):  # an empty batch: NaN, unused; inf inputs: inf, NaN
        total = np.add.reduce(xv, axis=axes, keepdims=True, dtype=acc)
        mean = (total / count).astype(xv.dtype, copy=False)
        centred = xv - mean
        np.square(centred, out=centred)  # in place: a fresh large array costs page faults
        var = np.add.reduce(centred, axis=axes, keepdims=True, dtype=acc) / count
    return mean, var


def inverse_std(var, eps, dtype):
    with np.errstate(all="ignore"):
        return (1.0 / np.sqrt(var + eps)).astype(dtype, copy=False)


def _norm_forward(x, weight, bias, plan):
    xv = _widen(x).reshape(plan.view)
    mean, invstd = plan.mean, plan.invstd
    if plan.fused:  # two passes over x: one multiply, one add
        alpha = invstd if weight is None else invstd * param(weight, plan)
        beta = -(mean * alpha)
        if bias is not None:
            beta = beta + param(bias, plan)
        out = xv * alpha.astype(xv.dtype, copy=False)
        out += beta.astype(xv.dtype, copy=False)
    else:
        out = xv - mean
        out *= invstd
        if weight is not None:
            out *= param(weight, plan)
        if bias is not None:
            out += param(bias, plan)
    return out.reshape(x.shape).astype(x.dtype, copy=False)


def _op(name):
    return Op(name, *map(_quiet, (_norm_forward, grad_input, grad_weight, grad_bias)))


BATCH_NORM = _op("NativeBatchNormBackward0")
LAYER_NORM = _op("NativeLayerNormBackward0")
GROUP_NORM = _op("NativeGroupNormBackward0")


def use_batch_statistics(plan, x, stats_dtype=None):
    """Give `plan` the statistics of the input array `x` itself; returns the unrounded
    mean and the biased variance (accumulator dtype) for a running-statistics update.
    `stats_dtype` float16: the statistics normalised with are rounded to float16 first,
    as PyTorch stores them for float16 parameters."""
    xv = _widen(x).reshape(plan.view)
    mean, var = batch_moments(xv, plan.axes, plan.count, accumulator(x.dtype))
    plan.mean, plan.invstd = mean, inverse_std(var, plan.eps, xv.dtype)
    if stats_dtype is not None:
        round_statistics(plan, stats_dtype)
    return mean, var


def round_statistics(plan, dtype):
    """Round the statistics a plan holds to `dtype` (kept in the compute dtype). Batch
    norm does it before its forward; layer and group norm after theirs: PyTorch's
    kernels normalise with float32 statistics there and save float16 ones for backward."""
    ct = plan.mean.dtype
    plan.mean = plan.mean.astype(dtype).astype(ct)
    plan.invstd = plan.invstd.astype(dtype).astype(ct)


def stats_dtype(input, *params):
    """float16 when a float16 input comes with float16 parameters (or none): PyTorch then
    keeps the saved statistics in float16; with float32 parameters, in float32."""
    if input._data.dtype != _F16:
        return None
    if any(p is not None and p._data.dtype != _F16 for p in params):
        return None
    return _F16


def use_fixed_statistics(plan, mean, var, dtype):
    """Give `plan` given statistics (running mean and variance, in the view's keepdims
    shape): 1/sqrt(var + eps) in the compute dtype, as PyTorch's evaluation kernel."""
    ct = compute_dtype(dtype)
    plan.batch_stats = False
    plan.mean = mean.astype(ct, copy=False)
    plan.invstd = inverse_std(var.astype(ct, copy=False), plan.eps, ct)  # eps: weak scalar
