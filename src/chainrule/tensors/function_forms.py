"""`torch.f(x, ...)` spellings of Tensor methods (torch.detach(x), torch.narrow(x, ...)),
PyTorch's math constants, and dtype promotion queries."""
import math

from . import dtypes
from .tensor import Tensor

e, pi, inf, nan = math.e, math.pi, math.inf, math.nan
newaxis = None


def _method(name):
    def fn(x, *args, **kwargs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
        return getattr(x, name)(*args, **kwargs)
    fn.__name__ = name
    return fn


_NAMES = ("detach select narrow is_floating_point is_nonzero is_same_size is_signed "
          "is_complex is_inference conj resolve_conj resolve_neg adjoint argwhere real "
          "conj_physical").split()
globals().update({_n: _method(_n) for _n in _NAMES})


def rsub(x, other, alpha=1):
    return other - alpha * x if alpha != 1 else other - x


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    from .creation import tensor
    return tensor(float(s), dtype=dtype, requires_grad=requires_grad)


def promote_types(type1, type2):
    # PyTorch's rule (the higher category wins: int32 with float32 is float32), not NumPy's
    pair = ((dtypes.to_numpy_dtype(type1), 2), (dtypes.to_numpy_dtype(type2), 2))
    return dtypes.from_numpy_dtype(dtypes.result_type(pair))


def result_type(tensor1, tensor2):
    from ..ops.core import _operand, promote
    return dtypes.from_numpy_dtype(promote(_operand(tensor1, "result_type"),
                                           _operand(tensor2, "result_type")))


def can_cast(from_, to):
    order = "biuf"  # bool < unsigned/int < float: PyTorch forbids casting down a kind
    a, b = dtypes.to_numpy_dtype(from_).kind, dtypes.to_numpy_dtype(to).kind
    return order.index(a if a != "u" else "i") <= order.index(b if b != "u" else "i")
