"""The d2l MLP (784-256-10, batch 256, SGD, cross-entropy) trained for one epoch on random
data through chainrule and PyTorch in one process, interleaved. Prints the median epoch
time of each, the median ratio chainrule / PyTorch and chainrule's achieved GFLOPS."""
import argparse
import statistics
import time

import numpy as np


def make_data(rows, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=rows).astype(np.int64)
    return X, y


def build(m, hidden=256, opt="sgd", dropout=0.0, weight_decay=0.0, inputs=784):
    m.manual_seed(0)
    layers = [m.nn.Linear(inputs, hidden), m.nn.ReLU()]
    if dropout:
        layers.append(m.nn.Dropout(dropout))
    layers.append(m.nn.Linear(hidden, 10))
    net = m.nn.Sequential(*layers) if hidden else m.nn.Sequential(m.nn.Linear(inputs, 10))
    if opt == "sgd":
        optimizer = m.optim.SGD(net.parameters(), lr=0.1, weight_decay=weight_decay)
    else:
        optimizer = m.optim.Adam(net.parameters(), lr=1e-3, weight_decay=weight_decay)
    return net, optimizer


def epoch(m, net, optimizer, loss_fn, X, y, batch=256):
    for i in range(0, len(X), batch):
        out = net(X[i:i + batch])
        loss = loss_fn(out, y[i:i + batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def flops(rows, hidden, inputs=784):
    # forward 2·n·(in·h + h·10); backward twice that (weights and inputs, except layer 1 input)
    f = 2 * rows * (inputs * hidden + hidden * 10) if hidden else 2 * rows * inputs * 10
    b = 2 * rows * (inputs * hidden + 2 * hidden * 10) if hidden else 2 * rows * inputs * 10
    return f + b


def run(rows=60000, hidden=256, opt="sgd", dropout=0.0, weight_decay=0.0, pairs=5):
    import torch
    import chainrule
    X, y = make_data(rows)
    setups = []
    for m in (chainrule, torch):
        net, optimizer = build(m, hidden, opt, dropout, weight_decay)
        setups.append((m, net, optimizer, m.nn.CrossEntropyLoss(), m.from_numpy(X), m.from_numpy(y)))
    times = {chainrule: [], torch: []}
    for k in range(pairs + 1):
        for m, net, optimizer, loss_fn, tX, ty in setups:
            t0 = time.perf_counter()
            epoch(m, net, optimizer, loss_fn, tX, ty)
            if k:  # the first pair warms up
                times[m].append(time.perf_counter() - t0)
    a, b = times[chainrule], times[torch]
    ratio = statistics.median(x / z for x, z in zip(a, b))
    gflops = flops(rows, hidden) / statistics.median(a) / 1e9
    return statistics.median(a), statistics.median(b), ratio, gflops


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--pairs", type=int, default=5)
    args = p.parse_args()
    import torch
    torch.set_num_threads(2)
    a, b, ratio, gflops = run(args.rows, args.hidden, pairs=args.pairs)
    print(f"d2l MLP epoch (784-{args.hidden}-10, batch 256, SGD, {args.rows} rows): chainrule "
          f"{a:.3f} s, PyTorch {b:.3f} s, ratio {ratio:.2f}, chainrule {gflops:.0f} GFLOPS")


if __name__ == "__main__":
    main()
