"""fmod (remainder with the dividend's sign, as C's fmod) and nan_to_num."""
import numpy as np

from ..autograd.function import Op
from .core import apply1, binary
from .elementwise import _check_int_divisor, _quiet, isfinite, trunc, where
from .rules import tensor_rule

FMOD = Op("FmodBackward1", _quiet(np.fmod),
          lambda g, o, a, b: g,
          # trunc(a / b) is piecewise constant: a constant of the gradient's graph
          tensor_rule(lambda g, o, a, b: -g * trunc(a / b)))
FMOD_SCALAR = FMOD.renamed("FmodBackward0", scalar_slot=1)  # fmod(x, 2): x's entry alone


def fmod(a, b):
    _check_int_divisor("fmod", a, b)
    return binary(FMOD_SCALAR if isinstance(b, (int, float)) else FMOD, a, b)


NAN_TO_NUM = Op("NanToNumBackward0", lambda x, nan, pos, neg: np.nan_to_num(
                    x, nan=nan, posinf=pos, neginf=neg),
                tensor_rule(lambda g, o, x, nan, pos, neg: where(isfinite(x), g, 0.0), 1))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    if x._data.dtype.kind != "f":
        return x.clone()
    return apply1(NAN_TO_NUM, x, float(nan), posinf, neginf)
