"""Pooling forward + backward alone, for d2l's shapes: chainrule and PyTorch in one process,
interleaved, one thread each (torch.set_num_threads(1), chainrule.set_num_threads(1)),
medians of several pairs and the median ratio chainrule / PyTorch; forward alone under
no_grad as well (inference).

    python benchmarks/pool.py
    python benchmarks/pool.py --pairs 15
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from run import interleaved  # noqa: E402  (one timing loop for every benchmark)

# name, input shape, function, keyword arguments
ROWS = [
    ("LeNet max pool 2×2, 6×28×28, batch 256", (256, 6, 28, 28), "max_pool2d",
     dict(kernel_size=2)),
    ("LeNet avg pool 2×2, 6×28×28, batch 256", (256, 6, 28, 28), "avg_pool2d",
     dict(kernel_size=2)),
    ("ResNet max pool 3×3 stride 2 pad 1, 64×32×32, batch 32", (32, 64, 32, 32), "max_pool2d",
     dict(kernel_size=3, stride=2, padding=1)),
    ("adaptive avg pool to 1×1, 512×4×4, batch 256", (256, 512, 4, 4), "adaptive_avg_pool2d",
     dict(output_size=1)),
    ("adaptive avg pool to 1×1, 64×32×32, batch 32", (32, 64, 32, 32), "adaptive_avg_pool2d",
     dict(output_size=1)),
]


def step_fn(m, shape, fn, kw, backward, seed=0):
    """One pooling (and its backward against a fixed output gradient)."""
    rng = np.random.default_rng(seed)
    x = m.from_numpy(rng.standard_normal(shape, dtype=np.float32))
    pool = getattr(m.nn.functional, fn)
    with m.no_grad():
        g = m.from_numpy(rng.standard_normal(tuple(pool(x, **kw).shape), dtype=np.float32))
    if not backward:
        def forward():
            with m.no_grad():
                pool(x, **kw)
        return forward
    x.requires_grad_(True)

    def step():
        m.autograd.grad(pool(x, **kw), [x], g)
    return step


def run(pairs):
    import torch
    import chainrule
    torch.set_num_threads(1)
    chainrule.set_num_threads(1)
    for name, shape, fn, kw in ROWS:
        for backward in (True, False):
            fns = [step_fn(chainrule, shape, fn, kw, backward), step_fn(torch, shape, fn, kw,
                                                                         backward)]
            (a, b), ratio = interleaved(fns, pairs)
            yield name, "forward + backward" if backward else "forward (no_grad)", a, b, ratio


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pairs", type=int, default=9)
    args = p.parse_args()
    print("| pooling | pass | chainrule ms | PyTorch ms | ratio |")
    print("|---|---|---|---|---|")
    for name, what, a, b, ratio in run(args.pairs):
        print(f"| {name} | {what} | {a * 1e3:.2f} | {b * 1e3:.2f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
