"""Turning what users pass to `fit` ((X, y) arrays or tensors, Datasets, DataLoaders)
into batches, and splitting off validation rows."""
import math
import numbers

import numpy as np

__all__ = ["as_tensor", "to_loader", "num_rows", "split_last", "is_loader"]


def as_tensor(x, role="X"):
    """A chainrule tensor from an array/list/tensor; float64 NumPy data becomes float32
    (the parameters' dtype), as Keras does for NumPy inputs."""
    import chainrule
    if isinstance(x, chainrule.Tensor):
        return x
    if hasattr(x, "to_numpy"):  # pandas
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind == "O":
        raise TypeError(f"{role} must hold numbers; got an array of Python objects")
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return chainrule.from_numpy(np.ascontiguousarray(arr))


def is_loader(obj):
    return hasattr(obj, "dataset") and hasattr(obj, "batch_size") and hasattr(obj, "__iter__")


def _is_dataset(obj):
    return hasattr(obj, "__getitem__") and hasattr(obj, "__len__") and not isinstance(
        obj, (tuple, list, np.ndarray)) and not _is_tensor(obj)


def _is_tensor(obj):
    import chainrule
    return isinstance(obj, chainrule.Tensor)


def _pair(data, name):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a DataLoader, a Dataset or a pair (X, y) of arrays or "
                        f"tensors; got {type(data).__name__}"
                        + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""))
    X, y = as_tensor(data[0], "X"), as_tensor(data[1], "y")
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{name}: X and y need a first (row) dimension")
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}; they must match")
    if len(X) == 0:
        raise ValueError(f"{name}: no rows")
    for role, t in (("X", X), ("y", y)):  # NaN data would only show up as a NaN loss
        arr = t.detach().numpy()
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            row = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise ValueError(f"{name}: {role} contains NaN or Inf (first in row {row}); "
                             "expected finite numbers: drop or impute those rows")
    return X, y


def normalize(data, name="train"):
    """Return a DataLoader as is, or a Dataset for (X, y) pairs and Datasets."""
    if data is None or is_loader(data):
        return data
    if _is_dataset(data):
        if len(data) == 0:
            raise ValueError(f"{name}: the dataset is empty")
        return data
    X, y = _pair(data, name)
    return _tensor_dataset(X, y)


def _tensor_dataset(X, y):
    from ..utils.data import TensorDataset
    return TensorDataset(X, y)


def num_rows(data):
    if is_loader(data):
        return len(data.dataset)
    return len(data)


def split_last(dataset, fraction):
    """(first rows, last `fraction` of rows), Keras's validation_split: the split point is
    ceil(n * (1 - fraction)), no shuffling."""
    n = len(dataset)
    cut = int(math.ceil(n * (1.0 - fraction)))
    if cut <= 0 or cut >= n:
        raise ValueError(f"validation_split={fraction} of {n} rows leaves an empty training or "
                         "validation set")
    return _subset(dataset, range(0, cut)), _subset(dataset, range(cut, n))


def _subset(dataset, indices):
    from ..utils.data import Subset
    return Subset(dataset, list(indices))


def to_loader(data, batch_size, shuffle, generator):
    if is_loader(data):
        return data
    from ..utils.data import DataLoader
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)


def check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)



def targets_of(data):
    """The targets of a TensorDataset (or a Subset of one) without iterating, else None."""
    indices = None
    if hasattr(data, "indices") and hasattr(data, "dataset"):  # Subset
        indices, data = list(data.indices), data.dataset
    tensors = getattr(data, "tensors", None)
    if not isinstance(tensors, (tuple, list)) or len(tensors) < 2:
        return None
    y = tensors[-1].detach().numpy()
    return y if indices is None else y[indices]


def batch_size_of(data, default):
    """The batch size a DataLoader was made with, else fit's."""
    return getattr(data, "batch_size", None) or default if is_loader(data) else default
