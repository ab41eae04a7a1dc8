"""PyTorch's legacy typed constructors: `LongTensor([1, 2])` is an int64 tensor,
`FloatTensor(2, 3)` an uninitialised float32 one, and `isinstance(x, LongTensor)` asks
for x's dtype."""
from . import devices
from . import dtypes
from .tensor import Tensor


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        devices.place(device, cls.__name__)
        return Tensor(*args, dtype=cls.dtype)


def _legacy(name, dtype):
    return _LegacyType(name, (), {"dtype": dtype, "__module__": "chainrule"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)
