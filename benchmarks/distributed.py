"""Scaling past one process: the d2l MLP epoch (784-256-10, global batch 256, SGD, 60,000
random rows) on 1 and 2 MPI ranks with DistributedDataParallel, and a 5-fold x
4-candidate grid search run sequentially and on a Dask LocalCluster of 2 workers. Prints
the speed-ups, the communication share of a data-parallel step, and a model of the step
time on 8 and 64 ranks over a 10 Gb/s network built from the measured figures.

    python benchmarks/distributed.py                 # all of it (about a minute here)
    python benchmarks/distributed.py --epochs 3 --rows 20000
    mpiexec -n 2 python benchmarks/distributed.py --rank-epochs 3   # the MPI part alone
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# this file's name would hide the dask.distributed package from its own folder
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

GLOBAL_BATCH = 256
LINK_BYTES_PER_S = 10e9 / 8  # 10 Gb/s
LATENCY_S = 50e-6            # one message over TCP/Ethernet, a typical figure


def rank_epochs(rows, epochs):
    """Inside an MPI job: time `epochs` epochs (after one warm-up) of the data-parallel
    MLP; rank 0 prints one JSON line."""
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel
    dist.init_process_group("mpi", timeout=300)
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    X = cr.from_numpy(rng.standard_normal((rows, 784), dtype=np.float32))
    y = cr.from_numpy(rng.integers(0, 10, size=rows).astype(np.int64))
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(784, 256), cr.nn.ReLU(), cr.nn.Linear(256, 10))
    model = DistributedDataParallel(net)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = cr.nn.CrossEntropyLoss()
    times, comm = [], []
    for e in range(epochs + 1):
        dist.barrier()
        before = dist.communication_stats()
        t0 = time.perf_counter()
        for i in range(0, rows, GLOBAL_BATCH):  # this rank's slice of each global batch
            share = (min(i + GLOBAL_BATCH, rows) - i) // world  # the last batch is short
            lo = i + rank * share
            out = model(X[lo:lo + share])
            loss = loss_fn(out, y[lo:lo + share])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if e:  # the first epoch warms up
            after = dist.communication_stats()
            times.append(time.perf_counter() - t0)
            comm.append((after["seconds"] - before["seconds"], after["bytes"] - before["bytes"]))
    steps = -(-rows // GLOBAL_BATCH)
    if rank == 0:
        k = times.index(statistics.median(times)) if len(times) % 2 else 0
        print(json.dumps({"world": world, "epoch_s": statistics.median(times),
                          "allreduce_s": comm[k][0], "bytes_per_step": comm[k][1] / steps,
                          "steps": steps}), flush=True)
    dist.destroy_process_group()


def mpi_part(rows, epochs):
    env = dict(os.environ, HYDRA_LAUNCHER="fork", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    out = {}
    for n in (1, 2):
        r = subprocess.run([mpiexec if os.path.exists(mpiexec) else "mpiexec", "-n", str(n),
                            sys.executable, __file__, "--rank-epochs", str(epochs),
                            "--rows", str(rows)], env=env, capture_output=True, text=True,
                           check=True)
        out[n] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def grid_part(rows, epochs):
    import chainrule as cr
    from chainrule.train import grid_search
    rng = np.random.default_rng(1)
    X = rng.standard_normal((rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=rows).astype(np.int64)

    def build(hidden):
        return cr.nn.Sequential(cr.nn.Linear(784, hidden), cr.nn.ReLU(), cr.nn.Linear(hidden, 10))
    grid = {"hidden": [64, 128], "lr": [0.05, 0.1]}
    kw = dict(k=5, seed=0, model_params=("hidden",), fit_kwargs={
        "loss": "cross_entropy", "optimizer": "sgd", "epochs": epochs, "batch_size": 256})
    t0 = time.perf_counter()
    seq = grid_search(build, grid, X, y, **kw)
    t_seq = time.perf_counter() - t0
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        grid_search(build, grid, X[:512], y[:512], backend="dask", **kw)  # warm the workers
        t0 = time.perf_counter()
        par = grid_search(build, grid, X, y, backend="dask", **kw)
        t_dask = time.perf_counter() - t0
    a = np.array([r["folds"] for r in sorted(seq.rows, key=lambda r: str(r["params"]))])
    b = np.array([r["folds"] for r in sorted(par.rows, key=lambda r: str(r["params"]))])
    return t_seq, t_dask, float(np.max(np.abs(a - b)))


def scaling_model(step_compute_1, bytes_per_step):
    """Ring allreduce: each rank sends and receives 2 (N-1)/N of the gradient bytes in
    2 (N-1) messages, after the backward (no overlap). Global batch fixed: step time =
    compute / N + transfer. Batch per rank fixed (256 each): N x the rows per step in
    compute + transfer."""
    lines = []
    for n in (2, 8, 64):
        wire = 2 * (n - 1) / n * bytes_per_step / LINK_BYTES_PER_S + 2 * (n - 1) * LATENCY_S
        compute = step_compute_1 / n
        weak = n * step_compute_1 / (step_compute_1 + wire)
        lines.append((n, compute, wire, step_compute_1 / (compute + wire), weak))
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per MPI run")
    p.add_argument("--grid-rows", type=int, default=10000)
    p.add_argument("--grid-epochs", type=int, default=2)
    p.add_argument("--rank-epochs", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rank_epochs is not None:
        return rank_epochs(args.rows, args.rank_epochs)
    mpi = mpi_part(args.rows, args.epochs)
    one, two = mpi[1], mpi[2]
    step1, step2 = one["epoch_s"] / one["steps"], two["epoch_s"] / two["steps"]
    comm_step = two["allreduce_s"] / two["steps"]
    print(f"d2l MLP epoch, {args.rows} rows, global batch {GLOBAL_BATCH}:")
    print(f"  1 rank : {one['epoch_s']:.3f} s ({step1 * 1e3:.2f} ms/step)")
    print(f"  2 ranks: {two['epoch_s']:.3f} s ({step2 * 1e3:.2f} ms/step), speed-up "
          f"{one['epoch_s'] / two['epoch_s']:.2f}x; allreduce {comm_step * 1e3:.2f} ms/step = "
          f"{comm_step / step2:.0%} of a step, {two['bytes_per_step'] / 1e3:.0f} kB/step")
    t_seq, t_dask, diff = grid_part(args.grid_rows, args.grid_epochs)
    print(f"grid search, 5 folds x 4 candidates, {args.grid_rows} rows, {args.grid_epochs} "
          f"epochs: sequential {t_seq:.2f} s, 2 Dask workers {t_dask:.2f} s, speed-up "
          f"{t_seq / t_dask:.2f}x; largest difference of a fold's val_loss {diff:.2g} "
          "(0 when both use as many BLAS threads per fit)")
    print(f"model at 10 Gb/s ({LATENCY_S * 1e6:.0f} us per message), global batch "
          f"{GLOBAL_BATCH}, compute {step1 * 1e3:.2f} ms/step on 1 rank:")
    for n, compute, wire, speedup, weak in scaling_model(step1, two["bytes_per_step"]):
        print(f"  {n:3d} ranks: compute {compute * 1e3:.3f} ms + allreduce {wire * 1e3:.2f} ms"
              f" per step -> speed-up {speedup:.2f}x; with batch 256 per rank "
              f"{weak:.1f}x the rows/s")


if __name__ == "__main__":
    main()
