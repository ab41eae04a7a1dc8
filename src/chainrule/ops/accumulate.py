"""What a reduction or scan computes in, decided here for all of them: the dtype of its
result (PyTorch's rules for `dtype=` and for integer and bool inputs) and the wider type
its float16 and float32 running values are kept in (PyTorch's CPU accumulators)."""
from collections import namedtuple

import numpy as np

from ..tensors import dtypes
from ..autograd import grad_mode
from ..tensors.type_info import SCALAR_NAMES

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)

# ints: what integer and bool inputs do ("int64": become int64; "float": the default float
#       dtype; "error": RuntimeError; "kernel": NotImplementedError, no kernel for them)
# dtype: what `dtype=` may name ("any"; "no_bool": no bool kernel, the scans; "float";
#        "widen": a floating type the input converts to without narrowing; None: the op
#        takes no dtype=)
# checks_input: the input must be floating even when dtype= names a floating type
# wide: the accumulator for float16/float32 inputs; a dtype absent keeps its own (prod of
#       float16 rounds each partial product, as PyTorch's does; a float32 prod runs in
#       float64 so that a long one's partial products cannot overflow on the way to a
#       finite answer, where PyTorch's vector lanes mostly avoid it too)
Rule = namedtuple("Rule", "ints dtype checks_input wide")
_HALF_WIDE = {F16: F32}
_CPU_WIDE = {F16: F32, F32: F64}  # at::acc_type on the CPU: the scans' running values
_DOUBLE = {F16: F64, F32: F64}
RULES = {
    "sum": Rule("int64", "any", False, _HALF_WIDE),
    "nansum": Rule("int64", "any", False, _HALF_WIDE),
    "prod": Rule("int64", "any", False, {F32: F64}),
    "cumsum": Rule("int64", "no_bool", False, _CPU_WIDE),
    "cumprod": Rule("int64", "no_bool", False, _CPU_WIDE),
    "mean": Rule("error", "float", False, _HALF_WIDE),
    "nanmean": Rule("error", "float", True, _HALF_WIDE),
    "var": Rule("error", None, False, _DOUBLE),
    "std": Rule("error", None, False, _DOUBLE),
    "norm": Rule("error", "widen", True, _HALF_WIDE),
    "logsumexp": Rule("float", None, False, _HALF_WIDE),
    "logcumsumexp": Rule("kernel", None, False, _CPU_WIDE),
    "softmax": Rule("kernel", "float", False, _HALF_WIDE),
    "log_softmax": Rule("kernel", "float", False, _HALF_WIDE),
}


def accumulator(op, dtype):
    """The NumPy dtype `op` keeps running values of `dtype` in."""
    dtype = np.dtype(dtype)
    return RULES[op].wide.get(dtype, dtype)


def _name(np_dtype):
    return SCALAR_NAMES[np.dtype(np_dtype).name]


def _refuse(op, np_dtype, optional=False):
    rule = RULES[op]
    if rule.ints == "kernel":  # PyTorch's kernel lookup fails: no kernel for the dtype
        raise NotImplementedError(f'"{op}" not implemented for \'{_name(np_dtype)}\'')
    if op in ("var", "std"):
        raise RuntimeError(f"{op}: expected a floating-point tensor, got "
                           f"{dtypes.from_numpy_dtype(np_dtype)} (std and var only support "
                           "floating point and complex dtypes in PyTorch too); convert with "
                           ".float()")
    if op == "norm":
        what = "dtype should be" if optional else "Expected a"
        raise RuntimeError(f"linalg.vector_norm: {what} floating point or complex"
                           f"{'' if optional else ' tensor as input'}. Got {_name(np_dtype)}")
    if op == "nanmean" and not optional:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {_name(np_dtype)}")
    which = "Optional dtype" if optional else "Input dtype"
    raise RuntimeError(f"{op}(): could not infer output dtype. {which} must be either a "
                       f"floating point or complex dtype. Got: {_name(np_dtype)}")


def _check_dtype_argument(op, given, target, ndim):
    rule = RULES[op].dtype
    if rule == "no_bool" and target == np.bool_ and ndim:  # a 0-d scan is a copy there
        raise NotImplementedError(f'"{op}_out_cpu" not implemented for \'Bool\'')
    if rule in ("float", "widen") and target.kind != "f":
        _refuse(op, target, optional=True)
    if rule == "widen" and given.kind == "f" and target.itemsize < given.itemsize:
        raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_name(given)}) "
                           "should be convertible without narrowing to the specified dtype "
                           f"({_name(target)})")


def reduction_input(x, op, dtype=None):
    """`x` as `op` computes on it. `dtype=` casts the input first (as PyTorch does: a sum
    of 1.7 and 1.7 with dtype=int64 is 2); integer and bool inputs follow the op's rule."""
    rule, kind = RULES[op], x._data.dtype.kind
    if rule.checks_input and kind != "f":
        _refuse(op, x._data.dtype)
    if dtype is not None:
        target = dtypes.to_numpy_dtype(dtype)
        _check_dtype_argument(op, x._data.dtype, target, x._data.ndim)
        if target.kind != "f" and x.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(f"Autograd not support dtype: {_name(target)}")
        return x if target == x._data.dtype else x.to(dtypes.from_numpy_dtype(target))
    if kind == "f":
        return x
    if rule.ints == "int64":
        return x if x._data.dtype == np.int64 else x.to(dtypes.int64)
    if rule.ints == "float":
        return x.to(dtypes.get_default_dtype())
    _refuse(op, x._data.dtype)
