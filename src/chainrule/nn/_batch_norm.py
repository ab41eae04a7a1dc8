"""F.batch_norm and F.instance_norm: per-channel normalisation with batch statistics
(training) or running statistics (evaluation). In training, the running statistics are
updated in place: the mean with the batch mean, the variance with the *unbiased* batch
variance, while the output is normalised with the biased one, as PyTorch does."""
import math

import numpy as np

from ..tensors.tensor import Tensor
from ..ops.core import apply
from ._norm_kernels import (BATCH_NORM, NormPlan, compute_dtype, stats_dtype,
                            use_batch_statistics, use_fixed_statistics)


def check_float_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for {input.dtype} tensors: '
                                  "expected a floating-point input")


def check_param_dtypes(name, input, named):
    """Weight, bias and running statistics share one dtype: the input's, or float32 for
    a float16 input (PyTorch's mixed-precision CPU kernel)."""
    given = [(k, t) for k, t in named if t is not None]
    for k, t in given:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{k}' must be Tensor or None, not "
                            f"{type(t).__name__}")
    kinds = {t._data.dtype for _, t in given}
    x = input._data.dtype
    if kinds and not (kinds == {x} or (x == np.float16 and kinds == {np.dtype(np.float32)})):
        found = ", ".join(f"{k} {t.dtype}" for k, t in given)
        also = " (or all float32)" if x == np.float16 else ""
        raise RuntimeError(f"{name}: expected {', '.join(k for k, _ in given)} of the "
                           f"input's dtype {input.dtype}{also}, got {found}")


def verify_batch_size(name, input):
    """Training statistics of one value per channel are undefined (variance 0/0)."""
    shape = input.shape
    if len(shape) < 2:
        raise IndexError(f"{name}: expected an input of shape (N, C, ...) with at least 2 "
                         f"dimensions, got shape {tuple(shape)}")
    if shape[0] * math.prod(shape[2:]) == 1:
        raise ValueError("Expected more than 1 value per channel when training, got "
                         f"input size {shape!r}")


def _check_channels(name, input, named):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: expected an input of shape (N, C, ...) with at least "
                           f"2 dimensions, got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for k, t in named:
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{k} should contain {channels} elements not {t.numel()} "
                               f"({name}: {k} of shape {tuple(t.shape)}, one value per "
                               f"channel of the input of shape {tuple(input.shape)})")


def update_running(running, stat, momentum):
    """running <- (1 - momentum) * running + momentum * stat in float32 (float64 for
    float64 buffers), written into the buffer's memory (as PyTorch's kernel, without a
    version bump). `momentum` is a float or a 0-d float64 array (the cumulative
    average's 1 / num_batches_tracked)."""
    arr = running._data
    ct = compute_dtype(arr.dtype)
    m = momentum.astype(ct) if isinstance(momentum, np.ndarray) else ct.type(momentum)
    new = arr.astype(ct) * (1 - m)
    new += stat.reshape(arr.shape).astype(ct, copy=False) * m
    with np.errstate(over="ignore"):
        np.copyto(arr, new, casting="unsafe")


def _plan(input, axes, eps):
    n, c = input.shape[0], input.shape[1]
    view = (n, c, math.prod(input.shape[2:]))
    return NormPlan(view, axes, (1, c, 1), eps)


def _normalise(name, plan, input, running_mean, running_var, weight, bias, use_input_stats,
               momentum):
    if use_input_stats:
        rounding = stats_dtype(input, weight, bias, running_mean, running_var)
        mean, var = use_batch_statistics(plan, input._data, rounding)
        if running_mean is not None or running_var is not None:
            _update(plan.count, mean, var, running_mean, running_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"running_mean must be defined in evaluation mode ({name} "
                               "without batch statistics needs running_mean and running_var)")
        shape = (1, plan.view[1], 1)
        use_fixed_statistics(plan, running_mean._data.reshape(shape),
                             running_var._data.reshape(shape), input._data.dtype)
    return apply(BATCH_NORM, (input, weight, bias), (plan,))


def _update(n, mean, var, running_mean, running_var, momentum):
    if n == 0:  # an empty batch leaves the running statistics as they are
        return
    unbiased = var * (n / (n - 1))
    if mean.shape[0] != 1:  # instance norm: the batch average of each sample's statistics
        mean, unbiased = mean.mean(axis=0), unbiased.mean(axis=0)
    if running_mean is not None:
        update_running(running_mean, mean, momentum)
    if running_var is not None:
        update_running(running_var, unbiased, momentum)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims; see the module
    docstring for the running statistics."""
    check_float_input(input, "batch_norm")
    if training:
        verify_batch_size("batch_norm", input)
    named = (("running_mean", running_mean), ("running_var", running_var),
             ("weight", weight), ("bias", bias))
    check_param_dtypes("batch_norm", input, named)
    _check_channels("batch_norm", input, named)
    plan = _plan(input, (0, 2), eps)
    return _normalise("batch_norm", plan, input, running_mean, running_var, weight, bias,
                      bool(training), momentum)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims; running statistics
    (if given) follow the batch average of the per-sample statistics."""
    check_float_input(input, "instance_norm")
    if input.ndim < 2:
        raise RuntimeError(f"instance_norm: expected an input of shape (N, C, ...), got "
                           f"shape {tuple(input.shape)}")
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input "
                         f"size {input.shape!r}")
    named = (("running_mean", running_mean), ("running_var", running_var),
             ("weight", weight), ("bias", bias))
    check_param_dtypes("instance_norm", input, named)
    _check_channels("instance_norm", input, named)
    plan = _plan(input, (2,), eps)
    out = _normalise("instance_norm", plan, input, running_mean, running_var, weight, bias,
                     bool(use_input_stats), momentum)
    return out.view(input.shape)  # PyTorch's result is a view (its grad_fn ViewBackward0)
