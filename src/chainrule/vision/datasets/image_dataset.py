"""What every image dataset here shares: `data` (uint8 images) and `targets` (int64)
arrays, a per-image `__getitem__`, and a vectorised `__getitems__` that the DataLoader
uses to fetch a whole batch at once (transforms applied batch-wise when they can be)."""
import numpy as np

from ...tensor import Tensor


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
        return _apply_batch(self.transform, images), _apply_targets(self.target_transform, labels)


def _stack(items, what):
    arrays = [it._data if isinstance(it, Tensor) else np.asarray(it) for it in items]
    try:
        return Tensor._wrap(np.stack(arrays)) if arrays else Tensor._wrap(np.empty(0))
    except ValueError as err:
        raise ValueError(f"__getitems__: the {what} transform returned items that cannot be "
                         f"stacked into a batch ({err})") from None


def _apply_batch(transform, images):
    if transform is None:
        return Tensor._wrap(images)
    if hasattr(transform, "batch"):
        out = transform.batch(images)
        return out if isinstance(out, Tensor) else Tensor._wrap(np.asarray(out))
    return _stack([transform(img) for img in images], "image")


def _apply_targets(target_transform, labels):
    if target_transform is None:
        return Tensor._wrap(labels)
    if hasattr(target_transform, "batch"):
        out = target_transform.batch(labels)
        return out if isinstance(out, Tensor) else Tensor._wrap(np.asarray(out))
    return _stack([target_transform(int(v)) for v in labels], "target")
