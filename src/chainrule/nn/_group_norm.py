"""F.group_norm: split the channels of each sample into `num_groups` groups and normalise
each group over its channels and spatial dims; weight and bias are per channel."""
import math
import numbers

from ..ops.core import apply
from ._batch_norm import check_float_input, check_param_dtypes
from ._layer_norm import shape_list
from ._norm_kernels import (GROUP_NORM, NormPlan, round_statistics, stats_dtype,
                            use_batch_statistics)


def _check_groups(input, num_groups):
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
        raise TypeError("group_norm(): argument 'num_groups' (position 2) must be int, not "
                        f"{type(num_groups).__name__}")
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if num_groups == 0:  # PyTorch divides by it first
        raise ZeroDivisionError(f"group_norm: num_groups must be positive, got 0 (input of "
                                f"shape {shape_list(input.shape)})")
    per_group = [n * c // num_groups, num_groups, *input.shape[2:]]
    # as for batch norm, dim 1 (here the groups) does not count
    if num_groups > 0 and per_group[0] * math.prod(per_group[2:]) == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input "
                         f"size {shape_list(per_group)}")
    if num_groups < 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {shape_list(input.shape)} "
                           f"and num_groups={num_groups}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    check_float_input(input, "group_norm")
    _check_groups(input, num_groups)
    check_param_dtypes("group_norm", input, (("weight", weight), ("bias", bias)))
    n, c = input.shape[0], input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape "
                               f"{shape_list(t.shape)} and input of shape "
                               f"{shape_list(input.shape)}")
    g = int(num_groups)
    view = (n, g, c // g, math.prod(input.shape[2:]))
    plan = NormPlan(view, (2, 3), (1, g, c // g, 1), eps)
    use_batch_statistics(plan, input._data)
    out = apply(GROUP_NORM, (input, weight, bias), (plan,))
    rounding = stats_dtype(input, weight, bias)
    if rounding is not None:  # what backward reads (see round_statistics)
        round_statistics(plan, rounding)
    return out
