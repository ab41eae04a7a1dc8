"""What fit's default recording (history.signals, for the diagnosis) costs on the main
job's epoch: digits, 64-256-128-10 ReLU MLP, Adam, batch 32, 1,438 rows, through `fit`,
with record=True and record=False interleaved; medians of several pairs.

    python benchmarks/diagnosis/overhead.py              # 10 pairs of 5-epoch fits
    python benchmarks/diagnosis/overhead.py --pairs 20 --epochs 10
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from main_job import digits_arrays  # noqa: E402


def main_job_fit(record, epochs):
    import chainrule
    from chainrule import nn
    from chainrule.train import fit
    X, y = digits_arrays()
    tX, ty = chainrule.from_numpy(X), chainrule.from_numpy(y)

    def run():
        chainrule.manual_seed(0)
        net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                            nn.Linear(128, 10))
        fit(net, (tX, ty), loss=nn.CrossEntropyLoss(),
            optimizer=chainrule.optim.Adam(net.parameters(), lr=1e-3), epochs=epochs,
            batch_size=32, progress=False, record=record, seed=0)
    return run


def time_in_recorder(epochs):
    """Seconds per epoch spent inside the recorder's own hooks (less noisy than the
    difference of two whole-epoch timings on a shared machine)."""
    from chainrule.train.recording import RunRecorder
    spent = [0.0]
    hooks = ("on_train_begin", "on_epoch_begin", "on_backward_end", "see_batch",
             "on_epoch_end", "on_train_end")
    originals = {name: getattr(RunRecorder, name) for name in hooks}

    def timed(original):
        def hook(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0
        return hook
    for name, original in originals.items():
        setattr(RunRecorder, name, timed(original))
    try:
        fn = main_job_fit(True, epochs)
        fn()
        spent[0] = 0.0
        t0 = time.perf_counter()
        fn()
        total = time.perf_counter() - t0
    finally:
        for name, original in originals.items():
            setattr(RunRecorder, name, original)
    return spent[0] / epochs, total / epochs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="chainrule.set_num_threads (default 1: the pinned main-job row)")
    args = ap.parse_args(argv)
    import chainrule
    chainrule.set_num_threads(args.threads)
    fns = [main_job_fit(True, args.epochs), main_job_fit(False, args.epochs)]
    times = [[], []]
    for k in range(args.pairs + 1):  # the first pair warms up
        order = (0, 1) if k % 2 else (1, 0)  # alternate: no side always runs second
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            if k:
                times[i].append((time.perf_counter() - t0) / args.epochs)
    print(f"main job through fit, {args.epochs} epochs per call, {args.pairs} pairs, "
          f"{args.threads} thread(s)")
    print("| recording | median ms per epoch | fastest ms per epoch |\n|---|---|---|")
    for label, t in (("record=True (default)", times[0]), ("record=False", times[1])):
        print(f"| {label} | {statistics.median(t) * 1e3:.2f} | {min(t) * 1e3:.2f} |")
    ratio = statistics.median(a / b for a, b in zip(*times))
    print(f"overhead of the default recording: {ratio - 1:+.1%} (median of pair ratios), "
          f"{min(times[0]) / min(times[1]) - 1:+.1%} (fastest against fastest)")
    inside, epoch = time_in_recorder(args.epochs)
    print(f"time inside the recorder's hooks: {inside * 1e3:.2f} ms per epoch of "
          f"{epoch * 1e3:.1f} ms ({inside / epoch:.1%})")


if __name__ == "__main__":
    main()
