"""What every image dataset here shares: `data` (uint8 images) and `targets` (int64)
arrays, a per-image `__getitem__`, and a vectorised `__getitems__` that the DataLoader
uses to fetch a whole batch at once (transforms applied batch-wise when they can be)."""
import numpy as np

from ...tensors.tensor import Tensor


class ImageDataset:
    def __len__(self):
        return self.data._data.shape[0]

    def __getitem__(self, index):
        img = self.data._data[index]
        target = int(self.targets._data[index])
        if img.ndim != 2:
            raise TypeError(f"{type(self).__name__}: index with an int, got {index!r} "
                            "(use __getitems__ for batches)")
        img = self.transform(img) if self.transform is not None else Tensor._wrap(img.copy())
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """(images, labels) for a list of indices, transformed batch-wise when possible."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"{type(self).__name__}: index out of range for a dataset of "
                             f"{n} images")
        images = self.data._data[idx]
        labels = self.targets._data[idx]
        return (_apply(self.transform, images, "image"),
                _apply(self.target_transform, labels, "target", item=int))


def _stack(items, what):
    arrays = [it._data if isinstance(it, Tensor) else np.asarray(it) for it in items]
    try:
        return Tensor._wrap(np.stack(arrays)) if arrays else Tensor._wrap(np.empty(0))
    except ValueError as err:
        raise ValueError(f"__getitems__: the {what} transform returned items that cannot be "
                         f"stacked into a batch ({err})") from None


def _apply(transform, values, what, item=lambda v: v):
    """A transform over a batch: once if it has `.batch`, else per item, then stacked."""
    if transform is None:
        return Tensor._wrap(values)
    if hasattr(transform, "batch"):
        out = transform.batch(values)
        return out if isinstance(out, Tensor) else Tensor._wrap(np.asarray(out))
    return _stack([transform(item(v)) for v in values], what)
