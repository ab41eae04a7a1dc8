"""The bands layout of the chunked convolution kernels (see conv_chunked.py): for small
images and for strides.

A chunk of k images is moved into a zero-framed (C, Hp, Wp, k) buffer: images innermost,
so a row of pixels holds OW·k contiguous numbers. It is copied once per kernel column j
(the columns that offset meets, with the column stride), each copy's rows split by their
phase modulo the row stride. The patches of kernel row i are then a band of OH
consecutive rows of those copies: a (C·KW, OH·OW·k) matrix that is a view. So the
forward is KH products (weights of row i times band i) summed, the weight gradient KH
products of the gradient with the bands; only KW copies are made, not KH·KW.

The input gradient mirrors it: the chunk's gradient is spread once per kernel column
into a zeroed buffer over whole padded rows, one product with the weights gives each
kernel row's contribution over those rows, and KH adds of whole row blocks put them
where the rows of the input are. Sums run in a fixed order: the same bits every run."""
import numpy as np

from . import conv_chunks as chunks

FORWARD_BYTES = 320 << 10   # per chunk: the copies, the chunk and its output
INPUT_BYTES = 1 << 20      # per chunk of the input gradient: spread gradient, products
MIN_IMAGES = 4              # a column stride reads one run of k numbers per pixel


def _phase_rows(s):
    return -(-s.hp // s.sh)


def plan(s, itemsize):
    """s with its chunk sizes, or None where a stride would leave chunks too small."""
    per_image = (s.c * s.kw * s.sh * _phase_rows(s) * s.ow + s.c * s.hp * s.wp
                 + s.o * s.oh * s.ow) * itemsize
    m = max(1, min(s.n, FORWARD_BYTES // per_image))
    if s.sw > 1 and m < min(s.n, MIN_IMAGES):
        return None
    per_image = ((s.o * s.kw + s.c * s.kh) * s.oh * s.wp + s.c * s.hp * s.wp) * itemsize
    return s._replace(m=m, m_in=max(1, min(s.n, INPUT_BYTES // per_image)))


def _input_buffers(x, s, *more):
    """Per chunk of k: the zero-framed chunk, its column copies, and one buffer of
    shape (*shape, k) per shape in `more`."""
    def make(k):
        return (np.zeros_like(x, shape=(s.c, s.hp, s.wp, k)),
                np.empty_like(x, shape=(s.c, s.kw, s.sh, _phase_rows(s), s.ow, k)),
                *(np.empty_like(x, shape=(*shape, k)) for shape in more))
    return chunks.Buffers(make)


def _shift(framed, shifted, x, n0, n1, s):
    """The chunk into its zero frame, then one copy per kernel column, rows by phase."""
    framed[:, s.pt:s.pt + s.h, s.pl:s.pl + s.w] = x[n0:n1].transpose(1, 2, 3, 0)
    for j in range(s.kw):
        cols = slice(j * s.dw, j * s.dw + s.sw * (s.ow - 1) + 1, s.sw)
        for phase in range(s.sh):
            rows = len(range(phase, s.hp, s.sh))
            shifted[:, j, phase, :rows] = framed[:, phase::s.sh, cols]


def _band(shifted, s, i):
    """Kernel row i's patches, (C·KW, OH·OW·k): consecutive rows of one phase, a view."""
    r = i * s.dh
    return shifted[:, :, r % s.sh, r // s.sh:r // s.sh + s.oh].reshape(s.c * s.kw, -1)


def forward(x, w, b, s):
    # products as (pixels, O): the move back to (k, O, OH, OW) then reads runs of O
    rows_of_w = [w[:, :, i, :].reshape(s.o, -1).T for i in range(s.kh)]
    bufs = _input_buffers(x, s)
    out = np.empty_like(x, shape=(s.n, s.o, s.oh, s.ow))

    def chunk(n0, n1):
        framed, shifted = bufs(n1 - n0)
        _shift(framed, shifted, x, n0, n1, s)
        total = np.matmul(_band(shifted, s, 0).T, rows_of_w[0])
        if b is not None:
            total += b
        for i in range(1, s.kh):
            total += np.matmul(_band(shifted, s, i).T, rows_of_w[i])
        out[n0:n1] = total.reshape(s.oh, s.ow, n1 - n0, s.o).transpose(2, 3, 0, 1)
    chunks.run(s.n, s.m, chunk)
    return out


def weight_grad(x, g, s):
    bufs = _input_buffers(x, s, (s.o, s.oh, s.ow))

    def chunk(n0, n1):
        framed, shifted, moved = bufs(n1 - n0)
        _shift(framed, shifted, x, n0, n1, s)
        moved[...] = g[n0:n1].transpose(1, 2, 3, 0)
        gm = moved.reshape(s.o, -1)
        return np.stack([np.matmul(gm, _band(shifted, s, i).T) for i in range(s.kh)])
    parts = chunks.run(s.n, s.m, chunk)
    total = chunks.ordered_sum(parts, np.zeros_like(x, shape=(s.kh, s.o, s.c * s.kw)))
    return total.reshape(s.kh, s.o, s.c, s.kw).transpose(1, 2, 0, 3)


def input_grad(g, w, s):
    # (C·KH, O·KW): row (c, i) holds w[o, c, i, j] at column (o, j)
    w_rows = w.transpose(1, 2, 0, 3).reshape(s.c * s.kh, s.o * s.kw)
    bufs = chunks.Buffers(lambda k: (np.empty_like(g, shape=(s.o, s.oh, s.ow, k)),
                                     np.zeros_like(g, shape=(s.o, s.kw, s.oh, s.wp, k)),
                                     np.empty_like(g, shape=(s.c, s.kh, s.oh, s.wp, k)),
                                     np.empty_like(g, shape=(s.c, s.hp, s.wp, k))))
    dx = np.empty_like(g, shape=(s.n, s.c, s.h, s.w))

    def chunk(n0, n1):
        moved, spread, rows, acc = bufs(n1 - n0)
        moved[...] = g[n0:n1].transpose(1, 2, 3, 0)  # one transposing copy, KW plain ones
        for j in range(s.kw):  # the columns kernel column j reaches; the rest stay zero
            spread[:, j, :, j * s.dw:j * s.dw + s.sw * (s.ow - 1) + 1:s.sw] = moved
        np.matmul(w_rows, spread.reshape(s.o * s.kw, -1), out=rows.reshape(s.c * s.kh, -1))
        acc[...] = 0
        for i in range(s.kh):
            target = acc[:, i * s.dh:i * s.dh + s.sh * (s.oh - 1) + 1:s.sh]
            np.add(target, rows[:, i], out=target)
        dx[n0:n1] = acc[:, s.pt:s.pt + s.h, s.pl:s.pl + s.w].transpose(3, 0, 1, 2)
    chunks.run(s.n, s.m_in, chunk)
    return dx
