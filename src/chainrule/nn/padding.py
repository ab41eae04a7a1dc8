"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad in
1, 2 and 3 dimensions, each F.pad with a fixed padding (an int pads every side)."""
from . import functional as F
from .module import Module


def _widths(padding, dims):
    if isinstance(padding, (tuple, list)):
        return tuple(padding)
    return (padding,) * (2 * dims)


class _PadNd(Module):
    _dims = 2
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    _dims = 3


def _padding_class(name, mode, dims):
    return type(name, (_PadNd,), {"_dims": dims, "_mode": mode, "__module__": __name__,
                                  "__doc__": f"F.pad(input, padding, '{mode}') over the last "
                                             f"{dims} dimension{'s' if dims > 1 else ''}."})


ReflectionPad1d = _padding_class("ReflectionPad1d", "reflect", 1)
ReflectionPad2d = _padding_class("ReflectionPad2d", "reflect", 2)
ReflectionPad3d = _padding_class("ReflectionPad3d", "reflect", 3)
ReplicationPad1d = _padding_class("ReplicationPad1d", "replicate", 1)
ReplicationPad2d = _padding_class("ReplicationPad2d", "replicate", 2)
ReplicationPad3d = _padding_class("ReplicationPad3d", "replicate", 3)


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got "
                             f"{input.ndim}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    _dims = 1


class CircularPad2d(_CircularPadNd):
    _dims = 2


class CircularPad3d(_CircularPadNd):
    _dims = 3
