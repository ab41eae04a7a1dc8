"""Making tensors: from data (tensor, as_tensor, from_numpy) and by shape (zeros, ones,
full, empty, arange, linspace, eye and the *_like variants)."""
import numbers

import numpy as np

from . import devices
from . import dtypes
from .tensor import Tensor, to_array


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or dtypes.get_default_dtype()).np
    return dtypes.to_numpy_dtype(dtype)


def _shape(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{name}(): sizes must be integers, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{name}(): trying to create a tensor with negative dimension: "
                           f"{list(shape)}")
    return shape


def _finish(arr, requires_grad, device=None, opname=None):
    """Wrap a factory's array; `device` (None: the default device) must be the CPU."""
    devices.place(device, opname)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor copying `data` (nested lists, scalars, arrays or tensors)."""
    arr = to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and arr is (data._data if isinstance(data, Tensor) else data):
        arr = arr.copy()
    return _finish(np.asarray(arr), requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None):
    """Like tensor, but shares memory with a NumPy array or tensor when the dtype allows."""
    devices.place(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data._data.dtype == dtypes.to_numpy_dtype(dtype)):
        return data
    return Tensor._wrap(np.asarray(to_array(data, dtype)))


def from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(arr).__name__}")
    dtypes.from_numpy_dtype(arr.dtype)
    return Tensor._wrap(arr)


def _by_shape(np_fn, name):
    # zeros(2, 3), zeros((2, 3)) and zeros(size=(2, 3)) alike
    def factory(*sizes, size=None, dtype=None, device=None, requires_grad=False):
        shape = _shape(sizes if size is None else (size,), name)
        return _finish(np_fn(shape, _np_dtype(dtype)), requires_grad, device, name)
    factory.__name__ = name
    return factory


zeros, ones, empty = (_by_shape(f, n) for f, n in ((np.zeros, "zeros"), (np.ones, "ones"),
                                                   (np.empty, "empty")))


def _fill_scalar(value, opname):
    """fill_value as PyTorch takes it: a real number, a bool or a one-element tensor."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError(f"{opname}(): complex fill_value {value!r} is not supported")
    if not isinstance(value, (numbers.Number, np.bool_)):
        raise TypeError(f"{opname}(): argument 'fill_value' must be a number, not "
                        f"{type(value).__name__}")
    return value


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    fill_value = _fill_scalar(fill_value, "full")
    if dtype is None:
        default = (dtypes.bool_ if isinstance(fill_value, bool) else
                   dtypes.int64 if isinstance(fill_value, numbers.Integral) else None)
        np_dtype = _np_dtype(None, default)
    else:
        np_dtype = _np_dtype(dtype)
    return _finish(np.full(_shape((size,), "full"), fill_value, np_dtype), requires_grad, device,
                   "full")


def like_input(x, dtype, opname, device):
    """The dtype of a *_like result: `dtype`, else that of the input tensor. The result
    lives where its input does (always the CPU) unless `device` is given."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{opname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    devices.place(device or devices.CPU, opname)
    return dtype or x.dtype


def _like(fn):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None):
        dtype = like_input(input, dtype, fn.__name__ + "_like", device)
        return fn(input.shape, dtype=dtype, device=devices.CPU, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype = like_input(input, dtype, "full_like", device)
    fill_value = _fill_scalar(fill_value, "full_like")
    return full(input.shape, fill_value, dtype=dtype, device=devices.CPU,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    _no_bool_range("arange", dtype)
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in vals)
        np_dtype = np.int64 if is_int else dtypes.get_default_dtype().np
    else:
        np_dtype = _np_dtype(dtype)
    # computed in float64 then cast, as PyTorch does, so 0.1 steps do not drift
    return _finish(np.arange(*vals, dtype=np.float64 if np.dtype(np_dtype).kind == "f" else None)
                   .astype(np_dtype), requires_grad, device, "arange")


def _no_bool_range(name, dtype):
    if dtype is not None and _np_dtype(dtype) == np.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    _no_bool_range("linspace", dtype)
    return _finish(np.linspace(start, end, steps).astype(_np_dtype(dtype)), requires_grad,
                   device, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    _no_bool_range("logspace", dtype)
    return _finish(np.logspace(start, end, steps, base=base).astype(_np_dtype(dtype)),
                   requires_grad, device, "logspace")


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device, "eye")

