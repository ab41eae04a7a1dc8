"""`finfo` and `iinfo`: the numeric limits of chainrule's dtypes, with PyTorch's field
names (bits, eps, max, min, tiny, smallest_normal, resolution, dtype)."""
import numpy as np

from . import dtypes


# PyTorch's scalar-type names, used in its error messages
SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _as_dtype(d, who):
    if not isinstance(d, dtypes.dtype):
        raise TypeError(f"{who}(): argument 'type' must be a chainrule dtype such as "
                        f"chainrule.float32, not {type(d).__name__}")
    return d


def _short(v):
    return f"{v:.6g}"


class finfo:
    """Limits of a floating dtype; `finfo()` describes the default dtype."""

    def __init__(self, type=None):
        d = dtypes.get_default_dtype() if type is None else _as_dtype(type, "finfo")
        if not d.is_floating_point:
            raise TypeError("chainrule.finfo() requires a floating point input type. Use "
                            "chainrule.iinfo to handle 'chainrule.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # exactly 1e-6, not float32's 1e-6
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={_short(self.resolution)}, min={_short(self.min)}, "
                f"max={_short(self.max)}, eps={_short(self.eps)}, "
                f"smallest_normal={_short(self.smallest_normal)}, tiny={_short(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, type):
        d = _as_dtype(type, "iinfo")
        if d is dtypes.bool_:
            raise TypeError("chainrule.bool is not supported by chainrule.iinfo")
        if d.is_floating_point:
            raise TypeError("chainrule.iinfo() requires an integer input type. Use "
                            "chainrule.finfo to handle 'chainrule.iinfo'")
        info = np.iinfo(d.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={_short(self.min)}, max={_short(self.max)}, dtype={self.dtype})"
