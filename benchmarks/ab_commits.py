"""The working tree's chainrule against another commit's, in one process, interleaved: the
figure to trust for a change on a machine whose speed moves between runs (two processes,
or two runs of compiled.py, each see a different machine). Comparing a commit with itself
shows the noise: a few percent either way on a shared 2-core machine.

The other commit's `src/chainrule` is exported (git archive) into a temporary folder as
the package `chainrule_base`, and both build the main job (compiled, the chosen mode) and
the tiny graph from the same seed; their epochs and steps alternate, and the script stops
unless both models' weights are equal bit for bit at the end (a speed change must not
change a number).

    python benchmarks/ab_commits.py HEAD~1                       # max-autotune, 30 rounds
    python benchmarks/ab_commits.py HEAD~3 --mode default --rounds 20
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from compiled import compiled_epoch, train_step  # noqa: E402
from main_job import build_main_job, digits_arrays  # noqa: E402
import tiny_graph  # noqa: E402


def export(commit, into):
    """The commit's src/chainrule as the package `chainrule_base` under `into`."""
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=HERE, check=True,
                          capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit, "src/chainrule"], cwd=root,
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    (Path(into) / "src" / "chainrule").rename(Path(into) / "chainrule_base")
    sys.path.insert(0, into)


def main_job(libs, mode, rounds):
    X, y = digits_arrays()
    runs, nets = [], []
    for m in libs:
        net, opt = build_main_job(m)
        nets.append(net)
        step = m.compile(train_step(net, opt, m.nn.CrossEntropyLoss()), mode=mode)
        runs.append((step, m.from_numpy(X), m.from_numpy(y)))
    for _ in range(4):  # recordings, verification, a replayed epoch
        for step, tX, ty in runs:
            compiled_epoch(step, tX, ty, 32)
    times = [[], []]
    for k in range(rounds):
        for i in _order(k):
            step, tX, ty = runs[i]
            t0 = time.perf_counter()
            compiled_epoch(step, tX, ty, 32)
            times[i].append(time.perf_counter() - t0)
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        if p._data.tobytes() != q._data.tobytes():
            raise SystemExit("the two commits' models have different weights")
    return times


def tiny(libs, mode, rounds, n=400):
    steps = [m.compile(tiny_graph.step_fn(m), mode=mode) for m in libs]
    for _ in range(5):
        for s in steps:
            s()
    times = [[], []]
    for k in range(rounds):
        for i in _order(k):
            times[i].append(tiny_graph.time_per_step(steps[i], n))
    return times


def _order(k):
    """Which goes first alternates between rounds: the first of a pair can find the
    machine in another state than the second."""
    return (0, 1) if k % 2 == 0 else (1, 0)


def report(name, times, unit, scale):
    new, base = times
    ratio = statistics.median(a / b for a, b in zip(new, base))
    print(f"{name}: working tree {statistics.median(new) * scale:.2f} {unit}, base "
          f"{statistics.median(base) * scale:.2f} {unit}, ratio (median of rounds) {ratio:.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("commit", help="the commit to compare with (HEAD~1, a hash, a tag)")
    p.add_argument("--mode", default="max-autotune", choices=["max-autotune", "default"])
    p.add_argument("--rounds", type=int, default=30)
    args = p.parse_args()
    mode = None if args.mode == "default" else args.mode
    with tempfile.TemporaryDirectory() as into:
        export(args.commit, into)
        import chainrule
        import chainrule_base
        libs = (chainrule, chainrule_base)
        for m in libs:
            m.set_num_threads(1)
        np.random.seed(0)
        report(f"main job epoch, mode={args.mode}", main_job(libs, mode, args.rounds), "ms", 1e3)
        report(f"tiny graph step, mode={args.mode}", tiny(libs, mode, args.rounds), "µs", 1e6)
        print("weights equal bit for bit after the main job's epochs")


if __name__ == "__main__":
    main()
