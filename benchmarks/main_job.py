"""The regime learners train in: the main job's model (digits, 64-256-128-10, Adam,
batch 32, 1,438 rows) and the d2l MLP epoch (batch 256, SGD), chainrule and PyTorch in one
process, interleaved, medians and ratios; on an idle machine and with one busy-loop
process beside the benchmark; with each library's default thread settings and pinned to
one thread.

    python benchmarks/main_job.py            # all conditions (about two minutes)
    python benchmarks/main_job.py --pairs 5
"""
import argparse
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import mlp_epoch  # noqa: E402
from run import interleaved  # noqa: E402  (one timing loop for every benchmark)

_BUSY = "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"


@contextlib.contextmanager
def busy_machine(seconds=600):
    """One busy-loop process beside the benchmark; bounded in time, stopped by its pid."""
    proc = subprocess.Popen([sys.executable, "-c", _BUSY.format(seconds=seconds)])
    try:
        time.sleep(0.5)  # let it take its core
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def digits_arrays():
    from chainrule.vision.datasets import Digits
    ds = Digits(train=True)
    X = (ds.data.numpy().reshape(len(ds), 64) / 16.0).astype(np.float32)
    return X, ds.targets.numpy().astype(np.int64)


def build_main_job(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(64, 256), m.nn.ReLU(), m.nn.Linear(256, 128), m.nn.ReLU(),
                          m.nn.Linear(128, 10))
    return net, m.optim.Adam(net.parameters(), lr=1e-3)


def main_job_epoch(m, net, opt, loss_fn, X, y, batch=32):
    for i in range(0, len(X), batch):
        loss = loss_fn(net(X[i:i + batch]), y[i:i + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()


def main_job_fns(torch, chainrule, through_fit=False):
    X, y = digits_arrays()
    fns = []
    for m in (chainrule, torch):
        net, opt = build_main_job(m)
        tX, ty = m.from_numpy(X), m.from_numpy(y)
        loss = m.nn.CrossEntropyLoss()
        if through_fit and m is chainrule:
            from chainrule.train import fit
            fns.append(lambda net=net, opt=opt, loss=loss, tX=tX, ty=ty: fit(
                net, (tX, ty), loss=loss, optimizer=opt, epochs=1, batch_size=32,
                progress=False))
        else:
            fns.append(lambda m=m, net=net, opt=opt, loss=loss, tX=tX, ty=ty:
                       main_job_epoch(m, net, opt, loss, tX, ty))
    return fns


def d2l_fns(torch, chainrule, rows):
    X, y = mlp_epoch.make_data(rows)
    fns = []
    for m in (chainrule, torch):
        net, opt = mlp_epoch.build(m)
        tX, ty = m.from_numpy(X), m.from_numpy(y)
        loss = m.nn.CrossEntropyLoss()
        fns.append(lambda m=m, net=net, opt=opt, loss=loss, tX=tX, ty=ty:
                   mlp_epoch.epoch(m, net, opt, loss, tX, ty))
    return fns


def threads_setting(torch, chainrule, pinned, default_torch_threads):
    if pinned:
        torch.set_num_threads(1)
        chainrule.set_num_threads(1)
    else:
        torch.set_num_threads(default_torch_threads)
        chainrule.threads._user[0] = None  # back to chainrule's own policy


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=9)
    p.add_argument("--rows", type=int, default=20000, help="rows of the d2l epoch")
    args = p.parse_args()
    import torch
    import chainrule
    import chainrule.threads  # noqa: F401
    default_torch_threads = torch.get_num_threads()
    print("| workload | threads | machine | chainrule | PyTorch | ratio |\n|---|---|---|---|---|---|")
    own = {}
    for pinned in (True, False):
        for busy in (False, True):
            threads_setting(torch, chainrule, pinned, default_torch_threads)
            ctx = busy_machine() if busy else contextlib.nullcontext()
            label = ("1 (pinned)" if pinned else "default", "busy" if busy else "idle")
            with ctx:
                rows = [("main job epoch (batch 32, Adam)", main_job_fns(torch, chainrule)),
                        ("main job through fit / PyTorch loop", main_job_fns(torch, chainrule, True)),
                        (f"d2l MLP epoch ({args.rows} rows, batch 256, SGD)",
                         d2l_fns(torch, chainrule, args.rows))]
                for name, fns in rows:
                    (a, b), r = interleaved(fns, args.pairs)
                    own[(name, pinned, busy)] = a
                    print(f"| {name} | {label[0]} | {label[1]} | {a * 1e3:.1f} ms | "
                          f"{b * 1e3:.1f} ms | {r:.2f} |", flush=True)
    print("\nchainrule busy / idle (its own epochs, default settings):")
    for name in {k[0] for k in own}:
        if (name, False, True) in own:
            print(f"  {name}: {own[(name, False, True)] / own[(name, False, False)]:.2f}")


if __name__ == "__main__":
    main()
