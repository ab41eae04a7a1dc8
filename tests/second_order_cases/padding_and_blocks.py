"""Second-order cases of pad (each mode; constant padding with negative widths crops)
and of unfold/fold (im2col/col2im, each the other's adjoint)."""


def _any(*shape):
    return ("any", shape)


CASES = {
    "pad": (lambda M, F, L, x: F.pad(x, (1, -1, 2, 0), value=0.5) ** 2, [_any(2, 3, 4)]),
    "pad_reflect": (lambda M, F, L, x: F.pad(x * x, (2, 1, 1, 2), mode="reflect") * 2,
                    [_any(1, 2, 3, 4)]),
    "pad_replicate": (lambda M, F, L, x: F.pad(x, (2, 3), mode="replicate") ** 2,
                      [_any(2, 3)]),
    "pad_circular": (lambda M, F, L, x: F.pad(x, (1, 2, -1, 1), mode="circular") ** 3,
                     [_any(1, 1, 3, 4)]),
    "unfold_fn": (lambda M, F, L, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1,
                                              stride=2) ** 2, [_any(1, 2, 4, 5)]),
    "fold": (lambda M, F, L, c: F.fold(c * c, (4, 5), 2, padding=1, stride=(1, 2)) * 2,
             [_any(1, 8, 15)]),
}
