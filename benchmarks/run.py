"""The whole performance table in one go: every benchmark runs chainrule and PyTorch in one
process, interleaved, medians of several pairs (peak memory: one subprocess each).

    python benchmarks/run.py            # full table (several minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer rows and pairs
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import mlp_epoch  # noqa: E402
import tiny_graph  # noqa: E402


def interleaved(fns, pairs, raw=False):
    """Median time of each function over `pairs` interleaved rounds (after one warm-up),
    and the median per-round ratio of the first two; raw=True: each round's times."""
    times = [[] for _ in fns]
    for k in range(pairs + 1):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            if k:
                times[i].append(time.perf_counter() - t0)
    ratio = statistics.median(a / b for a, b in zip(times[0], times[1]))
    return (times if raw else [statistics.median(t) for t in times]), ratio


def training(rows, hidden, opt, dropout, weight_decay, pairs, inputs=784):
    import torch
    import chainrule
    X, y = mlp_epoch.make_data(rows)
    X = X[:, :inputs]
    fns = []
    for m in (chainrule, torch):
        net, optimizer = mlp_epoch.build(m, hidden, opt, dropout, weight_decay, inputs)
        loss = m.nn.CrossEntropyLoss()
        tX, ty = m.from_numpy(np.ascontiguousarray(X)), m.from_numpy(y)
        fns.append(lambda m=m, net=net, o=optimizer, l=loss, a=tX, b=ty: mlp_epoch.epoch(m, net, o, l, a, b))
    return interleaved(fns, pairs)


def inference(rows, pairs):
    import torch
    import chainrule
    X, _ = mlp_epoch.make_data(rows)
    fns = []
    for m in (chainrule, torch):
        net, _ = mlp_epoch.build(m)
        net.eval()
        tX = m.from_numpy(X)

        def run(m=m, net=net, tX=tX):
            with m.no_grad():
                for i in range(0, rows, 1024):
                    net(tX[i:i + 1024])
        fns.append(run)
    (a, b), ratio = interleaved(fns, pairs)
    return rows / a, rows / b


def dataloader(rows, pairs):
    import torch
    import torch.utils.data
    import chainrule
    import chainrule.utils.data
    X, y = mlp_epoch.make_data(rows)
    fns = []
    for m, mod in ((chainrule, chainrule.utils.data), (torch, torch.utils.data)):
        ds = mod.TensorDataset(m.from_numpy(X), m.from_numpy(y))
        loader = mod.DataLoader(ds, batch_size=256, shuffle=True)
        fns.append(lambda loader=loader: [None for _ in loader])
    return interleaved(fns, pairs)


_RSS = """
import sys
sys.path.insert(0, {here!r})
import mlp_epoch, numpy as np
m = __import__({module!r})
X, y = mlp_epoch.make_data({rows})
net, opt = mlp_epoch.build(m)
mlp_epoch.epoch(m, net, opt, m.nn.CrossEntropyLoss(), m.from_numpy(X), m.from_numpy(y))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""


def peak_rss(rows):
    here = str(Path(__file__).parent)
    out = {}
    for module in ("chainrule", "torch"):
        code = _RSS.format(here=here, module=module, rows=rows)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out[module] = float(res.stdout.strip().splitlines()[-1])
    return out["chainrule"], out["torch"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20,000 rows, 3 pairs")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args()
    import torch
    torch.set_num_threads(2)
    rows, pairs = (20000, 3) if args.quick else (60000, 5)
    rows_tbl = []

    def row(name, ours, theirs, ratio, target, extra=""):
        rows_tbl.append(dict(benchmark=name, chainrule=ours, pytorch=theirs, ratio=ratio, target=target))
        print(f"| {name} | {ours} | {theirs} | {ratio:.2f} | {target} |{extra}", flush=True)

    print("| benchmark | chainrule | PyTorch | ratio | target |\n|---|---|---|---|---|")
    (a, b), r = training(rows, 256, "sgd", 0.0, 0.0, pairs)
    gf = mlp_epoch.flops(rows, 256) / a / 1e9
    row(f"d2l MLP epoch ({rows} rows), SGD", f"{a:.3f} s ({gf:.0f} GFLOPS)", f"{b:.3f} s", r, "≤ 0.80")
    (a, b), r = training(rows, 256, "adam", 0.2, 1e-4, pairs)
    row("same, Adam + dropout 0.2 + weight decay", f"{a:.3f} s", f"{b:.3f} s", r, "≤ 0.85")
    (a, b), r = training(rows, 0, "sgd", 0.0, 0.0, pairs)
    row("softmax regression epoch (784-10)", f"{a:.3f} s", f"{b:.3f} s", r, "≤ 0.80")
    r = tiny_graph.main(pairs=max(pairs, 7), n=300)
    row("tiny graph, 11 ops fwd+bwd on 8×8", "", "", r, "≤ 0.40")
    a, b = inference(rows, pairs)
    row("MLP inference (no_grad), rows/s", f"{a:,.0f}", f"{b:,.0f}", a / b, "≥ 1.2 (throughput)")
    a, b = peak_rss(rows)
    row("peak RSS of a training epoch", f"{a:.0f} MiB", f"{b:.0f} MiB", a / b, "≤ 1.0")
    (a, b), r = dataloader(rows, pairs)
    (e, _), _ = training(rows, 256, "sgd", 0.0, 0.0, 1)
    row("DataLoader shuffle, one pass", f"{a:.3f} s ({100 * a / e:.1f} % of epoch)", f"{b:.3f} s", r, "≤ 5 % of epoch")
    print("\nScaling (chainrule, SGD epoch):\n| rows | hidden | seconds | GFLOPS |\n|---|---|---|---|")
    for n, h in ((rows // 4, 256), (rows // 2, 256), (rows, 256), (rows, 64), (rows, 1024)):
        (t, _), _ = training(n, h, "sgd", 0.0, 0.0, 1)
        print(f"| {n} | {h} | {t:.3f} | {mlp_epoch.flops(n, h) / t / 1e9:.0f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows_tbl, indent=2))


if __name__ == "__main__":
    main()
