"""Helpers over batch structures (a Tensor/array, or lists, tuples and dicts of them)."""
import numpy as np

from ...tensors.tensor import Tensor


def gather_rows(values, indices):
    """Rows `indices` of a Tensor or array, as a new Tensor: one vectorised take."""
    arr = values._data if isinstance(values, Tensor) else np.asarray(values)
    return Tensor._wrap(np.take(arr, indices, axis=0))


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in _leaves(v)]
    if isinstance(tree, (list, tuple)):
        return [leaf for v in tree for leaf in _leaves(v)]
    return [tree]


def _rebuild(tree, leaves):
    if isinstance(tree, dict):
        return {k: _rebuild(v, leaves) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [_rebuild(v, leaves) for v in tree]
        return type(tree)(items) if type(tree) in (list, tuple) else type(tree)(*items)
    return next(leaves)


def _array(leaf):
    return leaf._data if isinstance(leaf, Tensor) else np.asarray(leaf)


def scatter_into(n, parts):
    """Merge partial batches [(positions, batch)] into one batch of n rows, each part's
    rows landing at its positions (used when a shuffled batch spans several datasets)."""
    template = parts[0][1]
    outs = [np.empty((n,) + _array(leaf).shape[1:], _array(leaf).dtype)
            for leaf in _leaves(template)]
    for positions, batch in parts:
        for out, leaf in zip(outs, _leaves(batch)):
            out[positions] = _array(leaf)
    return _rebuild(template, iter(Tensor._wrap(o) for o in outs))


def to_tensors(tree):
    """Wrap NumPy arrays in a batch returned by __getitems__ as Tensors."""
    if isinstance(tree, np.ndarray):
        return Tensor._wrap(tree)
    if isinstance(tree, dict):
        return {k: to_tensors(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [to_tensors(v) for v in tree]
        return type(tree)(items) if type(tree) in (list, tuple) else type(tree)(*items)
    return tree
