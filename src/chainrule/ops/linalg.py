"""Matrix products: matmul (batched, broadcasting), mm, bmm, dot, mv, outer, and the fused
`linear` (x @ Wᵀ + b as one node: both GEMMs in backward, no transposed copies)."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from ..threads import matmul as gemm
from .core import apply


def _mT(a):
    return np.swapaxes(a, -1, -2)


MATMUL = Op("MmBackward0", gemm,
            lambda g, o, a, b: gemm(g, _mT(b)),
            lambda g, o, a, b: gemm(_mT(a), g))
BMM = MATMUL.renamed("BmmBackward0")
MV = Op("MvBackward0", gemm,
        lambda g, o, a, v: np.reshape(g, (-1, 1)) * np.reshape(v, (1, -1)),
        lambda g, o, a, v: gemm(_mT(a), g))
DOT = Op("DotBackward0", lambda a, b: np.asanyarray(np.dot(a, b)),
         lambda g, o, a, b: g * b, lambda g, o, a, b: g * a)


def _linear_w(g, o, x, w, *b):
    if g.ndim == 2:
        return gemm(_mT(g), x)
    return gemm(_mT(np.reshape(g, (-1, g.shape[-1]))), np.reshape(x, (-1, x.shape[-1])))


def _linear_forward(x, w, b):
    out = gemm(x, w.T)
    if b is not None:
        out += b  # in place: no second N×out array
    return out


LINEAR = Op("AddmmBackward0", _linear_forward,
            lambda g, o, x, w, b: gemm(g, w),
            lambda g, o, x, w, b: _linear_w(g, o, x, w),
            lambda g, o, x, w, b: g)
LINEAR_NO_BIAS = LINEAR.renamed("MmBackward0")  # PyTorch's F.linear(x, w) on a matrix


def _same_dtype(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}: expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}: expected both arguments to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    if a._data.dtype == np.bool_:  # NumPy would compute it; PyTorch has no bool kernel
        raise NotImplementedError(f"{name}: not implemented for bool tensors")
    return a, b


def matmul(a, b):
    a, b = _same_dtype(a, b, "matmul")
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(sa)} and {tuple(sb)}")
    if sa[-1] != sb[-2 if len(sb) > 1 else 0]:
        k2 = sb[-2 if len(sb) > 1 else 0]
        raise RuntimeError(f"matmul: {tuple(sa)} @ {tuple(sb)} — inner sizes {sa[-1]} and {k2} differ")
    if len(sa) == 1 and len(sb) == 1:
        return apply(DOT, (a, b))
    if len(sa) == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if len(sa) == 2 and len(sb) == 1:
        return apply(MV, (a, b))
    if len(sb) == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    try:
        return apply(MATMUL, (a, b))
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {tuple(sa)} and {tuple(sb)} cannot be "
                           "broadcast together") from None


def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    a, b = _same_dtype(a, b, "bmm")
    if a.shape[2] != b.shape[1]:
        raise RuntimeError(f"bmm: {tuple(a.shape)} @ {tuple(b.shape)} — inner sizes "
                           f"{a.shape[2]} and {b.shape[1]} differ")
    return apply(BMM, (a, b))


def dot(a, b):
    a, b = _same_dtype(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise RuntimeError(f"dot: expected two 1-D tensors of the same size, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    return apply(DOT, (a, b))


inner = vdot = dot


def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} "
                           f"and {tuple(v.shape)}")
    return matmul(a, v)


def outer(a, b):
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def linear(x, weight, bias=None):
    """y = x @ weightᵀ + bias, recorded as one node."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linear: expected the input to be a tensor, got {type(x).__name__}")
    if x._data.ndim == 0 or x._data.shape[-1] != weight._data.shape[-1]:
        raise RuntimeError(
            f"linear: got an input of shape {tuple(x.shape)} whose last dimension is "
            f"{x.shape[-1] if x.ndim else 'missing'}, expected {weight.shape[-1]} (the weight "
            f"has shape {tuple(weight.shape)}; mat1 and mat2 shapes cannot be multiplied)")
    if x._data.dtype != weight._data.dtype:
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"linear: expected a floating-point input like the weight "
                               f"({weight.dtype}), got {x.dtype}; convert with .float()")
        raise RuntimeError(f"linear: input dtype {x.dtype} and weight dtype {weight.dtype} "
                           "differ; convert one of them (e.g. .float() or .double())")
    if bias is None and x._data.ndim == 2:
        return apply(LINEAR_NO_BIAS, (x, weight, bias))
    return apply(LINEAR, (x, weight, bias))
