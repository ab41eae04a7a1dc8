"""dtypes and PyTorch's type-promotion rules.

A dtype is a small object wrapping a NumPy dtype, so `x.dtype == chainrule.float32`
and `x.dtype.is_floating_point` read as in PyTorch.
"""
import numpy as np


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "itemsize", "category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.itemsize = self.np.itemsize
        self.category = category  # 0 bool, 1 integer, 2 floating

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np.str,))


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
int16 = dtype("int16", np.int16, 1)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)
float = float32   # torch.float
double = float64  # torch.double
half = float16
long = int64
int = int32       # torch.int is int32
short = int16

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)
_BY_NP = {d.np: d for d in ALL}
DEFAULT = {0: bool_, 1: int64, 2: float32}
_default_float = [float32]


def from_numpy_dtype(np_dtype):
    """The chainrule dtype of a NumPy dtype; unsupported ones raise TypeError."""
    d = _BY_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(f"unsupported NumPy dtype {np.dtype(np_dtype)}; chainrule supports "
                        + ", ".join(x.name for x in ALL))
    return d


def to_numpy_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype or a name like 'float32'."""
    if isinstance(d, dtype):
        return d.np
    if isinstance(d, str) and d in globals() and isinstance(globals()[d], dtype):
        return globals()[d].np
    try:
        return from_numpy_dtype(d).np
    except TypeError:
        raise TypeError(f"expected a chainrule dtype such as chainrule.float32, got {d!r}") from None


def convert(arr, np_dtype):
    """`arr` in `np_dtype` as PyTorch converts: a float into uint8 goes through int64, so it
    wraps around (2 ** 31 + 95 is 95, -1.5 is 255), where NumPy's direct cast of a float64
    past int32's range gives 0; every other conversion as NumPy's astype."""
    arr, np_dtype = np.asanyarray(arr), np.dtype(np_dtype)
    if np_dtype == np.uint8 and arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):  # NaN and inf: int64's minimum, so 0
            return arr.astype(np.int64).astype(np.uint8)
    return arr.astype(np_dtype)


def can_cast_inplace(src, dst):
    """PyTorch's canCast for an op's result written into a tensor: any cast but a float
    into an integer or bool, or a number into a bool."""
    src, dst = np.dtype(src).kind, np.dtype(dst).kind
    return not ((src == "f" and dst != "f") or (src != "b" and dst == "b"))


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    d = from_numpy_dtype(to_numpy_dtype(d))
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {d}")
    _default_float[0] = d
    DEFAULT[2] = d
    _cache.clear()  # cached promotions may have used the old default


_cache = {}


def result_type(operands):
    """PyTorch's promotion. Each operand is (numpy dtype, priority) where priority is
    2 for a tensor with dimensions, 1 for a 0-dim tensor, 0 for a Python scalar.
    The highest category wins; within it the highest priority; a category reached only
    through Python scalars gives that category's default dtype."""
    key = tuple(operands)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    cats = [(_BY_NP[d].category if d in _BY_NP else 2, p, d) for d, p in operands]
    top = max(c for c, _, _ in cats)
    best = max(p for c, p, _ in cats if c == top)
    if best == 0:
        out = DEFAULT[top].np
    else:
        out = np.result_type(*[d for c, p, d in cats if c == top and p == best])
    _cache[key] = out
    return out
