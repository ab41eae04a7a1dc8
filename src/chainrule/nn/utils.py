"""Gradient clipping and flattening parameters to one vector."""
import math

import numpy as np

from ..tensor import Tensor


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so their joint norm is at most max_norm; returns the
    norm before clipping (as a tensor)."""
    if not float(max_norm) >= 0:  # a negative bound would flip every gradient's sign
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, got "
                         f"{max_norm!r}")
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._wrap(np.asanyarray(0.0, dtype=np.float32))
    dtype = grads[0]._data.dtype
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g._data))) if g._data.size else 0.0 for g in grads)
    else:
        # each gradient's norm in its own dtype, then the norm of the norms (as PyTorch)
        norms = [np.linalg.norm(g._data.reshape(-1), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.asanyarray(norms, dtype=dtype), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    if coef < 1.0 or not math.isfinite(total):
        with np.errstate(invalid="ignore"):  # inf * 0 -> nan, as PyTorch gives
            for g in grads:
                g._data *= g._data.dtype.type(coef)
                g._version[0] += 1
    return Tensor._wrap(np.asanyarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version[0] += 1


def parameters_to_vector(parameters):
    from ..ops.shape import cat
    return cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec, parameters):
    offset = 0
    for p in _params(parameters):
        n = p.numel()
        p._data[...] = vec._data[offset:offset + n].reshape(p._data.shape)
        p._version[0] += 1
        offset += n
    if offset != vec.numel():
        raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements but "
                           f"the parameters hold {offset}")
