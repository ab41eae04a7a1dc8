"""Shape operations. Those that NumPy can do as views share storage (and the version
counter) with their input, as PyTorch's view/reshape/slices do."""
import math

import numpy as np

from ..tensors import dtypes
from ..autograd.function import IndexedRule, Op
from ..tensors.tensor import Tensor, Size
from ..tensors.views import make_view, mark_multi
from .core import apply, apply1, promote
from .indexing import SLICE, basic_index

CAST = Op("ToCopyBackward0", dtypes.convert,
          lambda g, o, x, dt: g, saves_inputs=False)
def _clone_array(x):
    """A copy laid out as PyTorch's clone lays it out (so later views of it match): the
    input's memory order, and where it repeats memory (expand) PyTorch's ordering of the
    dims by stride, in which a stride-0 dim is left where it is."""
    if 0 not in x.strides:
        return np.copy(x, order="K")  # np.copy: a compile recording sees it
    strides = x.strides
    perm = list(range(x.ndim - 1, -1, -1))  # perm[0]: the fastest-moving dim
    for i in range(1, x.ndim):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            a, b = strides[perm[d0]], strides[perm[d1]]
            if a == 0 or b == 0:
                continue  # undecided: look further
            if a < b:
                break
            if a > b or x.shape[perm[d0]] > x.shape[perm[d1]]:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
    slow_first = perm[::-1]
    out = np.empty_like(x, shape=[x.shape[d] for d in slow_first], order="C")
    out = out.transpose(np.argsort(slow_first))
    out[...] = x
    return out


CLONE = Op("CloneBackward0", _clone_array, lambda g, o, x: g, saves_inputs=False)
RESHAPE = Op("ViewBackward0", lambda x, shape, old: np.reshape(x, shape),
             lambda g, o, x, shape, old: np.reshape(g, old), saves_inputs=False)
TRANSPOSE = Op("TransposeBackward0", lambda x, a, b: np.swapaxes(x, a, b),
               lambda g, o, x, a, b: np.swapaxes(g, a, b), saves_inputs=False)
PERMUTE = Op("PermuteBackward0", lambda x, dims: np.transpose(x, dims),
             lambda g, o, x, dims: np.transpose(g, tuple(np.argsort(dims).tolist())), saves_inputs=False)
# the same ops under the names PyTorch gives these calls
T_OP = TRANSPOSE.renamed("TBackward0")
UNSQUEEZE, SQUEEZE_ALL, SQUEEZE_DIM, SQUEEZE_DIMS = (RESHAPE.renamed(n) for n in (
    "UnsqueezeBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2"))
SPLIT, SPLIT_SIZES, UNBIND = (SLICE.renamed(n) for n in (
    "SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0"))
FLIP = Op("FlipBackward0", lambda x, dims: np.flip(x, dims).copy(),
          lambda g, o, x, dims: np.flip(g, dims), saves_inputs=False)
EXPAND = Op("ExpandBackward0", lambda x, shape: np.broadcast_to(x, shape),
            lambda g, o, x, shape: g, saves_inputs=False)  # the engine sums back to x's shape


def _view_of(out, x, fn, *args):
    """When NumPy returned a view of x's memory, `out` becomes the view `fn(x, *args)`:
    it shares x's version counter and can re-derive itself from x's base."""
    if out._data.base is not None and np.may_share_memory(out._data, x._data):
        make_view(out, x, fn, *args)
    return out


def cast(x, np_dtype):
    if x.requires_grad and np.dtype(np_dtype).kind != "f":
        out = Tensor._wrap(dtypes.convert(x._data, np_dtype))  # integers are not differentiable
        return out
    return apply1(CAST, x, np.dtype(np_dtype))


def clone(x, memory_format=None):
    return apply1(CLONE, x)


def _sizes(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size, np.ndarray)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    shape = _sizes(shape)
    old = x._data.shape
    n = x._data.size
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
            known * (1 if -1 not in shape else (n // known if known else 0)) != n) or (
            -1 in shape and known == 0):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n} "
                           f"(input shape {tuple(old)})")
    return _view_of(apply1(RESHAPE, x, shape, old), x, reshape, shape)


def view(x, *shape):
    """reshape that must not copy, as PyTorch's view; `view(dtype)` reinterprets memory."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        from .dtype_view import view_dtype
        return view_dtype(x, shape[0])
    out = reshape(x, *shape)
    if out._view is None and x._data.size > 1:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return out


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(x, start_dim=0, end_dim=-1):
    shp = x._data.shape
    if not shp:
        return reshape(x, 1)
    s, e = x._dim(start_dim), x._dim(end_dim)
    return reshape(x, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def _reshaped(x, shape, op):
    """A reshape to a shape known to be valid, recorded under `op`'s name."""
    return _view_of(apply1(op, x, shape, x._data.shape), x, reshape, shape)


def squeeze(x, dim=None):
    shp = x._data.shape
    if dim is None:
        return _reshaped(x, tuple(s for s in shp if s != 1), SQUEEZE_ALL)
    dims = {x._dim(d) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return _reshaped(x, tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1)),
                     SQUEEZE_DIMS if isinstance(dim, (tuple, list)) else SQUEEZE_DIM)


def unsqueeze(x, dim):
    n = x._data.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    dim %= n
    shp = x._data.shape
    return _reshaped(x, shp[:dim] + (1,) + shp[dim:], UNSQUEEZE)


def transpose(x, dim0, dim1):
    if x._data.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0, d1 = x._dim(dim0), x._dim(dim1)
    return _view_of(apply1(TRANSPOSE, x, d0, d1), x, transpose, d0, d1)


swapaxes = transpose


def t(x):
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    if x._data.ndim < 2:
        return x
    return _view_of(apply1(T_OP, x, 0, 1), x, t)


def permute(x, *dims):
    dims = _sizes(dims)
    if sorted(d % max(x._data.ndim, 1) for d in dims) != list(range(x._data.ndim)):
        raise RuntimeError(f"permute: dims {list(dims)} are not a permutation of the "
                           f"{x._data.ndim} dimensions of a tensor of shape {tuple(x.shape)}")
    dims = tuple(d % x._data.ndim for d in dims)
    return _view_of(apply1(PERMUTE, x, dims), x, permute, dims)


def expand(x, *sizes):
    sizes = _sizes(sizes)
    shp = x._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shp)})")
    full = (1,) * (len(sizes) - len(shp)) + shp
    target = tuple(f if s == -1 else s for s, f in zip(sizes, full))
    for s, f in zip(target, full):
        if f != 1 and s != f:
            raise RuntimeError(f"expand: the expanded size {s} must match the existing size {f} "
                               f"at a non-singleton dimension (shape {shp} to {sizes})")
    return _view_of(apply1(EXPAND, x, target), x, expand, target)


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, shape):
    return expand(x, shape)


def _cat_grad(i, g, o, *args):
    *arrays, dim, offsets = args
    index = [slice(None)] * g.ndim
    index[dim] = slice(offsets[i], offsets[i + 1])
    return g[tuple(index)]


def _tensors(tensors, opname):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{opname}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{opname}: expected a sequence of tensors, but item {i} is "
                            f"{type(t).__name__}")
    want = promote(*tensors)
    return [t if t._data.dtype == want else cast(t, want) for t in tensors]


_CAT = Op("CatBackward0", lambda *a: np.concatenate(a[:-2], axis=a[-2]),
          IndexedRule(_cat_grad), saves_inputs=False)
_STACK = Op("StackBackward0", lambda *a: np.stack(a[:-1], axis=a[-1]),
            IndexedRule(lambda i, g, o, *args: g[(slice(None),) * args[-1] + (i,)]),
            saves_inputs=False)


def cat(tensors, dim=0):
    tensors = _tensors(tensors, "cat")
    ref = tensors[0]
    d = ref._dim(dim)
    for i, t in enumerate(tensors):
        if t._data.ndim != ref._data.ndim or any(
                a != b for k, (a, b) in enumerate(zip(t._data.shape, ref._data.shape)) if k != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; "
                               f"tensor 0 has shape {tuple(ref.shape)} and tensor {i} has shape "
                               f"{tuple(t.shape)}")
    offsets = tuple(np.cumsum([0] + [t._data.shape[d] for t in tensors]).tolist())
    return apply(_CAT, tensors, (d, offsets))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _tensors(tensors, "stack")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t._data.shape != ref._data.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(ref.shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    n = ref._data.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dimension {dim} out of range for {n} dimensions")
    return apply(_STACK, tensors, (dim % n,))


def split(x, split_size_or_sections, dim=0):
    d = x._dim(dim)
    n = x._data.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sections {sizes} sum to {sum(sizes)}, but dimension {d} "
                               f"has size {n}")
    op = SPLIT if isinstance(split_size_or_sections, int) else SPLIT_SIZES
    out, start = [], 0
    for s in sizes:
        out.append(basic_index(x, (slice(None),) * d + (slice(start, start + s),), op))
        start += s
    return mark_multi(tuple(out), "Split" if isinstance(split_size_or_sections, int)
                      else "SplitWithSizes")


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    n = x._data.shape[x._dim(dim)]
    size = -(-n // chunks) if n else 1
    return split(x, max(size, 1), dim)


def unbind(x, dim=0):
    d = x._dim(dim)
    return mark_multi(tuple(basic_index(x, (slice(None),) * d + (i,), UNBIND)
                            for i in range(x._data.shape[d])), "Unbind")


def select(x, dim, index):
    """x[..., index, ...] along `dim`: a view."""
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d, n = x._dim(dim), x._data.shape[x._dim(dim)]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{tuple(x.shape)} at dimension {d}")
    return x[(slice(None),) * d + (int(index),)]


def narrow(x, dim, start, length):
    """`length` elements from `start` along `dim`: a view."""
    if x._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d, n = x._dim(dim), x._data.shape[x._dim(dim)]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def flip(x, dims):
    dims = tuple(x._dim(d) for d in (dims if isinstance(dims, (list, tuple)) else (dims,)))
    if len(set(dims)) != len(dims):
        repeated = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"flip: dim {repeated} appears multiple times in the list of dims")
    return apply1(FLIP, x, dims)
