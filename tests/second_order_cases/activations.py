"""Second-order cases of the activations of nn.functional beyond relu/gelu/softplus: each
rule is written in differentiable operations, so a Hessian-vector product checks it, and
the in-place forms (whose rules read the result) get cases of their own."""
def _any(*shape):
    return ("any", shape)


def _rrelu_training(M, F, x):
    # the libraries draw different slopes: PyTorch multiplies by chainrule's factors
    if M.__name__ == "torch":
        return x * M.from_numpy(_rrelu_training.noise) * x
    import chainrule as cr
    cr.manual_seed(7)
    out = F.rrelu(x, 0.1, 0.4, training=True)
    _rrelu_training.noise = out._data / x._data
    return out * x


def _hardsigmoid(M, F, x):
    # PyTorch has no derivative of hardsigmoid's backward: there, the same function composed
    # of clamp (whose second derivative exists) away from the breakpoints
    if M.__name__ == "torch":
        return (x + 3).clamp(0, 6) / 6
    return F.hardsigmoid(x)


def _inplace(fn):
    """An in-place activation of a copy (a leaf that requires grad cannot be changed)."""
    return lambda M, F, L, x: fn(F, x * 1.0) * x


CASES = {
    "elu": (lambda M, F, L, x: F.elu(x, alpha=0.7), [_any(8)]),
    "elu_": (_inplace(lambda F, y: F.elu_(y, 1.3)), [_any(8)]),
    "selu": (lambda M, F, L, x: F.selu(x), [_any(8)]),
    "selu_": (_inplace(lambda F, y: F.selu_(y)), [_any(8)]),
    "celu": (lambda M, F, L, x: F.celu(x, alpha=0.5), [_any(8)]),
    "celu_": (_inplace(lambda F, y: F.celu_(y, 1.5)), [_any(8)]),
    "silu": (lambda M, F, L, x: F.silu(x * 3), [_any(8)]),
    "mish": (lambda M, F, L, x: F.mish(x * 3), [_any(8)]),
    "hardswish": (lambda M, F, L, x: F.hardswish(x * 3) * x, [_any(8)]),
    "hardsigmoid": (lambda M, F, L, x: _hardsigmoid(M, F, x * 3) * x, [_any(8)]),
    "hardtanh": (lambda M, F, L, x: F.hardtanh(x, -0.9, 1.1) * x, [_any(8)]),
    "hardtanh_": (_inplace(lambda F, y: F.hardtanh_(y, -1.1, 0.9)), [_any(8)]),
    "relu6": (lambda M, F, L, x: F.relu6(x * 4) * x, [_any(8)]),
    "threshold": (lambda M, F, L, x: F.threshold(x, 0.1, -2.0) * x, [_any(8)]),
    "threshold_": (_inplace(lambda F, y: F.threshold_(y, 0.1, -1.0)), [_any(8)]),
    "softshrink": (lambda M, F, L, x: F.softshrink(x, 0.6) * x, [_any(8)]),
    "hardshrink": (lambda M, F, L, x: F.hardshrink(x, 0.6) * x, [_any(8)]),
    "rrelu": (lambda M, F, L, x: F.rrelu(x, 0.1, 0.3) * x, [_any(8)]),
    "rrelu_": (_inplace(lambda F, y: F.rrelu_(y, 0.2, 0.3)), [_any(8)]),
    "rrelu_training": (lambda M, F, L, x: _rrelu_training(M, F, x), [_any(8)]),
    "softsign": (lambda M, F, L, x: F.softsign(x), [_any(8)]),
    "tanhshrink": (lambda M, F, L, x: F.tanhshrink(x), [_any(8)]),
    "softmin": (lambda M, F, L, x: F.softmin(x, dim=1), [_any(2, 4)]),
    "glu": (lambda M, F, L, x: F.glu(x, 0), [_any(4, 3)]),
}
