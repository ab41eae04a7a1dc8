"""Run under mpiexec -n 2: the collectives and DistributedDataParallel's mechanics.
Each check raises AssertionError on a wrong value; the last line printed is 'ok <rank>'."""
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi", timeout=20)
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and size == 2, (rank, size)


def check(actual, expected):
    np.testing.assert_allclose(actual.numpy(), np.asarray(expected), rtol=1e-6, atol=0)


# all_reduce: in place, every op, integer and half tensors
t = cr.tensor([1.0, -2.0, 3.0]) * (rank + 1)
dist.all_reduce(t)
check(t, [3.0, -6.0, 9.0])
t = cr.tensor([1.0, -2.0]) * (rank + 1)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
check(t, [1.5, -3.0])
t = cr.tensor([rank, -rank], dtype=cr.int64)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
assert t.dtype == cr.int64 and t.tolist() == [1, 0], t
h = cr.tensor([0.5, 1.5], dtype=cr.float16)
dist.all_reduce(h)
assert h.dtype == cr.float16 and h.tolist() == [1.0, 3.0], h
# a view written in place reaches its base
base = cr.zeros(2, 3)
base[:, 1] = float(rank + 1)
dist.all_reduce(base[:, 1])
check(base, [[0, 3, 0], [0, 3, 0]])

# broadcast from either root; all_gather in rank order
b = cr.full((2, 2), float(rank))
dist.broadcast(b, src=1)
check(b, np.ones((2, 2)))
out = [cr.zeros(3) for _ in range(size)]
dist.all_gather(out, cr.arange(3.0) + 10 * rank)
check(out[0], [0, 1, 2])
check(out[1], [10, 11, 12])
dist.barrier()

# DDP: rank 0's parameters win at construction, whatever each rank initialised
cr.manual_seed(100 + rank)
model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 1))
ddp = DistributedDataParallel(model, bucket_cap_mb=1e-4)  # ~100 bytes: several buckets
assert len(ddp._bucket_list) > 1
gathered = [cr.zeros(model[0].weight.shape) for _ in range(size)]
dist.all_gather(gathered, model[0].weight.detach())
check(gathered[1], gathered[0].numpy())

# the averaged gradient equals the gradient of the mean loss over both ranks' data
cr.manual_seed(7)
x_all, y_all = cr.randn(6, 4), cr.randn(6, 1)
mine = slice(3 * rank, 3 * rank + 3)
loss = ((ddp(x_all[mine]) - y_all[mine]) ** 2).mean()
loss.backward()
reference = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 1))
reference.load_state_dict(model.state_dict())
(((reference(x_all[:3]) - y_all[:3]) ** 2).mean() / 2
 + ((reference(x_all[3:]) - y_all[3:]) ** 2).mean() / 2).backward()
for p, q in zip(model.parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)

# no_sync: local accumulation, then one averaged sum
model.zero_grad()
reference.zero_grad()
with ddp.no_sync():
    ddp(x_all[mine]).sum().backward()
local = model[2].bias.grad.clone()
assert float(local) == 3.0, local  # not averaged yet: three rows, d(sum)/d(bias) = 1 each
ddp(x_all[mine]).sum().backward()
(reference(x_all).sum()).backward()  # (2 g_0 + 2 g_1) / 2 ranks = g_0 + g_1
for p, q in zip(model.parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)

# a parameter the forward does not use is not waited for: the others are still averaged
class TwoHeads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = cr.nn.Linear(4, 1), cr.nn.Linear(4, 1)

    def forward(self, x):
        return self.used(x)


heads = DistributedDataParallel(TwoHeads())
heads(cr.full((1, 4), float(rank + 1))).sum().backward()
check(heads.module.used.weight.grad, [[1.5, 1.5, 1.5, 1.5]])  # (1 + 2) / 2
assert heads.module.unused.weight.grad is None

stats = dist.communication_stats()
assert stats["bytes"] > 0 and stats["seconds"] >= 0, stats
dist.destroy_process_group()
assert not dist.is_initialized()
sys.stdout.write(f"ok {rank}\n")  # one write: the ranks share the pipe
