"""DataLoader: batches from a dataset in sampler order.

Fast path: with the default collate and a dataset offering `__getitems__` (TensorDataset,
Subset/ConcatDataset of such, vision datasets), a batch is one gather per array. Other
datasets are read sample by sample and collated.

Resuming mid-epoch: `state_dict()` records the epoch's shuffle seed and how many batches
were served; after `load_state_dict(...)` the next `iter(loader)` replays that epoch's
order from the following batch, without drawing from (or disturbing) the generator."""
import itertools

import numpy as np

from ._tree import to_tensors
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _check_batch_size


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        # num_workers and the other process/device options are accepted for
        # compatibility: loading runs in this process, where the gathers are vectorised
        self.dataset = dataset
        self.num_workers = num_workers
        self.generator = generator
        self.drop_last = drop_last
        self._iterable = isinstance(dataset, IterableDataset)
        if batch_size is not None:
            _check_batch_size(batch_size)
        if hasattr(dataset, "__len__") and len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "shuffle, sampler and batch_sampler options")
        elif batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.batch_size = batch_size
        self.collate_fn = collate_fn
        self._batches_served = 0
        self._skip_batches = 0

    # ---- iteration --------------------------------------------------------------------
    def __iter__(self):
        skip, self._skip_batches = self._skip_batches, 0
        self._batches_served = skip
        if self.batch_sampler is not None and not self._iterable:
            # skipping happens on indices, so a resumed epoch reads no data it won't serve
            if isinstance(self.batch_sampler, BatchSampler):
                index_batches = self.batch_sampler.index_batches()
            else:
                index_batches = iter(self.batch_sampler)
            batches = map(self._fetch, itertools.islice(index_batches, skip, None))
        elif self._iterable:
            batches = itertools.islice(self._iterable_batches(), skip, None)
        else:
            samples = (self._convert(self.dataset[i]) for i in self.sampler)
            batches = itertools.islice(samples, skip, None)
        for batch in batches:
            self._batches_served += 1
            yield batch

    def _fetch(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None and self.collate_fn in (None, default_collate):
            return to_tensors(getitems(np.asarray(indices, dtype=np.int64)))
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        return (self.collate_fn or default_collate)([self.dataset[i] for i in indices])

    def _convert(self, sample):
        return (self.collate_fn or default_convert)(sample)

    def _iterable_batches(self):
        stream = iter(self.dataset)
        if self.batch_size is None:
            yield from (self._convert(s) for s in stream)
            return
        while True:
            samples = list(itertools.islice(stream, self.batch_size))
            if not samples or (self.drop_last and len(samples) < self.batch_size):
                return
            yield (self.collate_fn or default_collate)(samples)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    # ---- resuming ---------------------------------------------------------------------
    def state_dict(self):
        served = self._batches_served
        if not self._iterable and served >= len(self):
            served = 0  # the epoch is complete: the next one starts afresh
        return {"batches_served": served,
                "epoch_seed": getattr(self.sampler, "epoch_seed", None) if served else None}

    def load_state_dict(self, state):
        self._skip_batches = int(state["batches_served"])
        if state.get("epoch_seed") is not None:
            if not isinstance(self.sampler, RandomSampler):
                raise ValueError("DataLoader.load_state_dict: the saved state comes from a "
                                 "shuffling loader but this loader does not shuffle")
            self.sampler.resume_seed = state["epoch_seed"]
