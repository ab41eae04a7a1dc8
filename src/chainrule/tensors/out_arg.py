"""`out=`: the PyTorch functions that accept it write their result into a given tensor and
return that same object. One wrapper does it for every such function: the result is
computed as usual, then copied into `out` following PyTorch's rules (no autograd, casting
only to a dtype the result can safely become, resizing with a warning)."""
import functools
import warnings

import numpy as np

from . import dtypes
from ..autograd import grad_mode
from .tensor import Tensor
from .type_info import SCALAR_NAMES
from .views import check_partial_overlap, writable

# how the result's dtype must relate to out's: "cast" (PyTorch's can-cast rule),
# "exact" (matmul family and argmax/argmin: same dtype) or "factory" (out's dtype is used)
_KINDS = {
    "cast": """abs absolute add sub subtract mul multiply div divide true_divide floor_divide
        remainder pow neg negative exp log log2 log1p sqrt rsqrt sin cos tanh sigmoid sign
        square clamp clip trunc floor ceil round maximum minimum where heaviside
        eq ne lt le gt ge greater greater_equal less less_equal not_equal
        logical_and logical_or logical_xor logical_not bitwise_not
        sum mean prod amax amin max min std var norm cumsum logsumexp all any
        softmax log_softmax cat concat concatenate stack gather index_select masked_select
        take nonzero diag tril triu bernoulli multinomial normal
        acos acosh asin asinh atan atan2 atanh arccos arccosh arcsin arcsinh arctan arctan2
        copysign cosh sinh tan deg2rad rad2deg erf exp2 expm1 frac hypot log10 logaddexp
        logaddexp2 logit reciprocal sgn xlogy fmax fmin fmod lerp nan_to_num addcdiv addcmul
        addr kron diff cumprod nanmean cummax cummin kthvalue median mode sort topk
        nansum erfc sinc ger""",
    "exact": """matmul mm bmm mv dot inner outer argmax argmin float_power addmm addmv addbmm
        baddbmm cross take_along_dim msort logcumsumexp aminmax fix clamp_max clamp_min
        signbit isneginf isposinf quantile vdot index_copy""",
    "factory": "arange empty eye full linspace logspace ones zeros rand randn randint randperm",
}




def _any_requires_grad(values):
    for v in values:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and _any_requires_grad(v):
            return True
    return False


def _write(name, kind, result, out):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a tensor, not {type(out).__name__}")
    src, dst = result._data.dtype, out._data.dtype
    if kind == "exact" and src != dst:
        raise RuntimeError(f"{name}(): expected out tensor to have dtype {result.dtype.name}, but "
                           f"got {out.dtype.name} instead")
    if not dtypes.can_cast_inplace(src, dst):
        raise RuntimeError(f"{name}(): result type {SCALAR_NAMES[src.name]} can't be cast to "
                           f"the desired output type {SCALAR_NAMES[dst.name]}")
    if out._data.shape != result._data.shape:
        if out._data.size:
            warnings.warn(
                f"{name}(): an output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(result._data.shape)}. Pass an out tensor with zero elements (or the "
                "right shape) to avoid this.", UserWarning, stacklevel=3)
        out._data = np.empty(result._data.shape, dtype=dst)
    np.copyto(writable(out._data), result._data, casting="unsafe")
    out._version[0] += 1
    return out


def with_out(fn, kind="cast", name=None):
    """`fn` with an `out=` keyword (a tensor, or a tuple of tensors for tuple results)."""
    name = name or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if grad_mode.is_grad_enabled() and (_any_requires_grad(args) or _any_requires_grad(
                kwargs.values()) or _any_requires_grad(out if isinstance(out, tuple) else (out,))):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        if kind == "factory" and kwargs.get("dtype") is None and isinstance(out, Tensor):
            kwargs["dtype"] = out.dtype
        for o in (out if isinstance(out, (tuple, list)) else (out,)):
            for a in args:
                if isinstance(a, Tensor) and isinstance(o, Tensor):
                    check_partial_overlap(o._data, a._data)
        result = fn(*args, **kwargs)
        if isinstance(result, tuple):
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): out must be a tuple of {len(result)} tensors for "
                                "this call")
            for r, o in zip(result, out):
                _write(name, kind, r, o)
            return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
        return _write(name, kind, result, out)
    return wrapper


def install(namespace):
    """Give every function of `namespace` that PyTorch lets take `out=` that keyword."""
    for kind, names in _KINDS.items():
        for name in names.split():
            fn = namespace.get(name)
            if fn is not None and not getattr(fn, "_takes_out", False):
                wrapped = with_out(fn, kind, name)
                wrapped._takes_out = True
                namespace[name] = wrapped
