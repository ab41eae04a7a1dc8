"""Convolution kernels that walk the batch in chunks small enough for the patches to stay
in the CPU's cache.

Copying a whole batch's patches (im2col) writes and then reads back an array of
C·KH·KW times the input's size; for d2l's small layers that round trip through memory
costs more than the products. Here a chunk of images at a time is copied into a buffer
of about a megabyte, multiplied while it is still cached, and the buffer reused for the
next chunk. Two layouts, chosen by the image's shape:

- rows (here): each padded image flattened; with stride 1 the pixels kernel offset
  (i, j) meets are one contiguous run of the flat image shifted by i·Wp + j, so a patch
  is one long copy. The output is computed over full padded rows (Wp columns, OW of
  them kept), which wastes Wp/OW of the work: the layout for wide images.
- bands (conv_bands.py): the chunk with its images innermost, copied once per kernel
  column; each kernel row is then a band of rows of those copies, a view. The layout
  for small images, and the one serving strides.

A geometry is conv_kernels' tuple (stride_h, stride_w, pad_top, pad_bottom, pad_left,
pad_right, dilation_h, dilation_w, groups). Buffers are made with zeros_like/empty_like
of the operands and written by slices, so a compile recording follows every step."""
from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..runtime import recording_hooks
from ..threads import single_threaded_blas
from . import conv_bands as bands
from . import conv_chunks as chunks

CHUNK_BYTES = 2 << 20   # rows layout: patches of one chunk, within the L2 and L3 caches
ROWS_WASTE = 1.25       # widest Wp/OW the rows layout is used for

# n, c, h, w: input; o, kh, kw: weight; oh, ow: output; hp, wp: padded input size;
# m: images per chunk (m_in: per chunk of the input gradient)
Shape = namedtuple("Shape", "n c h w o kh kw oh ow hp wp sh sw pt pl dh dw layout m m_in")


def plan(x_shape, w_shape, out_hw, geom, itemsize):
    """The chunked geometry of a convolution, or None where these kernels do not serve it
    (groups, 1×1 kernels, an empty batch, chunks too small to pay off)."""
    n, c, h, w = x_shape
    o, _, kh, kw = w_shape
    sh, sw, pt, pb, pl, pr, dh, dw, groups = geom
    if groups != 1 or n == 0 or kh * kw == 1 or 0 in out_hw:
        return None
    oh, ow = out_hw
    hp, wp = h + pt + pb, w + pl + pr
    s = Shape(n, c, h, w, o, kh, kw, oh, ow, hp, wp, sh, sw, pt, pl, dh, dw, "rows", 0, 0)
    in_bands = bands.plan(s._replace(layout="bands"), itemsize)
    if sh == sw == 1 and wp <= ROWS_WASTE * ow:
        m = max(1, min(n, CHUNK_BYTES // (c * kh * kw * itemsize * oh * wp)))
        return s._replace(m=m, m_in=in_bands.m_in if _bands_input(s) else m)
    return in_bands


def _bands_input(s):
    """Whether the input gradient goes through bands in the rows layout too: its one
    product has C·KH rows, too few to pay for it below about 8 (LeNet's first layer)."""
    return s.c * s.kh >= 8


def _offsets(s):
    for i in range(s.kh):
        for j in range(s.kw):
            yield i, j


# ---- rows layout -----------------------------------------------------------------------
def _flat_padded(x, s):
    """(N, C, Hp·Wp + slack): each image zero padded and flattened; the slack lets the
    last offset's run read past the last row (into columns that are thrown away)."""
    flat = np.zeros_like(x, shape=(s.n, s.c, s.hp * s.wp + s.dw * (s.kw - 1)))
    grid = flat[:, :, :s.hp * s.wp].reshape(s.n, s.c, s.hp, s.wp)
    grid[:, :, s.pt:s.pt + s.h, s.pl:s.pl + s.w] = x
    return flat


def _row_patches(buf, flat, n0, n1, s):
    """buf (k, C, KH, KW, OH·Wp): offset (i, j)'s pixels, one shifted run each. A
    plain array is copied through one strided view (one NumPy call per chunk, not
    KH·KW); a compile recording follows slices only, so a traced one by offsets (the
    same values)."""
    run = s.oh * s.wp
    if type(flat) is np.ndarray and recording_hooks.ACTIVE[0] is None:
        src = flat[n0:n1]
        strides = (*src.strides[:2], s.dh * s.wp * src.itemsize, s.dw * src.itemsize,
                   src.itemsize)
        np.copyto(buf, as_strided(src, buf.shape, strides))
        return
    for i, j in _offsets(s):
        start = i * s.dh * s.wp + j * s.dw
        buf[:, :, i, j] = flat[n0:n1, :, start:start + run]


def _row_gradient(gbuf, g, n0, n1, s):
    """g's chunk widened to padded rows; the extra columns stay zero."""
    gbuf[:, :, :, :s.ow] = g[n0:n1]
    return gbuf.reshape(n1 - n0, s.o, s.oh * s.wp)


def _rows_forward(x, wb, s):
    run, k_in = s.oh * s.wp, s.c * s.kh * s.kw
    flat = _flat_padded(x, s)
    out = np.empty_like(x, shape=(s.n, s.o, s.oh, s.ow))
    bufs = chunks.Buffers(lambda k: (np.empty_like(x, shape=(k, k_in + 1, run)),
                                     np.empty_like(x, shape=(k, s.o, run))))

    def chunk(n0, n1):
        buf, res = bufs(n1 - n0)
        buf[:, k_in] = 1  # the row the bias column multiplies
        _row_patches(buf[:, :k_in].reshape(n1 - n0, s.c, s.kh, s.kw, run), flat, n0, n1, s)
        np.matmul(wb, buf, out=res)
        out[n0:n1] = res.reshape(n1 - n0, s.o, s.oh, s.wp)[..., :s.ow]
    chunks.run(s.n, s.m, chunk)
    return out


def _rows_weight(x, g, s):
    """Σ over images of patches · gᵀ, one product per image of the chunk (each is a
    cache-sized product); per-chunk sums added in chunk order."""
    run, k_in = s.oh * s.wp, s.c * s.kh * s.kw
    flat = _flat_padded(x, s)
    bufs = chunks.Buffers(lambda k: (np.empty_like(x, shape=(k, s.c, s.kh, s.kw, run)),
                                     np.zeros_like(g, shape=(k, s.o, s.oh, s.wp)),
                                     np.empty_like(x, shape=(k, k_in, s.o))))

    def chunk(n0, n1):
        buf, gbuf, part = bufs(n1 - n0)
        _row_patches(buf, flat, n0, n1, s)
        gk = _row_gradient(gbuf, g, n0, n1, s)
        np.matmul(buf.reshape(n1 - n0, k_in, run), gk.transpose(0, 2, 1), out=part)
        return part.sum(axis=0)
    parts = chunks.run(s.n, s.m, chunk)
    return chunks.ordered_sum(parts, np.zeros_like(x, shape=(k_in, s.o))).T


def _rows_input(g, w, s):
    """Each image's column gradients (Wᵀ · g), summed back where each patch came from:
    one shifted add per kernel offset, in a chunk-sized buffer that stays cached."""
    run, k_in = s.oh * s.wp, s.c * s.kh * s.kw
    wt = w.reshape(s.o, k_in).T
    dx = np.empty_like(g, shape=(s.n, s.c, s.h, s.w))
    bufs = chunks.Buffers(lambda k: (
        np.zeros_like(g, shape=(k, s.o, s.oh, s.wp)),
        np.empty_like(g, shape=(k, s.c, s.kh, s.kw, run)),
        np.empty_like(g, shape=(k, s.c, s.hp * s.wp + s.dw * (s.kw - 1)))))

    def chunk(n0, n1):
        k = n1 - n0
        gbuf, cols, acc = bufs(k)
        gk = _row_gradient(gbuf, g, n0, n1, s)
        np.matmul(wt, gk, out=cols.reshape(k, k_in, run))
        acc[...] = 0
        for i, j in _offsets(s):
            start = i * s.dh * s.wp + j * s.dw
            target = acc[:, :, start:start + run]
            np.add(target, cols[:, :, i, j], out=target)
        grid = acc[:, :, :s.hp * s.wp].reshape(k, s.c, s.hp, s.wp)
        dx[n0:n1] = grid[:, :, s.pt:s.pt + s.h, s.pl:s.pl + s.w]
    chunks.run(s.n, s.m_in, chunk)
    return dx


# ---- entry points (4-D arrays of one float dtype) --------------------------------------
def forward(x, w, b, s):
    """conv2d of x (N, C, H, W) with w (O, C, KH, KW) plus b (or None)."""
    single_threaded_blas()
    if s.layout == "bands":
        return bands.forward(x, w, b, s)
    bias = np.zeros_like(w, shape=(s.o, 1)) if b is None else b.reshape(s.o, 1)
    wb = np.concatenate([w.reshape(s.o, -1), bias], axis=1)  # bias as one more column
    return _rows_forward(x, wb, s)


def weight_grad(x, g, s):
    """The gradient of conv2d in its weight, (O, C, KH, KW)."""
    single_threaded_blas()
    if s.layout == "bands":
        return bands.weight_grad(x, g, s)
    return _rows_weight(x, g, s).reshape(s.o, s.c, s.kh, s.kw)


def input_grad(g, w, s):
    """The gradient of conv2d in its input, (N, C, H, W)."""
    single_threaded_blas()
    if s.layout == "bands" or _bands_input(s):
        return bands.input_grad(g, w, s)
    return _rows_input(g, w, s)
