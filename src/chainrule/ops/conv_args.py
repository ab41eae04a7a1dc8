"""Argument checks of the convolutions, worded as PyTorch words them (prefixed with the
function's name): the shapes named, the same exception types."""
import numbers

import numpy as np

from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def int_tuple(value, n, name, opname):
    """An int, or a list/tuple of 1 or n ints, as n ints."""
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        if len(value) == 1:
            return (int(value[0]),) * n
        if len(value) == n:
            return tuple(int(v) for v in value)
        raise RuntimeError(f"{opname}: expected {name} to be a single integer value or a list "
                           f"of {n} values to match the convolution dimensions, but got "
                           f"{name}={list(value)}")
    raise TypeError(f"{opname}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _size(t):
    return list(t.shape)


def check_tensor(v, name, position, opname):
    if not isinstance(v, Tensor):
        raise TypeError(f"{opname}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(v).__name__}")


def check_dims(x, w, k, opname):
    """Input of k+1 (unbatched) or k+2 dims, a weight of k+2."""
    if x.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{opname}: Expected {k + 1}D (unbatched) or {k + 2}D (batched) "
                           f"input to {opname}, but got input of size: {_size(x)}")
    if w.ndim != k + 2:
        raise RuntimeError(f"{opname}: Expected {w.ndim}-dimensional input for {w.ndim}-"
                           f"dimensional weight {_size(w)}, but got {x.ndim}-dimensional input "
                           f"of size {_size(x)} instead")


def check_dtypes(x, w, b, opname):
    xd, wd = x._data.dtype, w._data.dtype
    if xd != wd:
        raise RuntimeError(f"{opname}: Input type ({SCALAR_NAMES[xd.name]}) and weight type "
                           f"({SCALAR_NAMES[wd.name]}) should be the same")
    if b is not None and b._data.dtype != xd:
        raise RuntimeError(f"{opname}: Input type ({SCALAR_NAMES[xd.name]}) and bias type "
                           f"({SCALAR_NAMES[b._data.dtype.name]}) should be the same")
    if xd == np.bool_ or xd.kind == "c":
        raise NotImplementedError(f"{opname}: not implemented for '{SCALAR_NAMES[xd.name]}'")


def check_positive(stride, dilation, groups, opname, padding=(0,)):
    if not _is_int(groups):
        raise TypeError(f"{opname}(): argument 'groups' must be int, not {type(groups).__name__}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{opname}: non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{opname}: negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{opname}: non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError(f"{opname}: non-positive groups is not supported")


def check_weight(x, w, b, groups, transposed, opname):
    """Channel counts of input, weight and bias against each other."""
    lead = "Given transposed=1, " if transposed else ""
    if w.shape[0] < 1 or w.shape[0] % groups:
        what = "at least 1" if w.shape[0] < 1 else f"divisible by {groups}"
        raise RuntimeError(f"{opname}: Given groups={groups}, expected weight to be {what} at "
                           f"dimension 0, but got weight of size [{_size(w)}] instead")
    want = w.shape[0] if transposed else w.shape[1] * groups
    if x.shape[1] != want:
        given = lead if transposed else f"Given groups={groups}, "
        raise RuntimeError(f"{opname}: {given}weight of size {_size(w)}, expected input"
                           f"{_size(x)} to have {want} channels, but got {x.shape[1]} channels "
                           "instead")
    outs = w.shape[1] * groups if transposed else w.shape[0]
    if b is not None and (b.ndim != 1 or b.shape[0] != outs):
        raise RuntimeError(f"{opname}: {lead}Given weight of size {_size(w)}, expected bias to "
                           f"be 1-dimensional with {outs} elements, but got bias of size "
                           f"{_size(b)} instead")


def _per_channel(values):
    return " x ".join(str(v) for v in values)


def check_kernel_fits(x, w, pads, dilation, opname):
    """Each padded spatial size must hold the dilated kernel."""
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])]
    if any(p < s for p, s in zip(padded, spans)):
        raise RuntimeError(f"{opname}: Calculated padded input size per channel: "
                           f"({_per_channel(padded)}). Kernel size: ({_per_channel(spans)}). "
                           "Kernel size can't be greater than actual input size")


def conv_pads(padding, w, stride, dilation, opname):
    """padding (ints, 'same' or 'valid') as (low, high) pairs per spatial dim."""
    k = w.ndim - 2
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * k
        if padding != "same":
            raise RuntimeError(f"{opname}: Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise RuntimeError(f"{opname}: padding='same' is not supported for strided "
                               "convolutions")
        totals = [d * (n - 1) for d, n in zip(dilation, w.shape[2:])]
        return tuple((t // 2, t - t // 2) for t in totals)  # the odd one extra at the end
    return tuple((p, p) for p in int_tuple(padding, k, "padding", opname))


def transposed_out(in_hw, k_hw, stride, padding, output_padding, dilation, opname):
    """conv_transpose's output (height, width), checked as PyTorch checks it."""
    if any(v < 0 for v in output_padding):
        raise RuntimeError(f"{opname}: negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        # conv_transpose1d too, as a height of 1
        dims = ("depth", "height", "width")[3 - len(stride):]
        parts = [f"{what}_{n}: {v}" for what, values in (("output_padding", output_padding),
                                                          ("stride", stride),
                                                          ("dilation", dilation))
                 for n, v in zip(dims, values)]
        raise RuntimeError(f"{opname}: output padding must be smaller than either stride or "
                           f"dilation, but got {' '.join(parts)}")
    out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
           zip(in_hw, stride, padding, dilation, k_hw, output_padding)]
    if any(v < 1 for v in out):
        raise RuntimeError(f"{opname}: Given input size per channel: "
                           f"({_per_channel(in_hw)}). Calculated output size per "
                           f"channel: ({_per_channel(out)}). Output size is too small")
    return tuple(out)
