"""Gathering from and scattering into the planes of a tensor (its last two dims) at flat
indices row * width + column, as PyTorch's max pools record their winners. The scatter
adds in the order of the indices (window by window), as PyTorch's backward does."""
import numpy as np


def gather(x, index, plane):
    """x[..., index // width, index % width] for index of shape (..., rows, cols)."""
    h, w = plane
    flat = x.reshape(-1, h * w)
    cells = index.shape[-2] * index.shape[-1]
    return np.take_along_axis(flat, index.reshape(flat.shape[0], cells), axis=1).reshape(
        index.shape)


def scatter(g, index, plane):
    """The adjoint of `gather`: each g added at its index of a zero tensor of planes."""
    h, w = plane
    n = int(np.prod(g.shape[:-2]))
    out = np.zeros_like(g, shape=(n * h * w,))
    where = index.reshape(n, g.shape[-2] * g.shape[-1]) + (np.arange(n) * (h * w))[:, None]
    np.add.at(out, where.reshape(-1), g.reshape(-1))
    return out.reshape(g.shape[:-2] + (h, w))
