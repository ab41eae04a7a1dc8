"""DistributedSampler: each rank takes every num_replicas-th index of one shared epoch
order, padded (by repeating its head, as PyTorch does) so every rank gets as many
samples, hence as many batches, and no rank waits in a collective for another."""
import math

import numpy as np

from .sampler import Sampler


def _group_default(value, name):
    if value is not None:
        return value
    from ... import distributed as dist
    if not dist.is_initialized():
        raise RuntimeError(f"DistributedSampler: {name} was not given and no process group "
                           "is initialized (call chainrule.distributed.init_process_group())")
    return dist.get_world_size() if name == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        num_replicas = _group_default(num_replicas, "num_replicas")
        rank = _group_default(rank, "rank")
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Give each epoch its own order; every rank must call it with the same epoch."""
        self.epoch = int(epoch)

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            # seed + epoch alone fix the order, so all ranks agree without communicating
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            order = np.resize(order, self.total_size)  # repeats the head cyclically
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples
