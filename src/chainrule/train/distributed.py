"""fit on several MPI ranks: the Trainer with four steps replaced. Each rank trains a
replica on its share of every batch (a DistributedSampler) through DistributedDataParallel,
so the batch size stays the global one and the weights follow the one-process run to
round-off. Logs are averaged across ranks (every rank holds as many rows, so the mean of
the ranks' means is the mean over all rows), hence every rank takes the same decisions
(early stopping, schedulers); rank 0 alone shows progress and writes checkpoints."""
from . import data as _data
from .trainer import Trainer


def _dist():
    from .. import distributed
    return distributed


def use_distributed(distributed):
    """fit's `distributed` argument: None follows the process group (on when one with
    more than one rank exists); True starts one when the program has not."""
    dist = _dist()
    if distributed is None:
        return dist.is_initialized() and dist.get_world_size() > 1
    if not isinstance(distributed, bool):
        raise TypeError(f"distributed must be True, False or None, got {distributed!r}")
    if distributed and not dist.is_initialized():
        dist.init_process_group("mpi")
    return distributed


class DistributedTrainer(Trainer):
    def __init__(self, model, optimizer, params, **kwargs):
        dist = _dist()
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if self.rank != 0:
            kwargs["progress"] = False
        super().__init__(model, optimizer, params, **kwargs)
        from ..nn.parallel import DistributedDataParallel
        self.replica = DistributedDataParallel(model)  # rank 0's weights everywhere
        if self.rank == 0:
            self.show.message(f"training on {self.world} MPI rank{'s' if self.world > 1 else ''}")

    def forward(self, xb):
        return self.replica(xb)

    def prepare_data(self, train_ds, val_ds, batch_size, seed):
        if _data.is_loader(train_ds):
            raise ValueError("fit(distributed=True) shards the rows itself: pass the data "
                             "as a Dataset or (X, y), not a DataLoader")
        if batch_size % self.world:
            raise ValueError(f"fit(distributed=True): batch_size {batch_size} must be a "
                             f"multiple of the {self.world} ranks (each takes an equal share)")
        super().prepare_data(train_ds, val_ds, batch_size, seed)
        cr, dist = self._cr(), _dist()
        from ..utils.data import DataLoader, DistributedSampler
        # one shuffling generator for all ranks, so they agree on every epoch's order
        shared = cr.tensor([self.generator.initial_seed() % 2 ** 62], dtype=cr.int64)
        dist.broadcast(shared, 0)
        self.generator.manual_seed(int(shared.item()))
        self.sampler = DistributedSampler(train_ds, shuffle=True)
        self.train_loader = DataLoader(train_ds, batch_size=batch_size // self.world,
                                       sampler=self.sampler)
        # validation rows are shared out too (padded as the training rows, so with rows
        # not divisible by the ranks a few count twice); a DataLoader is read whole
        if val_ds is not None and not _data.is_loader(val_ds):
            self.val_loader = DataLoader(val_ds, batch_size=max(batch_size, 256),
                                         sampler=DistributedSampler(val_ds, shuffle=False))
        self.params["steps"] = self.history.params["steps"] = len(self.train_loader)

    @staticmethod
    def _cr():
        import chainrule
        return chainrule

    def run_epoch(self, epoch):
        # the epoch's order from the shared generator, which checkpoints save and resume
        self.sampler.seed = int(self._cr().randint(0, 2 ** 62, (1,), generator=self.generator))
        self.sampler.set_epoch(epoch)
        logs, bad = super().run_epoch(epoch)
        return self._averaged(logs), bad

    def validate(self, bad):
        return self._averaged(super().validate(bad))

    def _averaged(self, logs):
        cr, dist = self._cr(), _dist()
        keys = list(logs)
        values = cr.tensor([float(logs[k]) for k in keys], dtype=cr.float64)
        dist.all_reduce(values, op=dist.ReduceOp.AVG)
        return dict(zip(keys, values.tolist()))

    def checkpoint(self, epoch):
        if self.rank == 0:  # the ranks hold equal states: one copy is the checkpoint
            super().checkpoint(epoch)
