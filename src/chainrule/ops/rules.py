"""Gradient rules written with chainrule's own ops. A rule receives NumPy arrays in plain
backward and tensors under create_graph; `tensor_rule` wraps the arrays so one rule,
written in differentiable operations, serves both (and second order follows)."""
import numpy as np

from ..tensors.tensor import Tensor


def tensor_rule(fn, n_inputs=None):
    """`n_inputs`: how many arguments after (g, out) are the op's inputs; the parameters
    that follow stay as they are (None: every array argument is an input)."""
    def rule(g, out, *args):
        if isinstance(g, Tensor):
            return fn(g, out, *args)
        n = len(args) if n_inputs is None else n_inputs
        wrap = [Tensor._wrap(np.asanyarray(a)) if isinstance(a, (np.ndarray, np.generic)) else a
                for a in (g, out, *args[:n])]
        result = fn(*wrap, *args[n:])
        return result._data if isinstance(result, Tensor) else result
    return rule


def index_array(index, opname):
    """An integer index given as a tensor, array or list, as an int64 array."""
    idx = index._data if isinstance(index, Tensor) else np.asanyarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{opname}: expected an int64 index, got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def check_bounds(idx, size, dim, opname, allow_negative=False):
    low = -size if allow_negative else 0
    if idx.size and (idx.min() < low or idx.max() >= size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise RuntimeError(f"{opname}: index {int(bad)} is out of bounds for dimension {dim} "
                           f"with size {size}")
