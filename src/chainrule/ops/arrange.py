"""Rearranging and repeating elements: repeat, repeat_interleave, roll, fliplr/flipud,
tril/triu, diag, diagonal, diag_embed and trace. Most are compositions of differentiable
ops (expand, reshape, index_select); tril/triu and diag_embed are Ops of their own."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply1
from ..tensors.views import make_view
from .indexing import _scatter_back, index_select
from .rules import tensor_rule
from .shape import _sizes, flip, permute


def repeat(x, *sizes):
    reps = _sizes(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                           f"than the number of dimensions of the tensor ({x.ndim})")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {list(reps)}")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    # (r0, s0, r1, s1, ...) by broadcasting x of shape (1, s0, 1, s1, ...), then merged
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = x.reshape(inter).expand(big)
    return out.reshape(tuple(r * s for r, s in zip(reps, shape)))


def repeat_interleave(x, repeats=None, dim=None, output_size=None):
    if repeats is None:  # repeat_interleave(counts): each index i repeated counts[i] times
        counts = x._data
        return Tensor._wrap(np.repeat(np.arange(counts.size), counts).astype(np.int64))
    if dim is None:
        x, dim = x.reshape(-1), 0
    d = x._dim(dim) if x.ndim else 0
    x = x.reshape(1) if x.ndim == 0 else x
    n = x._data.shape[d]
    r = repeats._data if isinstance(repeats, Tensor) else np.asanyarray(repeats)
    if r.ndim > 1 or (r.ndim == 1 and r.size not in (1, n)):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                           f"along dim ({n}), got shape {tuple(r.shape)}")
    if np.any(r < 0):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    return index_select(x, d, Tensor._wrap(np.repeat(np.arange(n), np.broadcast_to(r, (n,)))))


def roll(x, shifts, dims=None):
    if dims is None:
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dims must align, got {len(shifts)} shifts and "
                           f"{len(dims)} dims")
    for s, d in zip(shifts, dims):
        d = x._dim(d)
        n = x._data.shape[d]
        x = index_select(x, d, Tensor._wrap(np.roll(np.arange(n), int(s))))
    return x


def fliplr(x):
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be at least 2-dimensional, got {x.ndim}-D")
    return flip(x, 1)


def flipud(x):
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be at least 1-dimensional")
    return flip(x, 0)


def _tri(np_fn, name):
    op = Op(name, lambda x, k: np_fn(x, k), lambda g, o, x, k: np_fn_grad(g, k),
            saves_inputs=False)

    def np_fn_grad(g, k):
        return apply1(op, g, k) if isinstance(g, Tensor) else np_fn(g, k)

    def fn(x, diagonal=0):
        if x.ndim < 2:
            raise RuntimeError(f"{np_fn.__name__}: input tensor must have at least 2 "
                               f"dimensions, got {x.ndim}")
        return apply1(op, x, int(diagonal))
    fn.__name__ = np_fn.__name__
    return fn


tril = _tri(np.tril, "TrilBackward0")
triu = _tri(np.triu, "TriuBackward0")


def _diagonal_view(a, offset, index, shape):
    d = np.diagonal(a, offset, -2, -1)
    d.flags.writeable = a.flags.writeable  # NumPy marks it read-only; PyTorch's is a view
    return d


# the diagonal of the last two dims, a view; its gradient scatters g back onto it
DIAGONAL = Op("DiagonalBackward0", _diagonal_view,
              lambda g, o, a, offset, index, shape: _scatter_back(g, index, shape, None),
              saves_inputs=False)


def _diagonal_last(x, offset):
    rows, cols = x._data.shape[-2:]
    start_r, start_c = max(-offset, 0), max(offset, 0)
    i = np.arange(max(min(rows - start_r, cols - start_c), 0))
    out = apply1(DIAGONAL, x, offset, (Ellipsis, i + start_r, i + start_c), x._data.shape)
    return make_view(out, x, _diagonal_last, offset)


def diagonal(x, offset=0, dim1=0, dim2=1):
    d1, d2 = x._dim(dim1), x._dim(dim2)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({d1})")
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    return _diagonal_last(permute(x, rest + [d1, d2]), int(offset))


def _embed_fw(x, offset, d1, d2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    i = np.arange(x.shape[-1])
    out[..., i + max(-offset, 0), i + max(offset, 0)] = x
    return np.moveaxis(out, (-2, -1), (d1, d2))


DIAG_EMBED = Op("DiagEmbedBackward0", _embed_fw,
                tensor_rule(lambda g, o, x, offset, d1, d2: diagonal(g, offset, d1, d2)),
                saves_inputs=False)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    n = x.ndim + 1
    d1, d2 = dim1 % n, dim2 % n
    if not (-n <= dim1 < n and -n <= dim2 < n) or d1 == d2:
        raise RuntimeError(f"diag_embed: dim1={dim1} and dim2={dim2} must be distinct "
                           f"dimensions of the {n}-D result")
    return apply1(DIAG_EMBED, x, int(offset), d1, d2)


def diag(x, diagonal=0):
    if x.ndim == 1:
        return diag_embed(x, diagonal)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


def trace(x):
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


def tile(x, dims):
    dims = _sizes((dims,)) if not isinstance(dims, int) else (dims,)
    return repeat(x, *((1,) * (x.ndim - len(dims)) + tuple(dims)))


def movedim(x, source, destination):
    src = [x._dim(s) for s in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [x._dim(d) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must be "
                           "distinct dimensions, as many of each")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


def swapdims(x, dim0, dim1):
    return x.transpose(dim0, dim1)


def ravel(x):
    return x.reshape(-1)


def unflatten(x, dim, sizes):
    d = x._dim(dim)
    sizes = list(sizes)
    if sizes.count(-1) == 1:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = x.shape[d] // known if known else 0
    if int(np.prod(sizes)) != x.shape[d]:
        raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of "
                           f"dimension {d} ({x.shape[d]})")
    return x.reshape(tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


def take_along_dim(x, indices, dim=None):
    from .indexing import gather
    if dim is None:
        return take_along_dim(x.reshape(-1), indices.reshape(-1), 0)
    d = x._dim(dim)
    idx = indices._data
    idx = np.where(idx < 0, idx + x.shape[d], idx)  # negative indices count from the end
    shape = list(np.broadcast_shapes(tuple(s for k, s in enumerate(x.shape) if k != d) or (),
                                     tuple(s for k, s in enumerate(idx.shape) if k != d) or ()))
    xs = shape[:d] + [x.shape[d]] + shape[d:]
    ishape = shape[:d] + [idx.shape[d]] + shape[d:]
    return gather(x.expand(xs), d, Tensor._wrap(np.broadcast_to(idx, ishape).copy()))


def tensor_split(x, indices_or_sections, dim=0):
    d = x._dim(dim)
    n = x.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be positive, got {k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        bounds = np.cumsum([0] + sizes).tolist()
    else:
        bounds = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
    return tuple(x[(slice(None),) * d + (slice(lo, max(lo, hi)),)]
                 for lo, hi in zip(bounds[:-1], bounds[1:]))


def _split_along(x, sections, d, name):
    if isinstance(sections, int) and x.shape[d] % sections:
        raise RuntimeError(f"{name}: dimension {d} of size {x.shape[d]} is not divisible by "
                           f"{sections}")
    return tensor_split(x, sections, d)


def hsplit(x, sections):
    return _split_along(x, sections, 1 if x.ndim > 1 else 0, "hsplit")


def vsplit(x, sections):
    if x.ndim < 2:
        raise RuntimeError("vsplit: input must have at least 2 dimensions")
    return _split_along(x, sections, 0, "vsplit")


def dsplit(x, sections):
    if x.ndim < 3:
        raise RuntimeError("dsplit: input must have at least 3 dimensions")
    return _split_along(x, sections, 2, "dsplit")


def rot90(x, k=1, dims=(0, 1)):
    d0, d1 = x._dim(dims[0]), x._dim(dims[1])
    if d0 == d1:
        raise RuntimeError(f"rot90: dims must be different, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return flip(x, d1).transpose(d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(x, d0).transpose(d0, d1)
    return x.clone()


def diagflat(x, offset=0):
    return diag_embed(x.reshape(-1), offset)


from .unfold import unfold  # noqa: E402,F401  (a strided view, as Tensor.unfold)
