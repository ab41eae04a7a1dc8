"""Devices as PyTorch names them. chainrule computes on the CPU with NumPy, like PyTorch's
CPU-only build: `device('cuda:1')` is an ordinary object, and only placing memory there
(a factory's `device=`, `.to('cuda')`, `.cuda()`) fails, with PyTorch's error type."""
import re

import numpy as np

from . import dtypes

DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")
_SPEC = re.compile(r"([A-Za-z_]+)(?::(0|[1-9][0-9]*))?")


def _parse(text):
    if not text:
        raise RuntimeError("Device string must not be empty")
    match = _SPEC.fullmatch(text)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    kind, index = match.groups()
    if kind not in DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                           f"of device string: {text}")
    return kind, None if index is None else int(index)


class device:
    """`device('cpu')`, `device('cuda:1')`, `device('cuda', 1)`, `device(type='cpu')`.
    Also a context manager that makes itself the default device of the factories."""
    __slots__ = ("_type", "_index")

    def __init__(self, type=None, index=None):
        if isinstance(type, device) and index is None:
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device string such as 'cpu' or 'cuda:0' "
                            f"or a device, got {_name(type)}")
        kind, parsed = _parse(type)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{_name(index)}")
            if parsed is not None:
                raise RuntimeError("type (string) must not include an index because index "
                                   f"was passed explicitly: {type}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            parsed = int(index)
        self._type, self._index = kind, parsed

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __format__(self, spec):
        return format(str(self), spec)

    def __eq__(self, other):
        # as in PyTorch, a device never equals a string: compare `x.device.type == 'cpu'`
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __enter__(self):
        _saved.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc):
        _default[0] = _saved.pop()
        return False


def _name(value):
    return "NoneType" if value is None else type(value).__name__


CPU = device("cpu")
_default = [None]  # None: the CPU, with no check to make when a factory places memory
_saved = []        # defaults to restore when `with device(...)` blocks exit


def set_default_device(dev):
    """The device factories place tensors on when `device=` is left out (None: the CPU)."""
    _default[0] = None if dev is None or device(dev) == CPU else device(dev)


def get_default_device():
    dev = _default[0]
    if dev is None:
        return CPU
    if dev.type != "cpu" and dev.index is None:
        place(dev, "get_default_device")  # PyTorch resolves the index by allocating there
    return dev


def place(dev, opname):
    """Check that memory can be placed on `dev` (None: the default device); the CPU is the
    only device chainrule has, so anything else fails as PyTorch's CPU-only build does."""
    if dev is None:
        dev = _default[0]
        if dev is None:
            return
    elif dev is CPU or isinstance(dev, str) and dev == "cpu":
        return
    dev = device(dev)
    if dev.type == "cpu":
        return
    where = f"{opname}: " if opname else ""
    if dev.type == "cuda":
        raise AssertionError(f"{where}chainrule not compiled with CUDA enabled (it computes "
                             "on the CPU with NumPy; use device='cpu')")
    if dev.type == "meta":
        raise NotImplementedError(f"{where}the 'meta' device (tensors without data) is not "
                                  "supported: chainrule tensors always hold data on the CPU")
    raise RuntimeError(f"{where}chainrule is not linked with support for {dev.type} devices "
                       "(it computes on the CPU with NumPy; use device='cpu')")


def to_cuda(dev, opname):
    """`x.cuda(dev)` / `module.cuda(dev)`: a GPU is asked for, so this always fails, with
    PyTorch's error for each form (an int index cannot even be resolved without one)."""
    dev = device("cuda") if dev is None else device(dev)
    if dev.type != "cuda":
        raise RuntimeError(f"{opname}: invalid device, must be cuda device (got '{dev}')")
    place(dev, opname)


def _is_dtype(a):
    return isinstance(a, (dtypes.dtype, np.dtype)) or any(a is t for t in (float, int, bool))


def parse_to(args, kwargs, opname):
    """The arguments of `Tensor.to` / `Module.to`, as PyTorch reads them:
    to(device=None, dtype=None, non_blocking=False, copy=False), to(dtype, non_blocking,
    copy) or to(other_tensor, non_blocking, copy). Returns (device, dtype, copy) after
    checking the device can hold memory."""
    kwargs = dict(kwargs)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    flags = {"non_blocking": kwargs.pop("non_blocking", False), "copy": kwargs.pop("copy", False)}
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{opname}() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")
    rest = list(args)
    if rest and hasattr(rest[0], "_data") and hasattr(rest[0], "dtype"):
        other = rest.pop(0)  # to(other): other's device and dtype
        dev, dtype = other.device, other.dtype
    elif rest and (isinstance(rest[0], (str, device)) or
                   isinstance(rest[0], int) and not isinstance(rest[0], bool)):
        dev = rest.pop(0)
    if rest and _is_dtype(rest[0]):
        dtype = rest.pop(0)
    for key in ("non_blocking", "copy"):
        if rest and isinstance(rest[0], bool):
            flags[key] = rest.pop(0)
    if rest:
        raise TypeError(f"{opname}() received an invalid combination of arguments: expected "
                        "(device=None, dtype=None, non_blocking=False, copy=False), (dtype, "
                        f"non_blocking, copy) or (tensor, non_blocking, copy), got "
                        f"{tuple(_name(a) for a in args)}")
    if dev is not None:
        place(device(dev), opname)
    return dev, dtype, flags["copy"]
