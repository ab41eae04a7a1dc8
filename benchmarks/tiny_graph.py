"""Per-op overhead: the same tiny graph (8×8 tensors, 12 ops, forward + backward) through
chainrule and PyTorch in one process, interleaved. Prints the median time per step and
the ratio chainrule / PyTorch (lower is better)."""
import statistics
import time

import numpy as np


def graph(m, x, w, b):
    h = (x @ w + b).relu()          # matmul, add, relu
    s = m.sigmoid(h) * h.tanh()     # sigmoid, tanh, mul
    t = s / (h.exp() + 1.0) - x     # exp, add, div, sub
    return (t * t).mean()           # mul, mean  -> 11 ops + backward


def step_fn(m, seed=0):
    rng = np.random.default_rng(seed)
    x = m.tensor(rng.standard_normal((8, 8)).astype(np.float32))
    w = m.tensor(rng.standard_normal((8, 8)).astype(np.float32), requires_grad=True)
    b = m.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)

    def step():
        w.grad = None
        b.grad = None
        graph(m, x, w, b).backward()
    return step


def time_per_step(step, n):
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def main(pairs=15, n=400):
    import torch
    import chainrule
    torch.set_num_threads(1)
    ours, theirs = step_fn(chainrule), step_fn(torch)
    for s in (ours, theirs):
        time_per_step(s, 50)  # warm up
    a, b = [], []
    for _ in range(pairs):
        a.append(time_per_step(ours, n))
        b.append(time_per_step(theirs, n))
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = statistics.median([x / y for x, y in zip(a, b)])
    print(f"tiny graph (8x8, 11 ops fwd+bwd): chainrule {ma * 1e6:.1f} us/step, "
          f"PyTorch {mb * 1e6:.1f} us/step, ratio {ratio:.2f}")
    return ratio


if __name__ == "__main__":
    main()
