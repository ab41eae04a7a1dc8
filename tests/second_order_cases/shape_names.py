"""Second-order cases of the shape ops PyTorch names apart: squeeze over a tuple of dims
(SqueezeBackward2) and the in-place shape methods (UnsqueezeBackward1, TBackward1, ...)."""
CASES = {
    "squeeze_dims": (lambda M, F, L, x: x.unsqueeze(0).squeeze((0, 2)) * x.reshape(4, 1),
                     [("any", (4, 1))]),
    "inplace_shape_methods": (
        lambda M, F, L, x: (x * x).t_().unsqueeze_(0).transpose_(0, 1).squeeze_(1) * x.t(),
        [("any", (3, 2))]),
}
