"""Binds the ops to Tensor as methods and operators, defines the in-place `*_` methods,
and routes NumPy functions called on tensors to chainrule ops (so gradient rules written
with NumPy also build graphs under create_graph=True)."""
import numpy as np

from .. import random as _random
from . import devices
from ..ops import elementwise as E, indexing as I, linalg as L, reduction as R, shape as S
from ..ops import softmax as SM
from ..ops import linalg_inverse as LI
from ..ops.bitwise import invert as _invert
from ..ops.heaviside import heaviside
from ..ops.pointwise_math import reciprocal as _reciprocal
from ..autograd.function import GraphLostError
from ..ops.core import _operand, apply
from ..autograd import grad_mode
from .tensor import Tensor
from .views import writable

_METHODS = {
    E: "add sub mul div floor_divide remainder pow maximum minimum neg abs exp log log2 log1p "
       "sqrt rsqrt sin cos tanh sigmoid erf relu sign square clamp clip trunc floor ceil round "
       "eq ne lt le gt ge logical_and logical_or logical_xor logical_not isnan isinf isfinite "
       "equal allclose isclose bitwise_not",
    R: "sum mean var std prod max min amax amin argmax argmin norm all any count_nonzero cumsum",
    SM: "softmax log_softmax logsumexp",
    S: "clone reshape view view_as reshape_as flatten squeeze unsqueeze transpose swapaxes t "
       "permute expand expand_as broadcast_to split chunk unbind flip select narrow",
    L: "matmul mm bmm dot mv outer",
    I: "masked_fill gather index_select take nonzero masked_select",
}
for _module, _names in _METHODS.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_module, _name))
Tensor.inverse, Tensor.det, Tensor.heaviside = LI.inv, LI.det, heaviside

Tensor.multiply, Tensor.subtract, Tensor.divide, Tensor.negative = E.mul, E.sub, E.div, E.neg
Tensor.greater, Tensor.less, Tensor.absolute = E.gt, E.lt, E.abs
Tensor.T = property(lambda x: S.permute(x, tuple(reversed(range(x.ndim)))) if x.ndim > 1 else x)
Tensor.mT = property(lambda x: S.transpose(x, -2, -1))


def _swap(fn):
    return lambda a, b: fn(b, a)


def _rtruediv(x, other):
    # `2 / x` is reciprocal(x) * 2 in PyTorch: the same rounding, and a MulBackward0 node
    return E.mul(_reciprocal(x), other)


_OPS = {
    # a number on the left of a commutative op is its right operand, as in PyTorch: the
    # tensor's node comes first in grad_fn.next_functions
    "add": E.add, "radd": E.add, "sub": E.sub, "rsub": E.rsub,
    "mul": E.mul, "rmul": E.mul, "truediv": E.div, "rtruediv": _rtruediv,
    "floordiv": E.floor_divide, "rfloordiv": _swap(E.floor_divide),
    "mod": E.remainder, "rmod": _swap(E.remainder), "pow": E.pow, "rpow": _swap(E.pow),
    "matmul": L.matmul, "rmatmul": lambda a, b: L.matmul(_operand(b, "matmul"), a),
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "and": E.bitwise_and, "rand": E.bitwise_and, "or": E.bitwise_or,
    "ror": E.bitwise_or, "xor": E.bitwise_xor, "rxor": E.bitwise_xor,
    "lshift": E.bitwise_left_shift, "rlshift": _swap(E.bitwise_left_shift),
    "rshift": E.bitwise_right_shift, "rrshift": _swap(E.bitwise_right_shift),
}
for _name, _fn in _OPS.items():
    setattr(Tensor, f"__{_name}__", _fn)
Tensor.__neg__ = E.neg
Tensor.__abs__ = E.abs
Tensor.__invert__ = _invert
Tensor.__pos__ = lambda x: x
Tensor.__getitem__ = I.getitem
Tensor.__setitem__ = I.setitem


# ---- in place: x += 1, x.add_(y), ... keep id(x) and share storage with views --------
def _inplace_method(fn, name, elementwise=True):
    def method(self, *args, **kwargs):
        if elementwise and args and isinstance(args[0], Tensor):
            self._check_inplace_shape(args[0], name)
        return self._inplace(lambda x, *a: fn(x, *a, **kwargs), *args, opname=name)
    method.__name__ = name
    return method


for _name, _fn in {"add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow,
                   "floordiv": E.floor_divide, "mod": E.remainder, "matmul": L.matmul,
                   "and": E.bitwise_and, "or": E.bitwise_or, "xor": E.bitwise_xor,
                   "lshift": E.bitwise_left_shift, "rshift": E.bitwise_right_shift}.items():
    setattr(Tensor, f"__i{_name}__", _inplace_method(_fn, f"__i{_name}__"))
for _name in ("add sub mul div pow clamp clip abs neg exp log sqrt sigmoid tanh relu "
              "masked_fill floor_divide remainder").split():
    setattr(Tensor, _name + "_", _inplace_method(getattr(E, _name, None) or getattr(I, _name), _name + "_"))


def _fill(self, value, opname="fill_"):
    scalar = not isinstance(value, (Tensor, np.ndarray))  # one value may land twice
    if grad_mode.is_grad_enabled() and (self.requires_grad or getattr(value, "requires_grad", False)):
        v = value if isinstance(value, Tensor) else Tensor._wrap(np.asanyarray(value, self._data.dtype))
        return self._inplace(_overwrite, v.to(self.dtype), opname=opname, overlap_ok=scalar)
    self._check_inplace(opname)
    writable(self._data, overlap_ok=scalar)[...] = value._data if isinstance(value, Tensor) else value
    self._version[0] += 1
    return self


def _overwrite(x, src):
    """x's values replaced by src's (broadcast): the old values get a zero gradient and
    src the sum of the gradient over where it landed, as x[...] = src."""
    return apply(I.INDEX_PUT, (x, S.expand(src, x.shape)), ((None, (Ellipsis,)),))


def zero_(self):
    return _fill(self, 0, "zero_")


def copy_(self, src):
    if src is self:
        return self  # as PyTorch: copying a tensor onto itself changes nothing
    src = src if isinstance(src, Tensor) else Tensor._wrap(np.asanyarray(src))
    if src._data.dtype != self._data.dtype:
        src = src.to(self.dtype)  # copy_ casts to the destination's dtype, as in PyTorch
    return self._inplace(_overwrite, src, opname="copy_")


def normal_(self, mean=0.0, std=1.0, generator=None):
    arr = _random._rng(generator).normal(mean, std, size=self._data.shape)
    return _fill(self, arr.astype(self._data.dtype), "normal_")


def uniform_(self, a=0.0, b=1.0, generator=None):
    arr = _random._rng(generator).uniform(a, b, size=self._data.shape)
    return _fill(self, arr.astype(self._data.dtype), "uniform_")


def bernoulli_(self, p=0.5, generator=None):
    arr = _random._rng(generator).random(self._data.shape) < p
    return _fill(self, arr.astype(self._data.dtype), "bernoulli_")


Tensor.fill_, Tensor.zero_, Tensor.copy_ = _fill, zero_, copy_
Tensor.normal_, Tensor.uniform_, Tensor.bernoulli_ = normal_, uniform_, bernoulli_


def _new(factory):
    # new_* tensors live where self does (the CPU) unless device= says otherwise
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return factory(*size, dtype=dtype or self.dtype, device=device or devices.CPU,
                       requires_grad=requires_grad, **kw)
    return method


def _install_factories():
    from . import creation as C
    Tensor.new_zeros = _new(C.zeros)
    Tensor.new_ones = _new(C.ones)
    Tensor.new_empty = _new(C.empty)
    Tensor.new_full = lambda self, size, value, dtype=None, device=None, requires_grad=False: \
        C.full(size, value, dtype=dtype or self.dtype, device=device or devices.CPU,
               requires_grad=requires_grad)
    Tensor.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: \
        C.tensor(data, dtype=dtype or self.dtype, device=device or devices.CPU,
                 requires_grad=requires_grad)


_install_factories()


# ---- NumPy functions on tensors ---------------------------------------------------
_UFUNCS = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.true_divide: E.div,
    np.floor_divide: E.div_floor, np.remainder: E.remainder, np.power: E.pow,
    np.negative: E.neg, np.absolute: E.abs, np.exp: E.exp, np.log: E.log, np.log2: E.log2,
    np.log1p: E.log1p, np.sqrt: E.sqrt, np.sin: E.sin, np.cos: E.cos, np.tanh: E.tanh,
    np.sign: E.sign, np.maximum: E.maximum_any, np.minimum: E.minimum_any, np.matmul: L.matmul,
    np.equal: E.eq, np.not_equal: E.ne, np.less: E.lt, np.less_equal: E.le,
    np.greater: E.gt, np.greater_equal: E.ge, np.logical_and: E.logical_and,
    np.logical_or: E.logical_or, np.logical_not: E.logical_not, np.square: E.square,
    np.bitwise_and: E.bitwise_and, np.bitwise_or: E.bitwise_or, np.isnan: E.isnan,
}


def _plain(v):
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return v


def _check_no_graph(name, args, kwargs):
    from ..autograd import grad_mode
    if not grad_mode.is_grad_enabled():
        return
    for v in (*args, *kwargs.values()):
        for t in (v if isinstance(v, (list, tuple)) else (v,)):
            if isinstance(t, Tensor) and t.requires_grad:
                raise GraphLostError(
                    f"numpy.{name} has no differentiable chainrule op, so it cannot be "
                    "called on a tensor that requires grad (the graph would be lost); use "
                    "chainrule operations, or .detach() the tensor")


def array_ufunc(ufunc, method, inputs, kwargs):
    fn = _UFUNCS.get(ufunc)
    if fn is not None and method == "__call__" and not kwargs:
        return fn(*[_operand(v, ufunc.__name__) for v in inputs])
    if ufunc is np.add and method == "reduce":
        return R.sum(inputs[0], kwargs.get("axis", 0), kwargs.get("keepdims", False))
    _check_no_graph(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}",
                    inputs, kwargs)
    result = getattr(ufunc, method)(*_plain(inputs), **{k: _plain(v) for k, v in kwargs.items()})
    return Tensor._wrap(result) if isinstance(result, np.ndarray) else result


def _np_sum(a, axis=None, keepdims=False, dtype=None, **kw):
    return R.sum(a, axis, keepdims)


_FUNCS = {
    np.sum: _np_sum,
    np.mean: lambda a, axis=None, keepdims=False, **kw: R.mean(a, axis, keepdims),
    np.reshape: lambda a, shape, **kw: S.reshape(_operand(a, "reshape"), shape),
    np.swapaxes: lambda a, x, y: S.transpose(a, x, y),
    np.transpose: lambda a, axes=None: S.permute(a, axes if axes is not None else tuple(reversed(range(a.ndim)))),
    np.broadcast_to: lambda a, shape, **kw: S.expand(a, shape),
    np.expand_dims: lambda a, axis: S.unsqueeze(a, axis),
    np.where: lambda c, x, y: E.where(c.bool() if isinstance(c, Tensor) else np.asanyarray(c, bool), x, y),
    np.concatenate: lambda arrays, axis=0, **kw: S.cat(arrays, axis),
    np.stack: lambda arrays, axis=0, **kw: S.stack(arrays, axis),
    np.flip: lambda a, axis: S.flip(a, axis),
    np.cumsum: lambda a, axis=None, **kw: R.cumsum(a, axis),
    np.clip: lambda a, lo, hi, **kw: E.clamp(_operand(a, "clip"), lo, hi),
}


def array_function(func, args, kwargs):
    fn = _FUNCS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    # no chainrule op: plain arrays, allowed only where no graph can be lost
    _check_no_graph(func.__name__, args, kwargs)
    return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})


# NumPy spellings used by the engine on gradients, which are tensors under create_graph
Tensor.astype = lambda self, dtype, copy=True: self.to(dtype)
