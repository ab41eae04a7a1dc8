"""Convolution kernels on NumPy arrays: im2col as a strided view copied once, one BLAS
product per layer through `threads.matmul` (deterministic parts), and col2im as one
strided add per kernel offset (no np.add.at).

A geometry is a plain tuple (stride_h, stride_w, pad_top, pad_bottom, pad_left,
pad_right, dilation_h, dilation_w, groups). conv1d's 3-D arrays (N, C, W) run as 2-D ones
with a height of 1; a spatial size is always (height, width). float16 is computed in
float32 and rounded once at the end, as PyTorch's CPU kernels do."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..threads import matmul as gemm
from . import conv_chunked as chunked


def as_4d(a):
    """conv1d's (N, C, W) as (N, C, 1, W): a view."""
    return a[:, :, None, :] if a.ndim == 3 else a


def spatial(a):
    """(height, width) of an (N, C, H, W) or (N, C, W) array."""
    return (1, a.shape[2]) if a.ndim == 3 else tuple(a.shape[2:])


def out_length(n, pad_lo, pad_hi, k, stride, dilation):
    return (n + pad_lo + pad_hi - dilation * (k - 1) - 1) // stride + 1


def out_spatial(hw, khw, geom):
    sh, sw, pt, pb, pl, pr, dh, dw = geom[:8]
    return (out_length(hw[0], pt, pb, khw[0], sh, dh), out_length(hw[1], pl, pr, khw[1], sw, dw))


def _in_float32(fn):
    """float16 operands computed in float32, the result rounded once to float16."""
    def wrapped(a, b, *rest):
        if a.dtype != np.float16:
            return fn(a, b, *rest)
        rest = tuple(r.astype(np.float32) if isinstance(r, np.ndarray) else r for r in rest)
        return fn(a.astype(np.float32), b.astype(np.float32), *rest).astype(np.float16)
    wrapped.__name__ = fn.__name__
    return wrapped


def _padded(x4, geom):
    pt, pb, pl, pr = geom[2:6]
    if not (pt or pb or pl or pr):
        return x4
    n, c, h, w = x4.shape
    # zeros_like/setitem rather than np.zeros: a compile recording follows both
    xp = np.zeros_like(x4, shape=(n, c, h + pt + pb, w + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + w] = x4
    return xp


def _windows(xp, khw, geom, out_hw):
    """The (N, C, OH, OW, KH, KW) patches of the padded input: a strided view."""
    sh, sw, dh, dw = geom[0], geom[1], geom[6], geom[7]
    kh, kw = khw
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xp, span, axis=(2, 3))
    return view[:, :, :sh * (out_hw[0] - 1) + 1:sh, :sw * (out_hw[1] - 1) + 1:sw, ::dh, ::dw]


def _offset_view(xp, i, j, geom, out_hw):
    """The (N, C, OH, OW) pixels that kernel offset (i, j) meets: a strided slice."""
    sh, sw, dh, dw = geom[0], geom[1], geom[6], geom[7]
    top, left = i * dh, j * dw
    return xp[:, :, top:top + sh * (out_hw[0] - 1) + 1:sh, left:left + sw * (out_hw[1] - 1) + 1:sw]


def patches(x4, khw, geom, out_hw, order):
    """The patches with axes (N, C, OH, OW, KH, KW) permuted by `order`, ready to be
    reshaped into a matrix (the reshape makes the one copy). A compile recording follows
    slices and writes but not the strided window view, so a traced array is copied one
    kernel offset at a time instead (the same values)."""
    xp = _padded(x4, geom)
    if type(xp) is np.ndarray:
        return _windows(xp, khw, geom, out_hw).transpose(order)
    full = (*x4.shape[:2], *out_hw, *khw)
    out = np.empty_like(xp, shape=tuple(full[a] for a in order))
    rest = [a for a in order if a < 4]  # where N, C, OH, OW sit among the other axes
    for i in range(khw[0]):
        for j in range(khw[1]):
            where = tuple(i if a == 4 else j if a == 5 else slice(None) for a in order)
            out[where] = _offset_view(xp, i, j, geom, out_hw).transpose(rest)
    return out


def im2col(x4, khw, geom, out_hw):
    """Patches as (N, C·KH·KW, OH·OW) (the copy's inner loop runs along OW)."""
    n, c = x4.shape[:2]
    cols = patches(x4, khw, geom, out_hw, (0, 1, 4, 5, 2, 3))
    return cols.reshape(n, c * khw[0] * khw[1], out_hw[0] * out_hw[1])


def _chunked_plan(x_shape, w_shape, out_hw, geom, dtype):
    """conv_chunked's plan where it serves these shapes (float arrays), else None."""
    if dtype.kind != "f":
        return None
    return chunked.plan(x_shape, w_shape, out_hw, geom, dtype.itemsize)


def _grouped_weight(w4, groups):
    o = w4.shape[0]
    flat = w4.reshape(o, -1)
    return flat if groups == 1 else flat.reshape(groups, o // groups, -1)


@_in_float32
def conv_forward(x, w, b, geom, out_hw):
    """conv{1,2}d: each output pixel is the weight times its patch, plus the bias."""
    x4, w4 = as_4d(x), as_4d(w)
    n, groups, o = x4.shape[0], geom[8], w4.shape[0]
    plan = _chunked_plan(x4.shape, w4.shape, out_hw, geom, x4.dtype)
    if plan is not None:
        out = chunked.forward(x4, w4, b, plan)
        return out.reshape(n, o, out_hw[1]) if x.ndim == 3 else out
    cols = im2col(x4, w4.shape[2:], geom, out_hw)
    if groups > 1:
        cols = cols.reshape(n, groups, -1, cols.shape[-1])
    out = gemm(_grouped_weight(w4, groups), cols)     # (N, [G,] O/G, OH·OW)
    out = out.reshape(n, o, *out_hw)
    if b is not None:
        out += b.reshape(o, 1, 1)
    return out.reshape(n, o, out_hw[1]) if x.ndim == 3 else out


def col2im(cols, x_shape, khw, geom):
    """Adjoint of im2col: cols (N, C, KH, KW, OH, OW) summed back where each patch came
    from, into an (N, C, H, W) array; one strided add per kernel offset."""
    n, c, h, w = x_shape
    pt, pb, pl, pr = geom[2:6]
    out = np.zeros_like(cols, shape=(n, c, h + pt + pb, w + pl + pr))
    for i in range(khw[0]):
        for j in range(khw[1]):
            target = _offset_view(out, i, j, geom, cols.shape[-2:])
            np.add(target, cols[:, :, i, j], out=target)
    if pt or pb or pl or pr:
        out = out[:, :, pt:pt + h, pl:pl + w].copy()
    return out


def _conv_input(g, w, geom, x_hw):
    """The adjoint of conv in its input (conv_transpose without bias): each output
    pixel's gradient spread over its patch by the weight."""
    g4, w4 = as_4d(g), as_4d(w)
    n, o, oh, ow = g4.shape
    groups, cg, (kh, kw) = geom[8], w4.shape[1], w4.shape[2:]
    plan = _chunked_plan((n, groups * cg, *x_hw), w4.shape, (oh, ow), geom, g4.dtype)
    if plan is not None:
        out = chunked.input_grad(g4, w4, plan)
        return out.reshape(n, cg, x_hw[1]) if g.ndim == 3 else out
    wt = np.swapaxes(_grouped_weight(w4, groups), -1, -2)   # ([G,] Cg·KH·KW, O/G)
    gg = g4.reshape(n, o, oh * ow) if groups == 1 else g4.reshape(n, groups, o // groups, oh * ow)
    cols = gemm(wt, gg).reshape(n, groups * cg, kh, kw, oh, ow)
    out = col2im(cols, (n, groups * cg, *x_hw), (kh, kw), geom)
    return out.reshape(n, groups * cg, x_hw[1]) if g.ndim == 3 else out


conv_input = _in_float32(_conv_input)


@_in_float32
def transpose_forward(x, w, b, geom, out_hw):
    """conv_transpose{1,2}d: conv's input adjoint applied to x, plus the bias."""
    out = _conv_input(x, w, geom, out_hw)
    if b is not None:
        out += b.reshape(-1, *(1,) * (out.ndim - 2))
    return out


@_in_float32
def conv_weight(x, g, geom, khw):
    """The adjoint of conv in its weight: the gradient times the patches, summed over the
    batch and the pixels. With fewer output channels than pixels per image (most layers
    of a small network) one product per image, summed over the batch, is faster than one
    long product, and its (N, O, C·KH·KW) products are no larger than the patches;
    otherwise one product per group over the whole batch."""
    x4, g4 = as_4d(x), as_4d(g)
    n, c = x4.shape[:2]
    o, oh, ow = g4.shape[1:]
    groups, kk = geom[8], (c // geom[8]) * khw[0] * khw[1]
    plan = _chunked_plan(x4.shape, (o, c // groups, *khw), (oh, ow), geom, x4.dtype)
    if plan is not None:
        out = chunked.weight_grad(x4, g4, plan)
        return out.reshape(o, c, khw[1]) if x.ndim == 3 else out
    if o <= oh * ow:
        cols = im2col(x4, khw, geom, (oh, ow)).reshape(n, groups, kk, oh * ow)
        per_image = gemm(g4.reshape(n, groups, o // groups, oh * ow), np.swapaxes(cols, -1, -2))
        out = per_image.sum(axis=0)
    else:
        cols = patches(x4, khw, geom, (oh, ow), (1, 4, 5, 0, 2, 3))
        cols = cols.reshape(groups, kk, n * oh * ow)
        gt = g4.transpose(1, 0, 2, 3).reshape(groups, o // groups, n * oh * ow)
        out = gemm(gt, np.swapaxes(cols, -1, -2))
    out = out.reshape(o, c // groups, *khw)
    return out.reshape(o, c // groups, khw[1]) if x.ndim == 3 else out


def bias_grad(g):
    """The bias gradient: g summed over all but the channel dimension (float16 in a float32
    accumulator)."""
    axes = (0,) + tuple(range(2, g.ndim))
    if g.dtype == np.float16:
        return g.sum(axis=axes, dtype=np.float32).astype(np.float16)
    return g.sum(axis=axes)
