"""Datasets: the map-style protocol (`__getitem__`, `__len__`), TensorDataset, Subset,
ConcatDataset and random_split.

Batch protocol: a dataset may define `__getitems__(indices)`, taking an int64 NumPy array
of indices and returning the whole collated batch (a Tensor or array, or a tuple, list or
dict of them, each with a leading dimension of len(indices)). The DataLoader then fetches
a batch with one gather per array instead of a Python loop over rows. (PyTorch's own
`__getitems__` returns a list of samples instead; here it must return the batch.)"""
import bisect
import math

import numpy as np

from ...random import _rng
from ._tree import gather_rows, scatter_into


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: define __iter__; the DataLoader groups them into batches."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor; a sample is a tuple of rows."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = [len(t) for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs every tensor "
                             f"to have the same first dimension, got {sizes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices):
        # a list, as PyTorch's default collate turns a tuple sample into a list batch
        return [gather_rows(t, indices) for t in self.tensors]

    def __len__(self):
        return len(self.tensors[0])


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    def __getattr__(self, name):
        # offer the batch protocol only when the wrapped dataset does
        if name == "__getitems__" and hasattr(self.__dict__.get("dataset"), "__getitems__"):
            return self._getitems
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _getitems(self, indices):
        mapped = np.asarray(self.indices, dtype=np.int64)[np.asarray(indices, dtype=np.int64)]
        return self.dataset.__getitems__(mapped)


class ConcatDataset(Dataset):
    """Datasets one after another; batches spanning several are gathered per dataset."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return k, index - (self.cumulative_sizes[k - 1] if k else 0)

    def __getitem__(self, index):
        k, local = self._locate(index)
        return self.datasets[k][local]

    def __getattr__(self, name):
        if name == "__getitems__" and all(hasattr(d, "__getitems__")
                                          for d in self.__dict__.get("datasets", [None])):
            return self._getitems
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _getitems(self, indices):
        indices = np.asarray(indices, dtype=np.int64) % len(self)
        ends = np.asarray(self.cumulative_sizes)
        which = np.searchsorted(ends, indices, side="right")
        starts = np.concatenate([[0], ends[:-1]])
        local = indices - starts[which]
        parts = [(np.flatnonzero(which == k), self.datasets[k].__getitems__(local[which == k]))
                 for k in np.unique(which)]
        if len(parts) == 1:
            return parts[0][1]
        return scatter_into(len(indices), parts)


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths, or of the given fractions
    of len(dataset) (leftover items go one each to the first splits)."""
    n = len(dataset)
    lengths = list(lengths)
    # PyTorch's rule: lengths summing to (at most, and close to) 1 are fractions, whatever
    # len(dataset) is, so [0.7, 0.3] of a single row is a split of fractions, not of counts
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 "
                                 f"and 1, got {f}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})!")
    order = _rng(generator).permutation(n)
    bounds = np.cumsum([0] + [int(x) for x in lengths])
    return [Subset(dataset, order[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]
