"""Binds the ordering, scatter, rearranging and math ops to Tensor as methods (and their
in-place forms), alongside those bound in tensor_methods."""
import numpy as np

from . import dtypes
from ..ops import arrange as A, scan as SC
from ..ops import fmod_and_nan_to_num as P
from ..ops import scatter_reduce as SCR
from ..ops import scatter as SCT, sorting as SO, pointwise_math as PM, compound as C
from ..ops import special as G
from ..ops import elementwise as E
from ..ops.elementwise import where as _where
from .. import random as _random
from .tensor import Tensor
from .methods import _inplace_method
from ..compat.unsupported import tensor_getattr

_METHODS = {
    SO: "sort argsort msort topk kthvalue median mode cummax cummin unique bincount",
    SCT: "scatter scatter_add index_add index_put",
    A: "repeat repeat_interleave roll fliplr flipud tril triu diag diagonal diag_embed trace",
    P: "fmod nan_to_num",
    SC: "cumprod",
}
for _module, _names in _METHODS.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_module, _name))

for _fn in (A.tril, A.triu, P.fmod, P.nan_to_num, SC.cumprod, SCT.scatter, SCT.scatter_add,
            SCT.index_add, SCT.index_put, SCT.index_fill, SCT.index_copy, SCT.masked_scatter):
    setattr(Tensor, _fn.__name__ + "_", _inplace_method(_fn, _fn.__name__ + "_"))

# x.where(condition, y): x where condition holds, else y
Tensor.where = lambda self, condition, other: _where(condition, self, other)

_UNLESS_BOUND = {
    PM: "tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan arcsinh arccosh "
        "arctanh log10 expm1 exp2 reciprocal frac deg2rad rad2deg logit sgn positive atan2 "
        "arctan2 hypot logaddexp logaddexp2 xlogy fmax fmin copysign erfc sinc fix isneginf "
        "isposinf signbit isreal",
    C: "lerp addcmul addcdiv addmm addmv addr baddbmm addbmm clamp_min clamp_max true_divide "
       "float_power diff kron cross nansum nanmean aminmax logcumsumexp vdot ger dist cov "
       "corrcoef sum_to_size",
    A: "tile movedim moveaxis swapdims ravel unflatten take_along_dim tensor_split hsplit "
       "vsplit dsplit rot90 diagflat unfold",
    SO: "unique_consecutive quantile nanmedian histc",
    SCT: "index_fill index_copy masked_scatter",
    E: "bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift",
    G: "lgamma erfinv",
}
# bound only where no other module has defined the method already
for _module, _names in _UNLESS_BOUND.items():
    for _name in _names.split():
        if _name not in vars(Tensor):
            setattr(Tensor, _name, getattr(_module, _name))


def _type_as(self, other):
    return self.to(other.dtype)


def _fill_with(draw, name):
    """In-place random fill from chainrule's global generator (or `generator=`)."""
    def method(self, *args, generator=None, **kwargs):
        arr = draw(_random._rng(generator), self._data.shape, *args, **kwargs)
        return self.fill_(arr.astype(self._data.dtype))
    method.__name__ = name
    return method


def _random_ints(rng, shape, low=0, high=None):
    if high is None:  # random_(to): [0, to); random_(): PyTorch's full mantissa range
        low, high = (0, low) if low else (0, 2 ** 24)
    return rng.integers(low, high, size=shape)


_RANDOM = {
    "random_": _random_ints,
    "exponential_": lambda rng, shape, lambd=1.0: rng.exponential(1 / lambd, size=shape),
    "log_normal_": lambda rng, shape, mean=1.0, std=2.0: rng.lognormal(mean, std, size=shape),
    "cauchy_": lambda rng, shape, median=0.0, sigma=1.0: median + sigma * rng.standard_cauchy(shape),
    "geometric_": lambda rng, shape, p: rng.geometric(p, size=shape),
}
for _name, _draw in _RANDOM.items():
    if _name not in vars(Tensor):
        setattr(Tensor, _name, _fill_with(_draw, _name))


def fill_diagonal_(self, fill_value, wrap=False):
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: expected a matrix or a tensor with all dimensions "
                           f"equal, got shape {tuple(self.shape)}")
    mask = np.zeros(self._data.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    value = Tensor._wrap(np.asanyarray(fill_value).astype(self._data.dtype))
    return self._inplace(lambda x: _where(Tensor._wrap(mask), value, x), opname="fill_diagonal_")


_INFO = {
    "fill_diagonal_": fill_diagonal_,
    "argwhere": lambda self: self.nonzero(),
    "polygamma": lambda self, n: G.polygamma(n, self),
    "digamma": lambda self: G.digamma(self),
    "bernoulli": lambda self, generator=None: _random.bernoulli(self, generator=generator),
    "multinomial": lambda self, num_samples, replacement=False, generator=None:
        _random.multinomial(self, num_samples, replacement, generator=generator),
    "conj": lambda self: self,  # real tensors only: conjugation changes nothing
    "resolve_conj": lambda self: self,
    "resolve_neg": lambda self: self,
    "conj_physical": lambda self: self.clone(),
    "is_conj": lambda self: False,
    "is_neg": lambda self: False,
    "real": property(lambda self: self),
    "H": property(lambda self: self.T),
    "mH": property(lambda self: self.mT),
    "adjoint": lambda self: self.mT,
    "is_pinned": lambda self: False,
    "pin_memory": lambda self: self,
    "share_memory_": lambda self: self,
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

_PRODUCTS = "addmm addmv addr baddbmm addbmm".split()  # operands of other shapes than self
_INPLACE = ("sin cos tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan "
            "arcsinh arccosh arctanh floor ceil round trunc sign sgn square log1p log2 log10 "
            "rsqrt expm1 exp2 reciprocal frac deg2rad rad2deg logit erf cumsum "
            "multiply subtract divide true_divide negative atan2 arctan2 hypot xlogy copysign "
            "lerp addcmul addcdiv addmm addmv addr baddbmm addbmm clamp_min clamp_max "
            "float_power eq ne lt le gt ge greater less greater_equal less_equal not_equal "
            "logical_and logical_or logical_xor logical_not bitwise_not bitwise_and "
            "bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift erfc fix sinc absolute lgamma digamma erfinv").split()
for _name in _INPLACE:
    if _name + "_" not in vars(Tensor) and hasattr(Tensor, _name):
        setattr(Tensor, _name + "_", _inplace_method(getattr(Tensor, _name), _name + "_",
                                                     _name not in _PRODUCTS))

for _name in ("heaviside", "polygamma", "conj_physical"):
    if _name + "_" not in vars(Tensor):
        setattr(Tensor, _name + "_", _inplace_method(getattr(Tensor, _name), _name + "_"))


def _shape_inplace(name):
    """x.unsqueeze_(0), x.t_(), ...: x itself takes the view's shape and history."""
    fn = getattr(Tensor, name)

    def method(self, *args):
        self._check_inplace(name + "_")
        out = fn(self, *args)
        if out is self:
            return self
        self._data = out._data
        if self._view is not None:  # re-derived from its base with this step too
            info = self._view
            self._view = (info[0], info[1] + ((fn, args),)) + info[2:]
        if out.grad_fn is not None:
            from .views import set_history
            set_history(self, _as_inplace_node(out.grad_fn))
        return self
    method.__name__ = name + "_"
    return method


# PyTorch names the in-place forms' nodes apart: x.unsqueeze_(0) is UnsqueezeBackward1
_INPLACE_NODE_NAMES = {"UnsqueezeBackward0": "UnsqueezeBackward1",
                       "SqueezeBackward0": "SqueezeBackward3",
                       "SqueezeBackward1": "SqueezeBackward4",
                       "SqueezeBackward2": "SqueezeBackward5",
                       "TBackward0": "TBackward1", "TransposeBackward0": "TransposeBackward1"}
_INPLACE_OPS = {}


def _as_inplace_node(node):
    """The node under the in-place name: the same rules, the in-place op's node type."""
    name = _INPLACE_NODE_NAMES.get(node.op.name)
    if name is not None:
        op = _INPLACE_OPS.get(name)
        if op is None:
            op = _INPLACE_OPS[name] = node.op.renamed(name)
        node.op = op
        node.__class__ = op.node_cls
    return node


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", _shape_inplace(_name))

Tensor.scatter_reduce = SCR.scatter_reduce
Tensor.scatter_reduce_ = _inplace_method(SCR.scatter_reduce, "scatter_reduce_")

# a PyTorch method chainrule lacks says so by name (still an AttributeError)
Tensor.__getattr__ = tensor_getattr
