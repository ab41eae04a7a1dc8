"""Run under mpiexec -n N: one epoch of SGD on a fixed data set with DistributedDataParallel
and a DistributedSampler, each rank taking batch_size / N rows of each global batch.
Rank 0 writes the final weights to OUT (a .npz file).
Usage: train_ddp.py OUT BATCH MOMENTUM WEIGHT_DECAY SEED"""
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.utils.data import DataLoader, DistributedSampler, TensorDataset

out, batch = sys.argv[1], int(sys.argv[2])
momentum, weight_decay, seed = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
dist.init_process_group("mpi", timeout=30)
size = dist.get_world_size()

data = np.random.default_rng(seed).standard_normal((96, 6)).astype(np.float32)
target = np.sin(data @ np.linspace(-1, 1, 6, dtype=np.float32))[:, None]
dataset = TensorDataset(cr.tensor(data), cr.tensor(target))
sampler = DistributedSampler(dataset, shuffle=True, seed=seed)
loader = DataLoader(dataset, batch_size=batch // size, sampler=sampler)

cr.manual_seed(seed + 1000 * dist.get_rank())  # unequal on purpose: rank 0's init wins
model = DistributedDataParallel(
    cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, 1)))
opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=momentum, weight_decay=weight_decay)
for epoch in range(2):
    sampler.set_epoch(epoch)
    for x, y in loader:
        opt.zero_grad()
        cr.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
if dist.get_rank() == 0:
    np.savez(out, **{k: v.numpy() for k, v in model.module.state_dict().items()})
dist.destroy_process_group()
