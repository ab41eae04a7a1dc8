"""Second-order cases of pooling. Max pooling is linear once its winners are fixed and the
average pools are linear, so each case squares the pool (a nonzero Hessian) and a
`_through_gradient` case differentiates a gradient, reaching the adjoint's own rule."""


def _any(*shape):
    return ("any", shape)


def _through_gradient(M, pool, x):
    """The gradient of sum(pool(x)^2) with create_graph, times x: its graph holds the
    pool's backward op, whose gradient is the pool with the winners fixed."""
    (gx,) = M.autograd.grad((pool(x) ** 2).sum(), [x], create_graph=True)
    return gx * x


def _unpooled(F, x, pool, unpool, kernel, **kw):
    """The squared pooled values written back at their winners: the unpool's gradient
    gathers at the indices, and its own gradient scatters again."""
    values, indices = pool(x, kernel, return_indices=True, **kw)
    return unpool(values ** 2, indices, kernel, **kw) * 2


CASES = {
    "max_pool2d": (lambda M, F, L, x: F.max_pool2d(x, 3, stride=2, padding=1) ** 2,
                   [_any(2, 2, 5, 6)]),
    "max_pool2d_dilated_ceil": (lambda M, F, L, x: F.max_pool2d(
        x, (2, 3), stride=(2, 1), padding=(1, 1), dilation=(2, 1), ceil_mode=True) ** 2,
        [_any(1, 2, 6, 5)]),
    "max_pool2d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.max_pool2d(t, 2, stride=1), x), [_any(1, 2, 4, 4)]),
    "max_pool1d": (lambda M, F, L, x: F.max_pool1d(x, 3, stride=2, padding=1,
                                                   return_indices=True)[0] ** 2,
                   [_any(2, 3, 7)]),
    "avg_pool2d": (lambda M, F, L, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                   count_include_pad=False) ** 2,
                   [_any(2, 2, 6, 5)]),
    "avg_pool2d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.avg_pool2d(t, 2, stride=1, divisor_override=3), x), [_any(1, 2, 4, 3)]),
    "avg_pool1d": (lambda M, F, L, x: F.avg_pool1d(x, 2, padding=1) ** 2, [_any(2, 2, 5)]),
    "adaptive_avg_pool2d": (lambda M, F, L, x: F.adaptive_avg_pool2d(x, (3, 2)) ** 2,
                            [_any(2, 2, 7, 5)]),
    "adaptive_avg_pool2d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.adaptive_avg_pool2d(t, (2, 3)), x), [_any(1, 2, 5, 4)]),
    "adaptive_avg_pool1d": (lambda M, F, L, x: F.adaptive_avg_pool1d(x, 3) ** 2
                            + F.adaptive_avg_pool1d(x, 1), [_any(2, 2, 7)]),
    "adaptive_max_pool2d": (lambda M, F, L, x: F.adaptive_max_pool2d(x, (3, 2)) ** 2,
                            [_any(2, 2, 7, 5)]),
    "adaptive_max_pool2d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.adaptive_max_pool2d(t, 3), x), [_any(1, 2, 5, 4)]),
    "adaptive_max_pool1d": (lambda M, F, L, x: F.adaptive_max_pool1d(
        x, 4, return_indices=True)[0] ** 2, [_any(2, 2, 7)]),
    "max_pool3d": (lambda M, F, L, x: F.max_pool3d(x, (2, 3, 2), stride=(1, 2, 2),
                                                   padding=(1, 1, 0), ceil_mode=True) ** 2,
                   [_any(1, 2, 3, 5, 4)]),
    "max_pool3d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.max_pool3d(t, 2, stride=1, dilation=(1, 2, 1)), x),
        [_any(1, 1, 3, 4, 3)]),
    "avg_pool3d": (lambda M, F, L, x: F.avg_pool3d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                   count_include_pad=False) ** 2,
                   [_any(1, 2, 4, 5, 3)]),
    "avg_pool3d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.avg_pool3d(t, 2, stride=1, divisor_override=3), x),
        [_any(1, 1, 3, 3, 4)]),
    "adaptive_avg_pool3d": (lambda M, F, L, x: F.adaptive_avg_pool3d(x, (2, 3, 2)) ** 2,
                            [_any(1, 2, 5, 4, 3)]),
    "adaptive_max_pool3d": (lambda M, F, L, x: F.adaptive_max_pool3d(
        x, (2, 3, 2), return_indices=True)[0] ** 2, [_any(1, 2, 5, 4, 3)]),
    "adaptive_max_pool3d_through_gradient": (lambda M, F, L, x: _through_gradient(
        M, lambda t: F.adaptive_max_pool3d(t, 2), x), [_any(1, 1, 3, 4, 3)]),
    "max_unpool1d": (lambda M, F, L, x: _unpooled(F, x, F.max_pool1d, F.max_unpool1d, 2),
                     [_any(2, 2, 6)]),
    "max_unpool2d": (lambda M, F, L, x: _unpooled(F, x, F.max_pool2d, F.max_unpool2d,
                                                  (2, 3), stride=(2, 3), padding=(1, 1)),
                     [_any(1, 2, 2, 4)]),
    "max_unpool3d": (lambda M, F, L, x: _through_gradient(
        M, lambda t: _unpooled(F, t, F.max_pool3d, F.max_unpool3d, 2), x),
        [_any(1, 1, 4, 4, 2)]),
}
