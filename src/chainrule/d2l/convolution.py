"""d2l's two-dimensional cross-correlation (chapter 6.2), the operation a convolutional
layer computes, written out for one channel so it can be read and checked by hand."""
from ..tensors import creation
from ..tensors import dtypes
from ..tensors.tensor import Tensor

__all__ = ["corr2d"]


def _check(X, K):
    for name, t in (("X", X), ("K", K)):
        if not isinstance(t, Tensor):
            raise TypeError(f"corr2d: {name} must be a tensor, got {type(t).__name__}")
        if t.ndim != 2:
            raise ValueError(f"corr2d: {name} must be a matrix (2-D), got shape "
                             f"{tuple(t.shape)}; correlate each channel separately "
                             "(d2l's corr2d_multi_in) or use nn.functional.conv2d")
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        # d2l's version fails making an output of negative size: PyTorch's RuntimeError
        raise RuntimeError(f"corr2d: kernel K of shape {tuple(K.shape)} is larger than the "
                           f"input X of shape {tuple(X.shape)}")


def corr2d(X, K):
    """Y[i, j] = sum(X[i:i+h, j:j+w] * K) for a (h, w) kernel K: the output is
    (X.shape[0] - h + 1, X.shape[1] - w + 1), in the default dtype (float32) as d2l's,
    and differentiable in both X and K (d2l 6.2's Conv2D learns its kernel through it).

    Summed one kernel offset at a time: h * w array operations instead of d2l's loop
    over every output pixel, the same numbers up to the order of the float additions."""
    _check(X, K)
    h, w = K.shape
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = None
    for a in range(h):
        for b in range(w):
            term = X[a:a + out_h, b:b + out_w] * K[a, b]
            Y = term if Y is None else Y + term
    if Y is None:  # an empty kernel: every window sums nothing
        return creation.zeros((out_h, out_w))
    return Y.to(dtypes.get_default_dtype())
