"""Binds the ordering, scatter, rearranging and math ops to Tensor as methods (and their
in-place forms), alongside those bound in tensor_methods."""
from .ops import arrange as A, pointwise_extra as P, scan as SC
from .ops import scatter as SCT, sorting as SO, pointwise_math as PM, compound as C
from . import dtypes
from .ops.elementwise import where as _where
from .tensor import Tensor
from .unsupported import tensor_getattr

_METHODS = {
    SO: "sort argsort msort topk kthvalue median mode cummax cummin unique bincount",
    SCT: "scatter scatter_add index_add index_put scatter_ scatter_add_ index_add_ index_put_",
    A: "repeat repeat_interleave roll fliplr flipud tril triu diag diagonal diag_embed trace",
    P: "fmod nan_to_num",
    SC: "cumprod",
}
for _module, _names in _METHODS.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_module, _name))


def _inplace_method(fn, name):
    def method(self, *args, **kwargs):
        return self._inplace(lambda x, *a: fn(x, *a, **kwargs), *args, opname=name)
    method.__name__ = name
    return method


for _fn in (A.tril, A.triu, P.fmod, P.nan_to_num, SC.cumprod):
    setattr(Tensor, _fn.__name__ + "_", _inplace_method(_fn, _fn.__name__ + "_"))

# x.where(condition, y): x where condition holds, else y
Tensor.where = lambda self, condition, other: _where(condition, self, other)

_MORE = {
    PM: "tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan arcsinh arccosh "
        "arctanh log10 expm1 exp2 reciprocal frac deg2rad rad2deg logit sgn positive atan2 "
        "arctan2 hypot logaddexp logaddexp2 xlogy fmax fmin copysign",
    C: "lerp addcmul addcdiv addmm addmv addr baddbmm addbmm clamp_min clamp_max true_divide "
       "float_power diff kron cross nansum nanmean aminmax logcumsumexp",
    A: "tile movedim moveaxis swapdims ravel unflatten take_along_dim tensor_split hsplit "
       "vsplit dsplit rot90",
}
# bound only where no other module has defined the method already
for _module, _names in _MORE.items():
    for _name in _names.split():
        if _name not in vars(Tensor):
            setattr(Tensor, _name, getattr(_module, _name))


def _type_as(self, other):
    return self.to(other.dtype)


_INFO = {
    "is_cpu": property(lambda self: True),
    "itemsize": property(lambda self: self._data.itemsize),
    "nbytes": property(lambda self: self._data.nbytes),
    "is_signed": lambda self: self._data.dtype.kind in "if",
    "is_complex": lambda self: False,
    "is_inference": lambda self: False,
    "is_nonzero": lambda self: bool(self.item() != 0) if self.numel() == 1 else bool(self),
    "is_same_size": lambda self, other: tuple(self.shape) == tuple(other.shape),
    "type_as": _type_as,
    "byte": lambda self: self.to(dtypes.uint8),
    "char": lambda self: self.to(dtypes.int8),
    "short": lambda self: self.to(dtypes.int16),
    "greater_equal": lambda self, other: self >= other,
    "less_equal": lambda self, other: self <= other,
    "not_equal": lambda self, other: self != other,
}
for _name, _value in _INFO.items():
    if _name not in vars(Tensor):
        setattr(Tensor, _name, _value)

_INPLACE = ("sin cos tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan "
            "arcsinh arccosh arctanh floor ceil round trunc sign sgn square log1p log2 log10 "
            "rsqrt expm1 exp2 reciprocal frac deg2rad rad2deg logit erf cumsum "
            "multiply subtract divide true_divide negative atan2 arctan2 hypot xlogy copysign "
            "lerp addcmul addcdiv addmm addmv addr baddbmm addbmm clamp_min clamp_max "
            "float_power eq ne lt le gt ge greater less greater_equal less_equal not_equal "
            "logical_and logical_or logical_xor logical_not bitwise_not").split()
for _name in _INPLACE:
    if _name + "_" not in vars(Tensor) and hasattr(Tensor, _name):
        setattr(Tensor, _name + "_", _inplace_method(getattr(Tensor, _name), _name + "_"))

# a PyTorch method chainrule lacks says so by name (still an AttributeError)
Tensor.__getattr__ = tensor_getattr
