"""The `normalize` fix: inputs standardised (mean 0, std 1 per input element) with the
statistics of the training rows only, for (X, y) arrays and for DataLoaders alike; the
validation rows get the same transformation, never their own statistics."""
import numpy as np

from . import data as _data

__all__ = ["standardise", "input_stats", "StandardizedLoader"]


def input_stats(train):
    """(mean, std) of the training inputs per element, in float64; a constant element
    gets std 1 so it maps to 0 rather than dividing by zero."""
    if _data.is_loader(train):
        mean, std = _loader_stats(train)
    else:
        X = np.asarray(_data.as_tensor(train[0]).numpy(), dtype=np.float64)
        mean, std = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(std > 1e-8, std, 1.0)


def _inputs_of(batch):
    if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
        raise TypeError("normalize: a DataLoader's batches must be (inputs, targets) pairs to "
                        f"standardise the inputs; got a batch of type {type(batch).__name__}")
    return np.asarray(batch[0].detach().numpy() if hasattr(batch[0], "detach") else batch[0],
                      dtype=np.float64)


def _loader_stats(loader):
    """One pass over the loader's rows in their stored order (a fresh sequential loader
    over its dataset, so the caller's shuffling generator is not advanced); sums are
    shifted by the first batch's mean to keep the variance accurate."""
    from ..utils.data import DataLoader, IterableDataset
    ds = loader.dataset
    source = loader if isinstance(ds, IterableDataset) else DataLoader(
        ds, batch_size=256, shuffle=False, collate_fn=loader.collate_fn)
    shift = total = squares = None
    count = 0
    for batch in source:
        X = _inputs_of(batch)
        if shift is None:
            shift = X.mean(axis=0)
            total, squares = np.zeros_like(shift), np.zeros_like(shift)
        D = X - shift
        total, squares, count = total + D.sum(axis=0), squares + (D * D).sum(axis=0), count + len(X)
    if not count:
        raise ValueError("normalize: the training DataLoader yields no rows")
    mean_d = total / count
    return shift + mean_d, np.sqrt(np.maximum(squares / count - mean_d * mean_d, 0.0))


def _scaled(X, mean, std):
    arr = np.asarray(_data.as_tensor(X).detach().numpy(), dtype=np.float64)
    return ((arr - mean) / std).astype(np.float32)


def _scaled_tensor(X, mean, std):
    import chainrule
    return chainrule.from_numpy(_scaled(X, mean, std))


class _StandardizedDataset:
    """`dataset` with each row's inputs standardised (for code that reads rows)."""

    def __init__(self, dataset, mean, std):
        self.dataset, self.mean, self.std = dataset, mean, std

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        row = self.dataset[i]
        return (_scaled_tensor(row[0], self.mean, self.std), *row[1:])


class StandardizedLoader:
    """A DataLoader's batches with the inputs standardised: the wrapped loader keeps its
    sampler, shuffling generator, batch size and collate function, so the rows and
    their order are exactly those it would serve."""

    def __init__(self, loader, mean, std):
        self.loader, self.mean, self.std = loader, mean, std
        self.dataset = _StandardizedDataset(loader.dataset, mean, std)
        self.batch_size = loader.batch_size
        self.generator = getattr(loader, "generator", None)

    def __iter__(self):
        for batch in self.loader:
            _inputs_of(batch)  # the same check as the statistics' pass
            yield (_scaled_tensor(batch[0], self.mean, self.std), *batch[1:])

    def __len__(self):
        return len(self.loader)

    def state_dict(self):
        return self.loader.state_dict()

    def load_state_dict(self, state):
        self.loader.load_state_dict(state)


def standardise(train, val):
    """(train, val) with the inputs standardised by the training rows' statistics;
    DataLoaders come back wrapped, (X, y) pairs as float32 arrays."""
    mean, std = input_stats(train)

    def apply(data):
        if data is None:
            return None
        if _data.is_loader(data):
            return StandardizedLoader(data, mean, std)
        return _scaled(data[0], mean, std), data[1]
    return apply(train), apply(val)
