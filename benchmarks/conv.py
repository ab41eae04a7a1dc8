"""conv2d forward + backward alone, for a few d2l layer shapes: chainrule and PyTorch in one
process, interleaved, medians of several pairs and the median ratio chainrule / PyTorch;
with one thread each (torch.set_num_threads(1), chainrule.set_num_threads(1)) and with
each library's default settings; on an idle machine and, with --busy, also beside one
busy-loop process. chainrule's GFLOPS are set against the machine's one-thread sgemm.

    python benchmarks/conv.py              # idle machine
    python benchmarks/conv.py --busy       # idle, then beside a busy loop
    python benchmarks/conv.py --pairs 9
"""
import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from main_job import busy_machine  # noqa: E402  (a bounded busy-loop subprocess)
from run import interleaved  # noqa: E402  (one timing loop for every benchmark)

# name, batch, in, out, kernel, stride, padding, input size, input needs a gradient
LAYERS = [
    ("LeNet C1 1→6 5×5 pad 2, 28×28", 256, 1, 6, 5, 1, 2, 28, False),
    ("LeNet C3 6→16 5×5, 14×14", 256, 6, 16, 5, 1, 0, 14, True),
    ("ResNet 3×3 64→64 pad 1, 32×32", 32, 64, 64, 3, 1, 1, 32, True),
    ("ResNet 1×1 64→128 stride 2, 32×32", 32, 64, 128, 1, 2, 0, 32, True),
]


def layer_flops(n, c, o, k, stride, pad, size, input_grad):
    out = (size + 2 * pad - k) // stride + 1
    one = 2 * n * o * out * out * c * k * k  # one product the size of the forward
    return one * (3 if input_grad else 2)


def step_fn(m, n, c, o, k, stride, pad, size, input_grad, seed=0):
    """One forward and backward of conv2d with a bias, fresh gradients each time."""
    rng = np.random.default_rng(seed)
    x = m.from_numpy(rng.standard_normal((n, c, size, size), dtype=np.float32))
    w = m.from_numpy(rng.standard_normal((o, c, k, k), dtype=np.float32) * 0.1)
    b = m.zeros(o)
    x.requires_grad_(input_grad)
    w.requires_grad_(True)
    b.requires_grad_(True)
    g = m.from_numpy(rng.standard_normal((n, o, (size + 2 * pad - k) // stride + 1,
                                          (size + 2 * pad - k) // stride + 1), dtype=np.float32))
    params = [x, w, b] if input_grad else [w, b]

    def step():
        y = m.nn.functional.conv2d(x, w, b, stride=stride, padding=pad)
        m.autograd.grad(y, params, g)
    return step


def sgemm_gflops(size=1024, repeats=5):
    """One thread's sgemm rate through chainrule's product (BLAS single-threaded)."""
    import chainrule
    from chainrule.threads import matmul
    chainrule.set_num_threads(1)
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        matmul(a, a)
        times.append(time.perf_counter() - t0)
    return 2 * size ** 3 / min(times) / 1e9


def run(pairs, threads, torch_default):
    import torch
    import chainrule
    if threads == "1":
        torch.set_num_threads(1)
        chainrule.set_num_threads(1)
    else:  # each library's default: PyTorch one thread per core, chainrule the free cores
        torch.set_num_threads(torch_default)
        chainrule.set_num_threads("auto")
    rows = []
    for name, *shape in LAYERS:
        fns = [step_fn(chainrule, *shape), step_fn(torch, *shape)]
        (a, b), ratio = interleaved(fns, pairs)
        rows.append((name, a, b, ratio, layer_flops(*shape) / a / 1e9))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pairs", type=int, default=7)
    p.add_argument("--busy", action="store_true", help="also time beside a busy loop")
    args = p.parse_args()
    import torch
    torch_default = torch.get_num_threads()
    peak = sgemm_gflops()
    print(f"one-thread sgemm through chainrule.threads.matmul: {peak:.0f} GFLOPS\n")
    print("| layer (conv2d forward + backward) | machine | threads | chainrule ms | "
          "PyTorch ms | ratio | chainrule GFLOPS (% of sgemm) |")
    print("|---|---|---|---|---|---|---|")
    for busy in ((False, True) if args.busy else (False,)):
        with busy_machine() if busy else contextlib.nullcontext():
            for threads in ("1", "default"):
                for name, a, b, ratio, gflops in run(args.pairs, threads, torch_default):
                    print(f"| {name} | {'busy' if busy else 'idle'} | {threads} | "
                          f"{a * 1e3:.1f} | {b * 1e3:.1f} | {ratio:.2f} | "
                          f"{gflops:.0f} ({100 * gflops / peak:.0f}%) |", flush=True)


if __name__ == "__main__":
    main()
