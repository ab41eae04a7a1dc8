"""The one kernel behind batch, layer, group and instance normalisation.

Each of them reshapes the input into a *statistics view* `view`, takes the mean and the
biased variance over `axes` of it, and applies an affine map whose weight and bias
broadcast against the view as `param_view`. A `NormPlan` records those shapes and the
statistics of one call; one Op per PyTorch name (NativeBatchNormBackward0, ...) runs the
shared forward and gradient rules.

The gradient rules are written once in array operations: plain backward calls them with
NumPy arrays and the statistics saved by the forward; under create_graph they receive
tensors and recompute the statistics from the input with chainrule ops, so the closed-form
gradient is itself differentiable (second order by construction).

float16 is computed in float32 and rounded once, as PyTorch's CPU kernels do; statistics
of float16 accumulate in float32, those of float32 and float64 in float64."""
import numpy as np

from ..autograd.function import Op
from ..ops.core import _widen

_F16 = np.dtype(np.float16)


def compute_dtype(dtype):
    return np.dtype(np.float32) if dtype == _F16 else np.dtype(dtype)


def accumulator(dtype):
    return np.float32 if dtype == _F16 else np.float64


class NormPlan:
    """Shapes of one normalisation call and, once computed, its statistics (mean and
    1/sqrt(var + eps) in the view's keepdims shape, in the compute dtype)."""
    __slots__ = ("view", "axes", "param_view", "param_axes", "count", "eps",
                 "batch_stats", "fused", "mean", "invstd")

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
        self.mean = self.invstd = None


def batch_moments(xv, axes, count, acc):
    """Mean (in `xv`'s dtype, the compute dtype) and biased variance (in `acc`) of the
    view `xv` over `axes`, keepdims. The variance is taken around the rounded mean, as
    PyTorch's kernel does."""
    with np.errstate(all="ignore"):  # an empty batch: NaN, unused; inf inputs: inf, NaN
        total = np.add.reduce(xv, axis=axes, keepdims=True, dtype=acc)
        mean = (total / count).astype(xv.dtype, copy=False)
        centred = xv - mean
        var = np.add.reduce(centred * centred, axis=axes, keepdims=True, dtype=acc) / count
    return mean, var


def inverse_std(var, eps, dtype):
    with np.errstate(all="ignore"):
        return (1.0 / np.sqrt(var + eps)).astype(dtype, copy=False)


def _quiet(fn):
    """inf and NaN inputs give inf and NaN results, as in PyTorch, without NumPy warnings."""
    def wrapped(*args):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return fn(*args)
    wrapped.__name__ = fn.__name__
    return wrapped


def _param(p, plan):
    return p.reshape(plan.param_view)


def _norm_forward(x, weight, bias, plan):
    xv = _widen(x).reshape(plan.view)
    mean, invstd = plan.mean, plan.invstd
    if plan.fused:  # two passes over x: one multiply, one add
        alpha = invstd if weight is None else invstd * _param(weight, plan)
        beta = -(mean * alpha)
        if bias is not None:
            beta = beta + _param(bias, plan)
        out = xv * alpha.astype(xv.dtype, copy=False)
        out += beta.astype(xv.dtype, copy=False)
    else:
        out = xv - mean
        out *= invstd
        if weight is not None:
            out *= _param(weight, plan)
        if bias is not None:
            out += _param(bias, plan)
    return out.reshape(x.shape).astype(x.dtype, copy=False)


def _normalized(xv, plan):
    """(x - mean) * invstd and invstd for a rule: the forward's saved statistics on
    arrays; under create_graph, batch statistics recomputed from the tensor `xv`, so the
    gradient's own gradient sees how they depend on the input."""
    if plan.batch_stats and not isinstance(xv, np.ndarray):
        mean = xv.mean(axis=plan.axes, keepdims=True)
        centred = xv - mean
        var = (centred * centred).mean(axis=plan.axes, keepdims=True)
        invstd = 1.0 / np.sqrt(var + plan.eps)
        return centred * invstd, invstd
    return (xv - plan.mean) * plan.invstd, plan.invstd


def _scaled_grad(g, weight, plan):
    gv = _widen(g).reshape(plan.view)
    return gv if weight is None else gv * _param(_widen(weight), plan)


def _grad_input(g, out, x, weight, bias, plan):
    gv = _scaled_grad(g, weight, plan)
    if not plan.batch_stats:  # fixed statistics: an affine map of x
        return (gv * plan.invstd).reshape(x.shape)
    xhat, invstd = _normalized(_widen(x).reshape(plan.view), plan)
    # d/dx of (x - mean) * invstd, applied to gv: the mean of gv and the part of gv
    # along xhat come off, since shifting or scaling x leaves xhat unchanged
    n = max(plan.count, 1)  # an empty batch: sums of nothing, an empty gradient
    mean_g = gv.sum(axis=plan.axes, keepdims=True) * (1.0 / n)
    mean_gx = (gv * xhat).sum(axis=plan.axes, keepdims=True) * (1.0 / n)
    return ((gv - mean_g - xhat * mean_gx) * invstd).reshape(x.shape)


def _grad_weight(g, out, x, weight, bias, plan):
    xhat, _ = _normalized(_widen(x).reshape(plan.view), plan)
    gv = _widen(g).reshape(plan.view)
    return (gv * xhat).sum(axis=plan.param_axes, keepdims=True).reshape(weight.shape)


def _grad_bias(g, out, x, weight, bias, plan):
    gv = _widen(g).reshape(plan.view)
    return gv.sum(axis=plan.param_axes, keepdims=True).reshape(bias.shape)


def _op(name):
    return Op(name, *map(_quiet, (_norm_forward, _grad_input, _grad_weight, _grad_bias)))


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
