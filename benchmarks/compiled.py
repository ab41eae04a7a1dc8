"""`chainrule.compile` against PyTorch eager and chainrule eager, interleaved in one
process, one thread each, medians of several rounds; each compiled workload but the d2l
epoch in compile's default mode and in mode="max-autotune", in the same rounds:

1. the main job's epoch (digits, 64-256-128-10, batch 32, Adam; 45 steps), with the whole
   training step compiled; on an idle machine and, with --busy, also beside one busy-loop;
   with, when JAX is installed (optional), JAX's jit of the same step against PyTorch
   (jax_main_job.py; one thread);
2. the tiny graph (11 ops on 8×8, forward + backward) as a compiled function;
3. the d2l MLP epoch (784-256-10, batch 256, SGD), compiled against chainrule eager;
4. the arithmetic alone: the replayed steps' own matrix products (shapes, strides and
   dtypes read from the recordings), as bare np.matmul calls (and as torch.matmul calls
   on the same memory), in the same rounds;
then where a replayed main-job step and a replayed tiny-graph step spend their time
(compiled_breakdown.py).

Before anything is timed, each compiled function must be replaying (not running eagerly,
every batch shape verified, no new recording during an epoch) and the compiled model's
weights must equal the eager model's bit for bit; they are compared again after timing.

    python benchmarks/compiled.py                # idle machine (under a minute)
    python benchmarks/compiled.py --busy         # also beside one busy-loop process
    python benchmarks/compiled.py --profile      # also a cProfile of replayed steps
"""
import argparse
import contextlib
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import jax_main_job  # noqa: E402
import mlp_epoch  # noqa: E402
import tiny_graph  # noqa: E402
from main_job import (build_main_job, busy_machine, digits_arrays,  # noqa: E402
                      main_job_epoch, threads_setting)
from run import interleaved  # noqa: E402  (one timing loop for every benchmark)

WARMUP_EPOCHS = 3  # the first two calls of each batch shape record; the third replays
# chainrule.compile's default, and max-autotune: numba loops (the `fast` extra) with eager's bits
MODES = (None, "max-autotune")


def train_step(net, opt, loss_fn):
    """One training step as a function of the batch: what a learner compiles. The same
    calls in the same order as main_job_epoch / mlp_epoch.epoch, so weights can match."""
    def step(xb, yb):
        loss = loss_fn(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def batches(n, batch):
    return [(i, min(i + batch, n)) for i in range(0, n, batch)]


def compiled_epoch(step, X, y, batch):
    for i, j in batches(len(X), batch):
        step(X[i:j], y[i:j])


# ---- is it really replaying, and replaying the right numbers? -----------------------------
def verified_entries(compiled):
    """{shape of the first argument: its verified recording}."""
    out = {}
    for key, entries in compiled._cache.items():
        for entry in entries:  # one per set of guarded Python values
            if entry.verified:  # the key: grad mode, default dtype, argument keys, ...
                out[key[2][0][1] if key[2] else None] = entry
    return out


def check_replaying(compiled, shapes, run_once):
    """Stop unless `compiled` replays every shape in `shapes` from a verified recording and
    `run_once()` (one more epoch) neither records again nor falls back to eager."""
    if compiled._eager is not None:
        raise SystemExit(f"{compiled!r} runs eagerly: {compiled._eager}")
    missing = set(shapes) - set(verified_entries(compiled))
    if missing:
        raise SystemExit(f"{compiled!r}: no verified recording for inputs of shape {missing}")
    def recordings():
        return {k: [id(e) for e in v] for k, v in compiled._cache.items()}
    before = recordings()
    run_once()
    if compiled._eager is not None or recordings() != before:
        raise SystemExit(f"{compiled!r} recorded again or gave up during a warm epoch "
                         f"({compiled._eager})")


def assert_same_weights(a, b, what):
    """Stop unless the two models' weights are equal bit for bit (a checked `raise`, not
    an `assert`, so `python -O` cannot skip it)."""
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        raise AssertionError(f"{what}: the models' state keys differ")
    for k in sa:
        x, y = sa[k].numpy(), sb[k].numpy()
        if x.dtype != y.dtype or x.tobytes() != y.tobytes():
            raise AssertionError(f"{what}: compiled and eager weights differ in {k} (max "
                                 f"|diff| {np.abs(x.astype(np.float64) - y).max():.3g})")


# ---- the arithmetic alone -----------------------------------------------------------------
def _operand(desc, rng):
    """An array laid out as a recorded operand: the same shape, dtype and strides."""
    kind, _, shape, dtype, strides = desc
    if kind != "t":
        raise ValueError(f"a matrix product of a constant operand: {desc[:2]}")
    item = np.dtype(dtype).itemsize
    span = sum((n - 1) * s for n, s in zip(shape, strides)) // item + 1
    base = rng.standard_normal(span).astype(dtype)
    return np.lib.stride_tricks.as_strided(base, shape, strides)


def recorded_products(entry, rng):
    """The recording's np.matmul calls as (a, b, out) on fresh arrays of the same layout,
    and their floating-point operations."""
    calls, flops = [], 0
    for desc in entry.recorder.descs:  # (kernel name, its arguments described, ...)
        if desc[0] != "matmul":
            continue
        a, b = (_operand(d, rng) for d in desc[1])
        out = np.matmul(a, b)
        calls.append((a, b, out))
        flops += 2 * out.size * a.shape[-1]
    return calls, flops


def gemm_epoch_fns(torch, compiled, X, batch):
    """Two functions doing one epoch's matrix products alone, with NumPy (what a replay
    calls) and with PyTorch (on the same memory), and the epoch's flops."""
    rng = np.random.default_rng(0)
    per_shape = {s: recorded_products(e, rng) for s, e in verified_entries(compiled).items()}
    plan, flops = [], 0
    for i, j in batches(len(X), batch):
        calls, f = per_shape[X[i:j].shape]
        plan.extend(calls)
        flops += f

    tplan = [tuple(torch.from_numpy(v) for v in call) for call in plan]

    def run():
        for a, b, out in plan:
            np.matmul(a, b, out=out)

    def run_torch():
        for a, b, out in tplan:
            torch.matmul(a, b, out=out)
    return run, run_torch, flops


# ---- workloads ----------------------------------------------------------------------------
def epoch_workload(torch, chainrule, build, epoch, X, y, batch, modes=(None,)):
    """[the compiled epoch of the first mode, PyTorch eager epoch, chainrule eager epoch,
    its products alone through NumPy and through PyTorch, the compiled epochs of the other
    modes], the epoch's flops, the first compiled step and the models; every compiled
    model checked to replay the eager numbers."""
    fns, nets, steps = {}, {}, {}
    kinds = [(("compiled", mode), chainrule) for mode in modes]
    for kind, m in (*kinds, ("torch", torch), ("eager", chainrule)):
        net, opt = build(m)
        tX, ty = m.from_numpy(X), m.from_numpy(y)
        loss_fn = m.nn.CrossEntropyLoss()
        nets[kind] = net
        if kind[0] == "compiled":
            steps[kind] = step = chainrule.compile(train_step(net, opt, loss_fn), mode=kind[1])
            fns[kind] = lambda s=step, a=tX, b=ty: compiled_epoch(s, a, b, batch)
        else:
            fns[kind] = (lambda m=m, n=net, o=opt, lf=loss_fn, a=tX, b=ty:
                         epoch(m, n, o, lf, a, b, batch))
    chainrule_fns = [f for k, f in fns.items() if k != "torch"]

    def one_more():  # every chainrule model runs as many epochs as the eager one
        for f in chainrule_fns:
            f()
    for _ in range(WARMUP_EPOCHS):
        one_more()
    shapes = {(j - i, X.shape[1]) for i, j in batches(len(X), batch)}
    for kind, _ in kinds:
        check_replaying(steps[kind], shapes, one_more)
    for kind, _ in kinds:
        assert_same_weights(nets[kind], nets["eager"], f"{kind[1]}: after the warm-up epochs")
    first = steps[kinds[0][0]]
    gemm, torch_gemm, flops = gemm_epoch_fns(torch, first, X, batch)
    order = [fns[kinds[0][0]], fns["torch"], fns["eager"], gemm, torch_gemm,
             *(fns[k] for k, _ in kinds[1:])]
    return order, flops, first, nets


def timed_epochs(torch, chainrule, build, epoch, X, y, batch, pairs, jax_epoch=None,
                 modes=(None,)):
    """One dict per mode, all timed in the same rounds (so against the same PyTorch);
    jax_epoch: JAX's epoch of the same step, in those rounds too (its ratio to PyTorch is
    the ratio of the medians)."""
    fns, flops, step, nets = epoch_workload(torch, chainrule, build, epoch, X, y, batch, modes)
    times, _ = interleaved(fns + [jax_epoch] * (jax_epoch is not None), pairs, raw=True)
    _, theirs, eager, gemm, torch_gemm = (statistics.median(t) for t in times[:5])
    # every round ran every chainrule epoch once, so the weights must still agree
    for mode in modes:
        assert_same_weights(nets[("compiled", mode)], nets["eager"],
                            f"{mode}: after the timed epochs")
    jax = statistics.median(times[-1]) if jax_epoch else None
    out = []
    for k, mode in enumerate(modes):
        mine = times[0] if k == 0 else times[4 + k]
        out.append(dict(compiled=statistics.median(mine), torch=theirs, eager=eager,
                        gemm=gemm, torch_gemm=torch_gemm, flops=flops, step=step, jax=jax,
                        ratio=statistics.median(a / b for a, b in zip(mine, times[1]))))
    return out


def _closure(fn):
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__)))


def timed_tiny_graph(torch, chainrule, pairs, n, modes=(None,)):
    """Per-step times, one dict per compile mode, all in the same rounds: compiled tiny
    graph, PyTorch eager, chainrule eager."""
    compiled = [chainrule.compile(tiny_graph.step_fn(chainrule), mode=mode) for mode in modes]
    eager, theirs = tiny_graph.step_fn(chainrule), tiny_graph.step_fn(torch)
    for c in compiled:
        for _ in range(WARMUP_EPOCHS):
            c()
            eager()
        check_replaying(c, {None}, lambda c=c: (c(), eager()))
        mine, other = _closure(c.fn), _closure(eager)
        for name in ("w", "b"):
            if mine[name].grad.numpy().tobytes() != other[name].grad.numpy().tobytes():
                raise AssertionError(f"tiny graph, {c!r}: compiled and eager gradients of "
                                     f"{name} differ")
    fns = [lambda s=s: tiny_graph.time_per_step(s, n) for s in (*compiled, theirs, eager)]
    times, _ = interleaved(fns, pairs, raw=True)
    theirs_t, eager_t = times[-2], times[-1]
    return [dict(compiled=statistics.median(t) / n, torch=statistics.median(theirs_t) / n,
                 eager=statistics.median(eager_t) / n,
                 ratio=statistics.median(a / b for a, b in zip(t, theirs_t)))
            for t in times[:len(modes)]]


# ---- the tables ---------------------------------------------------------------------------
def _ms(t):
    return f"{t * 1e3:.1f} ms"


def _us(t):
    return f"{t * 1e6:.1f} µs"


def jax_epoch_or_none(X, y, skip):
    """JAX's jit of the same main-job step (jax_main_job.py), or None with a message when
    JAX is not installed (it is no dependency of chainrule)."""
    if skip:
        return None
    if not jax_main_job.available():
        print("(no JAX row: JAX is not installed; `pip install jax` adds it)", flush=True)
        return None
    return jax_main_job.epoch_fn(X, y)


def jax_row(X, r):
    name = f"main job epoch, JAX jit ({len(batches(len(X), 32))} steps, same rounds)"
    print(f"| {name} | idle | {_ms(r['jax'])} (JAX) | {_ms(r['torch'])} | | "
          f"{r['jax'] / r['torch']:.2f} (of medians) | | JAX, one thread |", flush=True)


def _row(name, machine, r, fmt, goal):
    print(f"| {name} | {machine} | {fmt(r['compiled'])} | {fmt(r['torch'])} | "
          f"{fmt(r['eager'])} | {r['ratio']:.2f} | {r['compiled'] / r['eager']:.2f} | {goal} |",
          flush=True)


def speed_table(torch, chainrule, args, X, y):
    print("| workload | machine | compiled | PyTorch eager | chainrule eager | compiled / "
          "PyTorch | compiled / chainrule eager | goal |\n|---|---|---|---|---|---|---|---|")
    epochs = {}
    name = f"main job epoch ({len(batches(len(X), 32))} steps, batch 32, Adam)"
    jax_epoch = jax_epoch_or_none(X, y, args.no_jax)
    for busy in ((False, True) if args.busy else (False,)):
        with busy_machine() if busy else contextlib.nullcontext():
            rows = timed_epochs(torch, chainrule, build_main_job, main_job_epoch, X, y, 32,
                                args.pairs, None if busy else jax_epoch, modes=MODES)
        for mode, r in zip(MODES, rows):
            epochs[f"main job ({'busy' if busy else 'idle'}, mode={mode})"] = r
            _row(f"{name}, mode={mode}", "busy" if busy else "idle", r, _ms,
                 "≤ 0.30 vs PyTorch")
        if rows[0]["jax"] is not None:
            jax_row(X, rows[0])
    for mode, r in zip(MODES, timed_tiny_graph(torch, chainrule, args.pairs, 400, MODES)):
        _row(f"tiny graph, 11 ops fwd+bwd on 8×8, per step, mode={mode}", "idle", r, _us,
             "≤ 0.25 vs PyTorch")
    DX, Dy = mlp_epoch.make_data(args.rows)
    (r,) = timed_epochs(torch, chainrule, mlp_epoch.build, mlp_epoch.epoch, DX, Dy, 256,
                        args.pairs)
    epochs["d2l MLP"] = r
    _row(f"d2l MLP epoch ({args.rows} rows, batch 256, SGD)", "idle", r, _ms,
         "≤ 1.00 vs chainrule eager (not slower)")
    return epochs


def products_table(epochs):
    print("\n| an epoch's matrix products alone (float32, 1 thread) | np.matmul | GFLOPS | "
          "compiled epoch / products alone | torch.matmul | PyTorch epoch / its products "
          "|\n|---|---|---|---|---|---|")
    for name, r in epochs.items():
        print(f"| {name}: {r['flops'] / 1e6:.0f} MFLOP | {_ms(r['gemm'])} | "
              f"{r['flops'] / r['gemm'] / 1e9:.0f} | {r['compiled'] / r['gemm']:.2f} | "
              f"{_ms(r['torch_gemm'])} | {r['torch'] / r['torch_gemm']:.2f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=9, help="timed rounds per workload")
    p.add_argument("--rows", type=int, default=20000, help="rows of the d2l epoch")
    p.add_argument("--busy", action="store_true", help="also time the main job beside a busy loop")
    p.add_argument("--profile", action="store_true", help="cProfile replayed main-job steps")
    p.add_argument("--no-jax", action="store_true", help="leave out the JAX row (it runs "
                   "only when jax is installed)")
    args = p.parse_args()
    import torch
    import chainrule
    import chainrule.threads  # noqa: F401
    threads_setting(torch, chainrule, True, None)  # one thread each (main_job.py's pinned rows)
    X, y = digits_arrays()
    products_table(speed_table(torch, chainrule, args, X, y))
    from compiled_breakdown import where_time_goes  # (it imports this file's helpers)
    where_time_goes(chainrule, args, X, y)


if __name__ == "__main__":
    main()
