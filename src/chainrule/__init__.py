"""chainrule: deep learning on NumPy with PyTorch's API, as Dive into Deep Learning
teaches it. `import chainrule as torch` runs d2l and PyTorch code."""
from .tensors import dtypes
from .tensors.dtypes import (bool_ as bool, dtype, double, float, float16, float32, float64, half,
                     int, int8, int16, int32, int64, long, short, uint8,
                     get_default_dtype, set_default_dtype)
from .tensors.tensor import Size, Tensor
from .tensors.devices import device, get_default_device, set_default_device
from .tensors import methods  # noqa: F401  (binds ops to Tensor)
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .tensors.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, logspace, ones, ones_like, tensor,
                       zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like,
                     randn, randn_like, randperm, seed, set_rng_state)
from .ops.elementwise import (abs, add, allclose, bitwise_not, ceil, clamp, clip, cos, div,
                              eq, equal, erf, exp, floor, floor_divide, ge, gt, isclose, isfinite,
                              isinf, isnan, le, log, log1p, log2, logical_and, logical_not,
                              logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow,
                              relu, remainder, round, rsqrt, sigmoid, sign, sin, sqrt, square,
                              sub, tanh, trunc, where)
from .ops.reduction import (all, amax, amin, any, argmax, argmin, count_nonzero, cumsum, max,
                            mean, min, norm, prod, std, sum, var)
from .ops.softmax import log_softmax, logsumexp, softmax
from .ops.shape import (broadcast_to, cat, chunk, clone, concat, concatenate, expand, flatten,
                        flip, permute, reshape, split, squeeze, stack, swapaxes, t, transpose,
                        unbind, unsqueeze)
from .ops.linalg import bmm, dot, inner, matmul, mm, mv, outer
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .ops.conv_volumes import conv3d, conv_transpose3d
from .ops.indexing import gather, index_select, masked_fill, masked_select, nonzero, take
from .tensors import methods_ordering_scatter  # noqa: F401  (sorting, scatter, einsum, ... as methods)
from .ops.sorting import (argsort, bincount, cummax, cummin, kthvalue, median, mode, msort,
                          sort, topk, unique)
from .ops.scatter import index_add, index_put, scatter, scatter_add
from .ops.scatter_reduce import scatter_reduce
from .ops.arrange import (diag, diag_embed, diagonal, fliplr, flipud, repeat_interleave, roll,
                          trace, tril, triu)
from .ops.fmod_and_nan_to_num import fmod, nan_to_num
from .ops.scan import cumprod
from .ops.einsum import einsum
from .ops.pointwise_math import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                                 arctanh, asin, asinh, atan, atan2, atanh, copysign, cosh,
                                 deg2rad, exp2, expm1, fmax, fmin, frac, hypot, log10,
                                 logaddexp, logaddexp2, logit, positive, rad2deg, reciprocal,
                                 sgn, sinh, tan, xlogy)
from .ops.compound import (addbmm, addcdiv, addcmul, addmm, addmv, addr, aminmax, baddbmm,
                           clamp_max, clamp_min, cross, diff, float_power, kron, lerp,
                           logcumsumexp, nanmean, nansum, true_divide)
from .ops.arrange import (diagflat, dsplit, hsplit, movedim, moveaxis, ravel, rot90, swapdims,
                          take_along_dim, tensor_split, tile, unflatten, vsplit)
from .ops.sorting import histc, nanmedian, quantile, unique_consecutive
from .ops.scatter import index_copy, index_fill, masked_scatter
from .ops.pointwise_math import erfc, fix, isneginf, isposinf, isreal, signbit, sinc
from .ops.compound import corrcoef, cov, dist, ger, std_mean, var_mean, vdot
from .ops.special import digamma, erfinv, lgamma, polygamma
from .ops.combine import (atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes,
                          broadcast_tensors, cartesian_prod, column_stack, combinations,
                          dstack, hstack, meshgrid, row_stack, tensordot, vstack)
from .ops.searching import (bucketize, isin, searchsorted, tril_indices, triu_indices,
                            unravel_index)
from .tensors.function_forms import (adjoint, argwhere, can_cast, conj, conj_physical, detach, e, inf,
                               is_complex, is_floating_point, is_inference, is_nonzero,
                               is_same_size, is_signed, nan, narrow, newaxis, pi,
                               promote_types, real, resolve_conj, resolve_neg, result_type,
                               rsub, scalar_tensor, select)
from .tensors.printing import set_printoptions
from .tensors.type_info import finfo, iinfo
from .ops.heaviside import heaviside
from . import linalg
from .linalg import det, inv as inverse
from .threads import get_num_threads, set_num_threads, single_threaded_blas

# every BLAS and LAPACK call (products, einsum, solve, ...) rounds the same way on every
# run only at a fixed thread count; chainrule's products run their own parts in parallel
single_threaded_blas()

multiply, subtract, divide, negative, absolute = mul, sub, div, neg, abs
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
from .tensors.legacy_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                           HalfTensor, IntTensor, LongTensor, ShortTensor)
from .ops.bitwise import (bitwise_and, bitwise_left_shift, bitwise_or, bitwise_right_shift,
                          bitwise_xor)
from .tensors.out_arg import install as _install_out
_install_out(globals())  # out= on the functions that take it in PyTorch
__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(x):
    return x.numel()


_SUBMODULES = ("accelerator", "cuda", "nn", "optim", "utils", "vision", "d2l", "train",
               "serialization", "cli", "distributions", "viz")
_LAZY = {"save": "serialization", "load": "serialization", "summary": "viz.model_summary",
         "compile": "compiler",
         "save_safetensors": "serialization", "load_safetensors": "serialization"}


def __getattr__(name):
    # submodules load on first use, so `import chainrule` stays fast
    import importlib
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    from .compat.unsupported import missing
    raise missing("torch", name)  # names PyTorch has are reported as not supported
