"""Run under mpiexec -n N: fit(distributed=True) on a small classification problem.
Rank 0 writes the final weights and the history to OUT (a .npz file).
Usage: fit_ddp.py OUT EPOCHS [CHECKPOINT_DIR]"""
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist

out, epochs = sys.argv[1], int(sys.argv[2])
ckpt = sys.argv[3] if len(sys.argv) > 3 else None
dist.init_process_group("mpi", timeout=30)
rng = np.random.default_rng(0)
X = rng.standard_normal((120, 5)).astype(np.float32)
y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64)
cr.manual_seed(dist.get_rank())  # unequal on purpose: rank 0's init wins
model = cr.nn.Sequential(cr.nn.Linear(5, 16), cr.nn.ReLU(), cr.nn.Linear(16, 2))
history = cr.train.fit(
    model, (X[:96], y[:96]), (X[96:], y[96:]), loss="cross_entropy", optimizer="sgd",
    lr=0.2, epochs=epochs, batch_size=16, seed=11, checkpoint_dir=ckpt, resume=bool(ckpt),
    progress=True, distributed=True)
if dist.get_rank() == 0:
    np.savez(out, **{k: v.numpy() for k, v in model.state_dict().items()},
             **{"h_" + k: np.asarray(v) for k, v in history.history.items()})
