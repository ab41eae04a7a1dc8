"""Samplers choose the order of indices. Sequential and random samplers also hand out
their whole epoch as one index array, so the DataLoader can cut batches by slicing.

Reproducibility: RandomSampler draws one 64-bit seed from the chainrule generator (the
global one, or `generator=`) when an epoch starts, and the epoch's order is a function of
that seed alone. `epoch_seed` holds it; setting `resume_seed` makes the next epoch reuse
a saved seed without drawing, so a resumed run sees the same order."""
import numpy as np

from ...random import _rng


class Sampler:
    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def _index_array(self):
        """The epoch's indices as an int64 array, or None when only iteration is offered."""
        return None


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got {replacement!r}")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self.epoch_seed = None
        self.resume_seed = None

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        if self.resume_seed is not None:
            self.epoch_seed, self.resume_seed = self.resume_seed, None
        else:
            self.epoch_seed = int(_rng(self.generator).integers(2 ** 63))
        rng = np.random.default_rng(self.epoch_seed)
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        # without replacement, num_samples > n takes several whole permutations
        reps = -(-self.num_samples // n)
        perms = [rng.permutation(n) for _ in range(reps)]
        return np.concatenate(perms)[:self.num_samples].astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _index_array(self):
        return np.asarray(self.indices, dtype=np.int64)[_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return len(self.indices)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size should be a positive integer value, but got "
                         f"batch_size={batch_size!r}")


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of batch_size."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_batch_size(batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def index_batches(self):
        """Batches as int64 arrays: slices of the sampler's index array when it has one."""
        indices = self.sampler._index_array() if isinstance(self.sampler, Sampler) else None
        if indices is None:
            indices = np.fromiter(iter(self.sampler), dtype=np.int64)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        for start in range(0, stop, self.batch_size):
            yield indices[start:start + self.batch_size]

    def __iter__(self):
        return (batch.tolist() for batch in self.index_batches())

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
