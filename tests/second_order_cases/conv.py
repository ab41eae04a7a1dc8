"""Second-order cases of the convolutions: conv (x, w, bias) is bilinear, so the
Hessian-vector products pin the cross terms, whose rules are the adjoint ops; the double
backward case differentiates a gradient, reaching the third level of rules."""


def _any(*shape):
    return ("any", shape)


def _double_backward(M, F, x, w, conv=None):
    y = (conv or F.conv2d)(x, w, padding=1, stride=2)
    (gx,) = M.autograd.grad((y * y).sum(), [x], create_graph=True)
    return gx


CASES = {
    "conv2d": (lambda M, F, L, x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=(1, 0),
                                                 dilation=(2, 1)) ** 2,
               [_any(2, 2, 5, 4), _any(3, 2, 2, 2), _any(3)]),
    "conv2d_groups_same": (lambda M, F, L, x, w: F.conv2d(x, w, padding="same", groups=2),
                           [_any(1, 4, 4, 3), _any(2, 2, 2, 3)]),
    "conv1d": (lambda M, F, L, x, w, b: F.conv1d(x, w, b, stride=2, padding=1) ** 2,
               [_any(2, 2, 6), _any(3, 2, 3), _any(3)]),
    "conv_transpose2d": (lambda M, F, L, x, w, b: F.conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=(1, 0)) ** 2,
        [_any(1, 2, 3, 3), _any(2, 2, 3, 2), _any(2)]),
    "conv_transpose1d": (lambda M, F, L, x, w: F.conv_transpose1d(
        x, w, stride=2, groups=2, dilation=2), [_any(2, 2, 4), _any(2, 1, 2)]),
    "conv2d_double_backward": (lambda M, F, L, x, w: _double_backward(M, F, x, w),
                               [_any(1, 2, 4, 4), _any(2, 2, 3, 3)]),
    "conv3d": (lambda M, F, L, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1),
                                                 dilation=(2, 1, 1), groups=2) ** 2,
               [_any(1, 4, 4, 4, 3), _any(2, 2, 2, 2, 2), _any(2)]),
    "conv3d_double_backward": (lambda M, F, L, x, w: _double_backward(M, F, x, w, F.conv3d),
                               [_any(1, 2, 3, 4, 4), _any(2, 2, 2, 3, 3)]),
    "conv_transpose3d": (lambda M, F, L, x, w, b: F.conv_transpose3d(
        x, w, b, stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0),
        dilation=(1, 2, 1)) ** 2, [_any(1, 2, 3, 2, 3), _any(2, 2, 3, 2, 2), _any(2)]),
}
