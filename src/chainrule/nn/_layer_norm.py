"""F.layer_norm: normalise each sample over its trailing `normalized_shape` dims, with an
elementwise weight and bias of that shape."""
import math
import numbers

from ..ops.core import apply
from ._batch_norm import check_float_input, check_param_dtypes
from ._norm_kernels import (LAYER_NORM, NormPlan, round_statistics, stats_dtype,
                            use_batch_statistics)


def shape_list(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _normalized_shape(value):
    ok = isinstance(value, (tuple, list)) or type(value).__name__ == "Size"
    if not ok or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                         for n in value):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be "
                        f"tuple of ints, not {type(value).__name__}")
    shape = tuple(int(n) for n in value)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    return shape


def _check_shapes(input, shape, weight, bias):
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, "
                               f"but got {name} of shape {shape_list(t.shape)} and "
                               f"normalized_shape = {shape_list(shape)}")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"Given normalized_shape={shape_list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input "
                           f"of size{shape_list(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    check_float_input(input, "layer_norm")
    shape = _normalized_shape(normalized_shape)
    check_param_dtypes("layer_norm", input, (("weight", weight), ("bias", bias)))
    _check_shapes(input, shape, weight, bias)
    inner = math.prod(shape)
    rows = math.prod(input.shape[:input.ndim - len(shape)])
    plan = NormPlan((rows, inner), (1,), (1, inner), eps, fused=False)
    use_batch_statistics(plan, input._data)
    out = apply(LAYER_NORM, (input, weight, bias), (plan,))
    rounding = stats_dtype(input, weight, bias)
    if rounding is not None:  # what backward reads (see round_statistics)
        round_statistics(plan, rounding)
    return out
