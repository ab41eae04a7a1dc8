"""The Tensor: a NumPy array plus autograd state (requires_grad, grad, grad_fn) and a
version counter shared with its views, bumped by every in-place change."""
import numbers

import numpy as np

from ..runtime import recording_hooks
from . import devices
from . import dtypes
from .. import autograd
from . import views
from .inplace import InPlaceWrites
from ..autograd import function, grad_mode


class Size(tuple):
    """A tuple of sizes that compares equal to a plain tuple, as torch.Size."""
    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"chainrule.Size({list(self)})"


def to_array(data, dtype=None, opname="tensor"):
    """Convert user data (nested lists, scalars, arrays, tensors) to an ndarray with
    PyTorch's default dtypes: Python floats -> float32, ints -> int64."""
    want = dtypes.to_numpy_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in PyTorch
        arr = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [to_array(v) for v in data]
        try:
            arr = np.asarray(data)
        except ValueError as err:
            raise ValueError(f"{opname}: could not build a tensor from the data: {err}") from None
        if arr.dtype == np.float64 and want is None:
            arr = arr.astype(dtypes.get_default_dtype().np)
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "c":
        raise TypeError(f"{opname}: cannot make a tensor from data of type {arr.dtype} "
                        "(expected numbers or bools, possibly nested in lists)")
    if want is not None and arr.dtype != want:
        arr = dtypes.convert(arr, want)
    elif arr.dtype not in dtypes._BY_NP:
        dtypes.from_numpy_dtype(arr.dtype)  # raises a clear TypeError
    return arr


def as_tensor_arg(v, opname):
    """Lists/arrays given where a tensor is expected (e.g. `t + np_array`)."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (np.ndarray, list, tuple, np.generic)):
        return Tensor._wrap(to_array(v, opname=opname))
    raise TypeError(f"{opname}: expected a tensor, a number or an array, got "
                    f"{type(v).__name__}")


def _known_dtype(arr):
    """No tensor holds a NumPy dtype chainrule does not know (`.dtype` would fail): other
    unsigned integers become int64 (PyTorch's result for their sums and products), a long
    double float64; anything else is refused by name."""
    if not isinstance(arr, (np.ndarray, np.generic)):
        return arr  # an internal placeholder (e.g. an undefined gradient), not data
    kind = arr.dtype.kind
    if kind in "ui":
        return np.asarray(arr).astype(np.int64)
    if kind == "f":
        return np.asarray(arr).astype(np.float64)
    raise TypeError(f"chainrule has no dtype for NumPy's {arr.dtype}; supported: "
                    + ", ".join(d.name for d in dtypes.ALL))


_RECORDING = recording_hooks.ACTIVE  # read on every tensor made: one global lookup, not two


class Tensor(InPlaceWrites, function.TensorBase):
    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_version", "_view", "_views",
                 "__weakref__")
    __array_priority__ = 1000

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        devices.place(device, "Tensor")
        # chainrule.Tensor(2, 3) is an uninitialised float tensor; Tensor([..]) copies data
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            arr = np.array(to_array(args[0]), dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype()))
        else:
            arr = np.zeros(tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else args,
                           dtype=dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype()))
        self._data = arr
        self.requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self._view = self._views = None  # see views.py
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr, base=None):
        if arr.dtype not in dtypes._BY_NP:
            arr = _known_dtype(arr)
        if type(arr) is not np.ndarray and isinstance(arr, np.generic):
            # a 0-d result arrives as a NumPy scalar; keep an array, so that the next op
            # runs NumPy's array loops (scalar math can round pow differently), as it
            # does under chainrule.compile, and in-place ops have memory to write
            arr = np.asarray(arr)
        if _RECORDING[0] is not None:  # a compile recording follows every array
            arr = _RECORDING[0].adopt(arr)
        t = object.__new__(cls)
        t._data = arr
        t.requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._version = base._version if base is not None else [0]  # views share it
        t._view = t._views = None
        return t

    # ---- attributes ---------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._dim(dim)]

    def _dim(self, dim):
        n = self._data.ndim
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(n, 1)}, {max(n, 1) - 1}], but got {dim})")
        return dim % max(n, 1)

    @property
    def dtype(self):
        return dtypes._BY_NP[self._data.dtype]

    @property
    def device(self):
        return devices.CPU

    def get_device(self):
        return -1  # PyTorch's answer for a CPU tensor

    @property
    def is_cuda(self):
        return False

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def element_size(self):
        return self._data.itemsize

    @property
    def data(self):
        # shares memory but not the version counter: changes through .data go unchecked
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else to_array(value)
        self._version[0] += 1

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad and grad_mode._state[0]:
            from ..autograd.function import GraphLostError
            raise GraphLostError(  # the graph would be cut silently (as PyTorch, refuse)
                "Can't convert a tensor that requires grad to a NumPy array while grad mode "
                "is on (the graph would be lost); use tensor.detach().numpy() instead")
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is "
                               "ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data)

    def __format__(self, spec):
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        from .printing import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__
    __hash__ = object.__hash__

    # ---- autograd -----------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self):
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            import weakref
            self.grad_fn.retain = weakref.ref(self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn.retain is not None

    def detach(self):
        return Tensor._wrap(self._data, base=self)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook):
        """`hook(grad)` runs when this tensor's gradient is computed; it may return a
        replacement. Returns a RemovableHandle."""
        from ..autograd import tensor_hooks
        return tensor_hooks.register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs after backward has accumulated into this leaf's .grad."""
        from ..autograd import tensor_hooks
        return tensor_hooks.register_post_accumulate_grad_hook(self, hook)

    # ---- dtype conversion ---------------------------------------------------------
    def to(self, *args, **kwargs):
        """to(device, dtype), to(dtype), to(other_tensor); non_blocking= and copy= too."""
        _, dtype, copy = devices.parse_to(args, kwargs, "to")
        if dtype is None:
            return self.clone() if copy else self
        want = dtypes.to_numpy_dtype(dtype)
        if want == self._data.dtype and not copy:
            return self
        from ..ops.shape import cast
        return cast(self, want)

    def type(self, dtype=None):
        if dtype is None:
            return f"chainrule.{self.dtype.name.capitalize()}Tensor"
        return self.to(dtype)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        devices.to_cuda(device, "Tensor.cuda")

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .methods import array_ufunc
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .methods import array_function
        return array_function(func, args, kwargs)


def _cast_method(name, dtype):
    def method(self):
        return self.to(dtype)
    method.__name__ = name
    return method


# x.float(), x.long(), ...: shorthands for x.to(dtype)
for _name, _dtype in (("float", dtypes.float32), ("double", dtypes.float64),
                      ("half", dtypes.float16), ("long", dtypes.int64), ("int", dtypes.int32),
                      ("bool", dtypes.bool_)):
    setattr(Tensor, _name, _cast_method(_name, _dtype))

views.install(Tensor)
