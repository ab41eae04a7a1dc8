"""Resampling the last one or two dimensions: nearest and (bi)linear interpolation with
PyTorch's source indices and weights (computed in float32 for float32 and float16 inputs,
as its kernels do), and pixel (un)shuffle. All are linear maps: each forward has its
adjoint as gradient (ops/adjoint.py), so every order of derivative follows."""
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
    else:
        s = _scale(n_in, n_out, scale, kind)
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


def _linear(x, axes, sizes):
    work = x.astype(axes[-1][2].dtype, copy=False)
    c0, c1, wc0, wc1 = axes[-1]
    if len(axes) == 1:
        return _fma(work[..., c1], wc1, work[..., c0] * wc0).astype(x.dtype, copy=False)
    r0, r1, wr0, wr1 = (a[:, None] for a in axes[0])
    top = _fma(work[..., r0, c1], wc1, work[..., r0, c0] * wc0)
    bottom = _fma(work[..., r1, c1], wc1, work[..., r1, c0] * wc0)
    return _fma(bottom, wr1, top * wr0).astype(x.dtype, copy=False)


def _corners(axes, sizes):
    """Flat input index and weight of each output's 2 (1-D) or 4 (2-D) corners, in the
    order PyTorch's backward adds them."""
    c0, c1, wc0, wc1 = axes[-1]
    if len(axes) == 1:
        return np.stack([c0, c1], -1), np.stack([wc0, wc1], -1)
    r0, r1, wr0, wr1 = (a[:, None] for a in axes[0])
    width = sizes[-1]
    index = np.stack([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1], -1)
    weight = np.stack([wr0 * wc0, wr0 * wc1, wr1 * wc0, wr1 * wc1], -1)
    return index, weight


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
