"""Second-order cases of resampling and channel dropout: interpolation and pixel
(un)shuffle are linear, so each case squares the result, and `_through_gradient` cases
differentiate a gradient, reaching the adjoint's own rule."""
import numpy as np


def _any(*shape):
    return ("any", shape)


def _through_gradient(M, fn, x):
    (gx,) = M.autograd.grad((fn(x) ** 2).sum(), [x], create_graph=True)
    return gx * x


def _interpolations(M, F, x, mode, **kw):
    """The squared resampling and a gradient of it, side by side."""
    squared = (F.interpolate(x, mode=mode, **kw) ** 2).sum()
    return _through_gradient(M, lambda t: F.interpolate(t, mode=mode, **kw), x) + squared


def _channel_dropout(M, F, x, fn):
    # the libraries draw different masks: PyTorch multiplies by chainrule's mask
    if M.__name__ == "torch":
        return x * M.from_numpy(_channel_dropout.mask) * x
    import chainrule as cr
    cr.manual_seed(5)
    out = getattr(F, fn)(x, 0.5, training=True)
    _channel_dropout.mask = np.where(x._data != 0, out._data / x._data, 0.0)
    return out * x


CASES = {
    "interpolate": (lambda M, F, L, x: _interpolations(M, F, x, "nearest", scale_factor=1.7),
                    [_any(1, 2, 3, 4)]),
    "interpolate_nearest_1d": (lambda M, F, L, x: _interpolations(M, F, x, "nearest", size=7),
                               [_any(2, 2, 4)]),
    "interpolate_nearest_exact": (lambda M, F, L, x: _interpolations(
        M, F, x, "nearest-exact", size=(5, 2)), [_any(1, 2, 3, 4)]),
    "interpolate_nearest_exact_1d": (lambda M, F, L, x: _interpolations(
        M, F, x, "nearest-exact", scale_factor=0.6), [_any(2, 2, 6)]),
    "interpolate_bilinear": (lambda M, F, L, x: _interpolations(
        M, F, x, "bilinear", scale_factor=(1.7, 0.8)), [_any(1, 2, 3, 5)]),
    "interpolate_bilinear_align_corners": (lambda M, F, L, x: _interpolations(
        M, F, x, "bilinear", size=(4, 6), align_corners=True), [_any(1, 2, 3, 4)]),
    "interpolate_linear": (lambda M, F, L, x: _interpolations(M, F, x, "linear", size=9),
                           [_any(2, 2, 4)]),
    "interpolate_trilinear": (lambda M, F, L, x: _interpolations(
        M, F, x, "trilinear", scale_factor=(1.7, 0.8, 1.3)), [_any(1, 2, 3, 5, 2)]),
    "interpolate_trilinear_align_corners": (lambda M, F, L, x: _interpolations(
        M, F, x, "trilinear", size=(4, 2, 3), align_corners=True), [_any(1, 1, 3, 4, 2)]),
    "interpolate_nearest_3d": (lambda M, F, L, x: _interpolations(
        M, F, x, "nearest", size=(3, 5, 3)), [_any(1, 2, 2, 3, 4)]),
    "interpolate_nearest_exact_3d": (lambda M, F, L, x: _interpolations(
        M, F, x, "nearest-exact", scale_factor=(0.6, 1.5, 1.2)), [_any(1, 2, 5, 2, 3)]),
    "pixel_shuffle": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.pixel_shuffle(t, 2), x), [_any(1, 8, 2, 3)]),
    "pixel_unshuffle": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.pixel_unshuffle(t, 2), x), [_any(1, 2, 4, 2)]),
    "dropout1d": (lambda M, F, L, x: _channel_dropout(M, F, x, "dropout1d"), [_any(3, 4, 2)]),
    "dropout2d": (lambda M, F, L, x: _channel_dropout(M, F, x, "dropout2d"),
                  [_any(2, 4, 2, 2)]),
}
