"""Resampling the last one, two or three dimensions: nearest and (bi/tri)linear
interpolation with PyTorch's source indices and weights (computed in float32 for float32
and float16 inputs, as its kernels do), and pixel (un)shuffle. All are linear maps: each
forward has its adjoint as gradient (ops/adjoint.py), so every order of derivative
follows."""
import itertools

import numpy as np

from .adjoint import adjoint_pair


def _opmath(dtype):
    return np.float64 if dtype == np.float64 else np.float32


def _scale(n_in, n_out, scale, kind):
    """PyTorch's compute_scales_value: 1/scale_factor when given, else in/out."""
    if scale is not None and scale > 0:
        return kind(1.0 / scale)
    return kind(n_in) / kind(n_out)


def nearest_source(n_in, n_out, scale, exact, shortcut):
    """Input index of each output index. `shortcut`: PyTorch's 2-D kernel maps equal sizes
    to the identity and doubled sizes to i // 2, whatever the scale factor."""
    if shortcut and not exact and n_out in (n_in, 2 * n_in):
        return np.arange(n_out) // (n_out // n_in)
    s = _scale(n_in, n_out, scale, np.float32)
    i = np.arange(n_out, dtype=np.float64)
    src = ((i + 0.5) if exact else i).astype(np.float32) * s
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)


def linear_source(n_in, n_out, align_corners, scale, dtype):
    """(index0, index1, weight0, weight1) of each output index along one axis."""
    kind = _opmath(dtype)
    if align_corners:
        s = kind(n_in - 1) / kind(n_out - 1) if n_out > 1 else kind(0)
        real = s * np.arange(n_out, dtype=kind)
    else:  # an axis whose size is kept is copied, whatever the scale factor
        s = _scale(n_in, n_out, None if n_in == n_out else scale, kind)
        real = np.maximum(_fma(s, np.arange(n_out, dtype=kind) + kind(0.5), kind(-0.5)), kind(0))
    # PyTorch floors in float (floorf) even for float64 sources
    index0 = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n_in - 1)
    weight1 = np.clip(real - index0, 0, 1).astype(dtype).astype(kind)
    weight0 = (dtype.type(1) - weight1.astype(dtype)).astype(kind)
    index1 = index0 + (index0 < n_in - 1)
    return index0, index1, weight0, weight1


def _fma(a, b, c):
    """a * b + c rounded once, as PyTorch's compiled kernels contract it: exact for float32
    through float64 (the product of two float32 is exact there)."""
    if np.asanyarray(a).dtype != np.float32:
        return a * b + c

    def wide(v):  # asanyarray: a compile recording's arrays stay followed
        return np.asanyarray(v).astype(np.float64)
    return (wide(a) * wide(b) + wide(c)).astype(np.float32)


def _grid(axes):
    return (Ellipsis,) + np.ix_(*axes)


def _nearest(x, axes, sizes):
    return x[_grid(axes)]


def _nearest_adjoint(g, axes, sizes):
    out = np.zeros_like(g, shape=g.shape[:g.ndim - len(sizes)] + sizes)
    np.add.at(out, _grid(axes), g)  # in output order, as PyTorch's backward adds
    return out


def _along(axes, k):
    """Axis k's (index0, index1, weight0, weight1), shaped to broadcast over the output's
    last len(axes) dims."""
    shape = (-1,) + (1,) * (len(axes) - k - 1)
    return tuple(a.reshape(shape) for a in axes[k])


def _blend(work, axes, picked):
    """The interpolation over the axes after those `picked`: the outermost axis's two
    neighbours blended last, each as index1 * weight1 + index0 * weight0 in one rounding,
    as PyTorch's kernels nest them."""
    i0, i1, w0, w1 = _along(axes, len(picked))
    if len(picked) == len(axes) - 1:
        low, high = work[(Ellipsis, *picked, i0)], work[(Ellipsis, *picked, i1)]
    else:
        low, high = _blend(work, axes, picked + (i0,)), _blend(work, axes, picked + (i1,))
    return _fma(high, w1, low * w0)


def _linear(x, axes, sizes):
    work = x.astype(axes[-1][2].dtype, copy=False)
    return _blend(work, axes, ()).astype(x.dtype, copy=False)


def _corners(axes, sizes):
    """Flat input index and weight of each output's 2**k corners, in the order PyTorch's
    backward adds them (the first axis's neighbour outermost)."""
    parts = [_along(axes, k) for k in range(len(sizes))]
    shape = tuple(len(a[0]) for a in axes)
    index, weight = [], []
    for corner in itertools.product((0, 1), repeat=len(sizes)):
        flat, w = 0, None
        for (i0, i1, w0, w1), size, high in zip(parts, sizes, corner):
            flat = flat * size + (i1 if high else i0)
            w = (w1 if high else w0) if w is None else w * (w1 if high else w0)
        index.append(np.broadcast_to(flat, shape))
        weight.append(np.broadcast_to(w, shape))
    return np.stack(index, -1), np.stack(weight, -1)


def _linear_adjoint(g, axes, sizes):
    index, weight = _corners(axes, sizes)
    lead = g.shape[:g.ndim - len(sizes)]
    out = np.zeros_like(g, dtype=weight.dtype, shape=lead + (int(np.prod(sizes)),))
    np.add.at(out, (Ellipsis, index), weight * g.astype(weight.dtype, copy=False)[..., None])
    return out.reshape(lead + sizes).astype(g.dtype, copy=False)


def _pair(mode, dims, forward, adjoint):
    name = f"Upsample{mode}{dims}D"
    return adjoint_pair(f"{name}Backward0", forward, f"{name}BackwardBackward0", adjoint)


NEAREST1D, NEAREST1D_ADJOINT = _pair("Nearest", 1, _nearest, _nearest_adjoint)
NEAREST2D, NEAREST2D_ADJOINT = _pair("Nearest", 2, _nearest, _nearest_adjoint)
NEAREST_EXACT1D, NEAREST_EXACT1D_ADJOINT = _pair("NearestExact", 1, _nearest,
                                                 _nearest_adjoint)
NEAREST_EXACT2D, NEAREST_EXACT2D_ADJOINT = _pair("NearestExact", 2, _nearest,
                                                 _nearest_adjoint)
LINEAR1D, LINEAR1D_ADJOINT = _pair("Linear", 1, _linear, _linear_adjoint)
BILINEAR2D, BILINEAR2D_ADJOINT = _pair("Bilinear", 2, _linear, _linear_adjoint)
NEAREST3D, NEAREST3D_ADJOINT = _pair("Nearest", 3, _nearest, _nearest_adjoint)
NEAREST_EXACT3D, NEAREST_EXACT3D_ADJOINT = _pair("NearestExact", 3, _nearest,
                                                 _nearest_adjoint)
TRILINEAR3D, TRILINEAR3D_ADJOINT = _pair("Trilinear", 3, _linear, _linear_adjoint)


def _shuffle(x, r):
    """(..., C*r*r, H, W) -> (..., C, H*r, W*r)."""
    if r == 1:
        return x.copy()  # a new tensor, never a view of the input
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = np.moveaxis(y, (-4, -3), (-3, -1))  # (..., C, H, r, W, r)
    return y.reshape(*lead, c // (r * r), h * r, w * r)  # a C-ordered copy


def _unshuffle(x, r):
    """(..., C, H*r, W*r) -> (..., C*r*r, H, W)."""
    if r == 1:
        return x.copy()
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = np.moveaxis(y, (-3, -1), (-4, -3))  # (..., C, r, r, H, W)
    return y.reshape(*lead, c * r * r, h // r, w // r)  # a C-ordered copy


PIXEL_SHUFFLE, PIXEL_UNSHUFFLE = adjoint_pair(
    "PixelShuffleBackward0", _shuffle, "PixelUnshuffleBackward0", _unshuffle)
