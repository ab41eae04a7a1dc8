"""Gradient clipping and flattening parameters to one vector."""
import math

import numpy as np

from ..tensors.tensor import Tensor


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
    # all in arrays of the gradients' dtype, as PyTorch computes it (and so a compiled
    # step can follow it): per-gradient norms, their norm, then one scale for all
    if math.isinf(norm_type):
        norms = [np.max(np.abs(g._data), initial=0) for g in grads]
        total = np.max(np.stack(norms).astype(dtype))
    else:
        norms = [np.linalg.norm(g._data.reshape(-1), ord=norm_type) for g in grads]
        total = np.linalg.norm(np.stack(norms).astype(dtype), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    with np.errstate(invalid="ignore", divide="ignore"):  # inf * 0 -> nan, as PyTorch gives
        coef = np.minimum(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
        for g in grads:
            np.multiply(g._data, coef, out=g._data)
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
