"""Binds the ordering, scatter, rearranging and einsum ops to Tensor as methods (and their
in-place forms), alongside those bound in tensor_methods."""
from .ops import arrange as A, einsum as ES, pointwise_extra as P, scan as SC
from .ops import scatter as SCT, sorting as SO
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

# a PyTorch method chainrule lacks says so by name (still an AttributeError)
Tensor.__getattr__ = tensor_getattr
