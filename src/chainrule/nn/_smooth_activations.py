"""Smooth activations of nn.functional: elu, selu, celu (one kernel with PyTorch's three
coefficients), silu and mish, each in PyTorch's formula and order of operations (float16
computed in float32, rounded once). Gradient rules are written in NumPy calls that
dispatch to chainrule ops on tensors, so second derivatives come from the same rules."""
import numpy as np

from ..autograd.function import Op
from ..ops.core import apply1, float16_in_float32, quiet as _quiet
from ..tensors.type_info import SCALAR_NAMES

__all__ = ["elu", "elu_", "selu", "selu_", "celu", "celu_", "silu", "mish"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _coefficients(like, alpha, scale, input_scale):
    """(negcoef, poscoef, negiptcoef) in the kernel's arithmetic type, as PyTorch forms
    them there (alpha * scale rounded to float32 for float32 and float16). `like` is an
    array, or a tensor when the rule builds a graph."""
    kind = np.float64 if getattr(like, "_data", like).dtype == np.float64 else np.float32
    return kind(alpha) * kind(scale), kind(scale), kind(input_scale)


def _elu(x, alpha, scale, input_scale):
    neg, pos, ipt = _coefficients(x, alpha, scale, input_scale)
    return np.where(x <= 0, np.expm1(x * ipt) * neg, x * pos)


# gradients test `x > 0` as PyTorch's vectorised kernels do: NaN takes the negative branch
def _elu_grad(g, out, x, alpha, scale, input_scale):
    neg, pos, ipt = _coefficients(g, alpha, scale, input_scale)
    return np.where(x > 0, g * pos, g * ipt * neg * np.exp(x * ipt))


def _elu_grad_from_result(g, out, x, alpha, scale, input_scale):
    """The in-place form's rule reads the result (the input is gone): ipt * (out + neg)."""
    neg, pos, ipt = _coefficients(g, alpha, scale, input_scale)
    return np.where(out > 0, g * pos, g * ipt * (out + neg))


def _op(name, forward, grad, **kw):
    """An activation's op: float16 computed in float32, no NumPy warnings at the tails."""
    return Op(name, _quiet(float16_in_float32(forward)), _quiet(float16_in_float32(grad)), **kw)


ELU = _op("EluBackward0", _elu, _elu_grad)
ELU_INPLACE = _op("EluBackward1", _elu, _elu_grad_from_result, saves_inputs=False,
                  uses_out=True)
CELU = ELU.renamed("CeluBackward0")
CELU_INPLACE = ELU_INPLACE.renamed("CeluBackward1")


def _check(x, fn):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{fn}" not implemented for '
                                  f"'{SCALAR_NAMES.get(x._data.dtype.name, x.dtype)}'")


def _apply(x, op, inplace_op, inplace, fn, *params):
    _check(x, fn)
    if inplace:
        return x._inplace(lambda old: apply1(inplace_op, old, *params), opname=f"{fn}_")
    return apply1(op, x, *params)


def elu(input, alpha=1.0, inplace=False):
    if inplace and alpha < 0:
        raise RuntimeError("elu_: in-place elu with a negative alpha is not supported (its "
                           "gradient cannot be recovered from the result); use inplace=False")
    return _apply(input, ELU, ELU_INPLACE, inplace, "elu", float(alpha), 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    return _apply(input, ELU, ELU_INPLACE, inplace, "selu", _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _apply(input, CELU, CELU_INPLACE, inplace, "celu", float(alpha), 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _silu(x):
    return x / (1 + np.exp(-x))


def _silu_grad(g, out, x):
    sigmoid = 1 / (1 + np.exp(-x))
    return g * sigmoid * (1 + x * (1 - sigmoid))


SILU = _op("SiluBackward0", _silu, _silu_grad)


def silu(input, inplace=False):
    return _apply(input, SILU, SILU, inplace, "silu")


def _mish(x):
    return x * np.tanh(np.log1p(np.exp(x)))


def _mish_grad(g, out, x):
    sigmoid = 1 / (1 + np.exp(-x))
    tanh_softplus = np.tanh(np.log1p(np.exp(x)))
    return g * (tanh_softplus + x * sigmoid * (1 - tanh_softplus * tanh_softplus))


MISH = _op("MishBackward0", _mish, _mish_grad)


def mish(input, inplace=False):
    return _apply(input, MISH, MISH, inplace, "mish")
