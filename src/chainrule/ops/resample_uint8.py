"""Bilinear resampling of uint8 images as PyTorch's CPU kernel computes it: separable,
the width first and then the height (each only where its size changes), each pass
rounding to uint8. A pass's weights are computed in float64, scaled to int16 at the
largest precision its largest weight allows, and each output is the integer dot product
plus half a unit, shifted down and clamped to [0, 255]."""
import numpy as np


def _source(n_in, n_out, align_corners, scale):
    """Each output's real source position (float64), as area_pixel_compute_source_index."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return step * i
    step = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    return np.maximum(step * (i + 0.5) - 0.5, 0.0)


def _hat(x):
    """The linear filter: 1 - |x| inside (-1, 1), else 0."""
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def taps(n_in, n_out, align_corners, scale):
    """(first input index, int weights (n_out, 2), precision) of one axis. The last input
    index takes both taps' weights, as PyTorch folds a tap past the edge onto it."""
    real = _source(n_in, n_out, align_corners, scale)
    # the index floored in float32 (floorf), as PyTorch's guard does
    first = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n_in - 1)
    lam = np.clip(real - first, 0.0, 1.0)
    w0, w1 = _hat(-lam), _hat(1.0 - lam)
    at_edge = first == n_in - 1
    weights = np.stack([np.where(at_edge, w0 + w1, w0), np.where(at_edge, 0.0, w1)], -1)
    largest = weights.max(initial=0.0)
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = np.trunc(0.5 + weights * (1 << precision)).astype(np.int64)
    return first, scaled, precision


def _pass(x, axis, n_out, align_corners, scale):
    """One axis resampled, rounded to uint8."""
    n_in = x.shape[axis]
    first, weights, precision = taps(n_in, n_out, align_corners, scale)
    a = np.moveaxis(x, axis, -1).astype(np.int64)
    second = np.minimum(first + 1, n_in - 1)  # its weight is 0 where it would fall outside
    total = a[..., first] * weights[:, 0] + a[..., second] * weights[:, 1]
    total = (total + (1 << (precision - 1))) >> precision
    return np.moveaxis(np.clip(total, 0, 255).astype(np.uint8), -1, axis)


def bilinear_uint8(x, sizes, scales, align_corners):
    """(..., H, W) uint8 resampled to `sizes` (height, width)."""
    out = x
    if sizes[1] != x.shape[-1]:
        out = _pass(out, -1, sizes[1], align_corners, scales[1])
    if sizes[0] != x.shape[-2]:
        out = _pass(out, -2, sizes[0], align_corners, scales[0])
    return out.copy() if out is x else np.ascontiguousarray(out)
