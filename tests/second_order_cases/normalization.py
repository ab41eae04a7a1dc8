"""Batch, layer, group, instance and local response normalisation: the closed-form gradient of the
normalised output (batch statistics in training) is itself differentiated here, and so is
evaluation mode's affine map with running statistics."""


def _stats(M, x, mean, var):
    return M.tensor(mean, dtype=x.dtype), M.tensor(var, dtype=x.dtype)


def _batch_norm_eval(M, F, x, w, b):
    rm, rv = _stats(M, x, [0.5, -1.0, 0.2], [2.0, 0.5, 1.5])
    return F.batch_norm(x * x, rm, rv, w, b, training=False) * x


def _batch_norm_train(M, F, x, w, b):
    rm, rv = _stats(M, x, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    return F.batch_norm(x * x, rm, rv, w, b, training=True, momentum=0.3)


CASES = {
    "batch_norm": (lambda M, F, L, x, w, b: _batch_norm_train(M, F, x, w, b),
                   [("any", (4, 3, 2)), ("any", (3,)), ("any", (3,))]),
    "batch_norm_eval": (lambda M, F, L, x, w, b: _batch_norm_eval(M, F, x, w, b),
                        [("any", (4, 3)), ("any", (3,)), ("any", (3,))]),
    "batch_norm_4d_without_affine": (
        lambda M, F, L, x: F.batch_norm(x * x, None, None, training=True) * x,
        [("any", (2, 3, 2, 2))]),
    "layer_norm": (lambda M, F, L, x, w, b: F.layer_norm(x * x, (2, 3), w, b),
                   [("any", (2, 2, 3)), ("any", (2, 3)), ("any", (2, 3))]),
    "layer_norm_without_affine": (lambda M, F, L, x: F.layer_norm(x * x, [3]) * x,
                                  [("any", (4, 3))]),
    "group_norm": (lambda M, F, L, x, w, b: F.group_norm(x * x, 2, w, b),
                   [("any", (2, 4, 3)), ("any", (4,)), ("any", (4,))]),
    "instance_norm": (lambda M, F, L, x, w, b: F.instance_norm(x * x, weight=w, bias=b),
                      [("any", (2, 3, 4)), ("any", (3,)), ("any", (3,))]),
    "local_response_norm": (lambda M, F, L, x: F.local_response_norm(x, 3, 0.5, 0.75, 2.0),
                            [("any", (2, 4, 3))]),
}
