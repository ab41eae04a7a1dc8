"""`x.view(dtype)`: the same memory read as another dtype. Of the same element size the
shape stays; otherwise the last dimension (contiguous) scales by the ratio of the sizes,
with PyTorch's checks. The result shares x's memory and version counter; a view as an
integer dtype is not differentiable (PyTorch's neither)."""
import numpy as np

from ..tensors import dtypes
from ..tensors.tensor import Tensor

_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def view_dtype(x, dtype):
    want = dtypes.to_numpy_dtype(dtype)
    arr = x._data
    if want == arr.dtype:
        return x.view(x.shape)
    old, new = arr.itemsize, want.itemsize
    names = f"{_LEGACY[arr.dtype.name]} as {_LEGACY[want.name]}"
    if old != new:
        if arr.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names} (different element "
                               "sizes)")
        if new > old and arr.shape[-1] % (new // old):
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} to view "
                               f"{names} (different element sizes), but got {arr.shape[-1]}")
        if arr.shape[-1] != 1 and arr.strides[-1] != old:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names} (different element "
                               f"sizes), but got {arr.strides[-1] // old}")
        if arr.shape[-1] == 1 and arr.strides[-1] != old:
            arr = np.lib.stride_tricks.as_strided(arr, strides=arr.strides[:-1] + (old,))
    try:
        out = arr.view(want)
    except ValueError as err:  # a layout NumPy cannot reinterpret (other strides unaligned)
        raise RuntimeError(f"view: cannot view {names}: {err}") from None
    # shares memory and version counter, but, as in PyTorch, not a view to autograd
    # (`_is_view()` is False: nothing re-derives it from x)
    return Tensor._wrap(out, base=x)
