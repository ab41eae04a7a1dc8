"""Where a replayed step of benchmarks/compiled.py's workloads goes: the main job's step
timed part by part inside whole epochs (each replayed step in place) and repeated alone,
and the tiny graph's step; `python benchmarks/compiled.py` prints it after its tables."""
import cProfile
import pstats
import statistics
import time

import numpy as np

from compiled import (MODES, WARMUP_EPOCHS, batches, check_replaying, compiled_epoch,
                      recorded_products, train_step, verified_entries, _us)
from main_job import build_main_job
from run import interleaved
import tiny_graph


def breakdown(compiled, args, extras, pairs, n=200):
    """Seconds per call, interleaved: the whole compiled call, its recorded kernel list run
    alone (what a replay runs after finding the model's tensors, building the signature and
    copying the inputs in), and each extra (name -> function) alone."""
    shape = args[0].shape if args else None
    entry = verified_entries(compiled)[shape]
    steps = entry.replay_steps or entry.recorder.steps  # fused where the mode fuses

    def kernels():
        for step in steps:
            step()
    fns = {"call": lambda: compiled(*args), "kernels": kernels,
           "guards": entry.state.failing, **extras}
    times, _ = interleaved([lambda f=f: [f() for _ in range(n)] for f in fns.values()], pairs)
    out = {k: t / n for k, t in zip(fns, times)}
    out["steps"] = len(steps)
    out["checks"] = len(entry.state.checks)
    return out


def main_job_breakdown(chainrule, X, y, pairs, mode=None):
    """Where a replayed main-job step (batch 32) goes, on a model of its own (running its
    kernels or its optimizer alone moves its weights, so not the compared models)."""
    net, opt = build_main_job(chainrule)
    step = chainrule.compile(train_step(net, opt, chainrule.nn.CrossEntropyLoss()), mode=mode)
    xb, yb = chainrule.from_numpy(X[:32]), chainrule.from_numpy(y[:32])
    for _ in range(WARMUP_EPOCHS):
        step(xb, yb)
    check_replaying(step, {xb.shape}, lambda: step(xb, yb))
    products, _ = recorded_products(verified_entries(step)[xb.shape], np.random.default_rng(0))

    def gemm():
        for a, b, out in products:
            np.matmul(a, b, out=out)
    t = breakdown(step, (xb, yb), {"adam": opt.step, "gemm": gemm}, pairs)
    t["products"] = len(products)
    return t, step, (xb, yb)


def tiny_graph_breakdown(chainrule, pairs):
    compiled = chainrule.compile(tiny_graph.step_fn(chainrule))
    for _ in range(WARMUP_EPOCHS):
        compiled()
    check_replaying(compiled, {None}, compiled)
    return breakdown(compiled, (), {}, pairs, n=1000)


def profile_step(step, args, n=300):
    prof = cProfile.Profile()
    prof.runcall(lambda: [step(*args) for _ in range(n)])
    print(f"\ncProfile of {n} replayed main-job steps (by own time):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def in_epoch_breakdown(chainrule, X, y, mode, epochs=20):
    """Where a replayed 32-row step goes inside whole epochs (where each step finds the
    caches as the other steps left them, unlike a step repeated alone): medians over the
    calls of the call, its products, its optimizer step, its other steps, and the rest
    (finding tensors, signature, guards, copying the batch in). Each replayed step is
    wrapped in a timer, which adds about 0.1 µs to it."""
    net, opt = build_main_job(chainrule)
    step = chainrule.compile(train_step(net, opt, chainrule.nn.CrossEntropyLoss()), mode=mode)
    tX, ty = chainrule.from_numpy(X), chainrule.from_numpy(y)
    for _ in range(WARMUP_EPOCHS):
        compiled_epoch(step, tX, ty, 32)
    entry = verified_entries(step)[(32, X.shape[1])]
    plain = list(entry.replay_steps)
    def kind(s):
        func, args = getattr(s, "func", None), getattr(s, "args", ())
        if func is np.matmul:
            return "products"
        stepping = getattr(func, "__name__", "") == "step" and args[:1] and args[0] is opt
        return "optimizer" if stepping else "other"  # (zero_grad is among the others)
    kinds = [kind(s) for s in plain]
    spent = dict.fromkeys(kinds, 0)
    clock = time.perf_counter_ns

    def timed(kind, s):
        def run():
            t0 = clock()
            s()
            spent[kind] += clock() - t0
        return run
    entry.replay_steps[:] = [timed(k, s) for k, s in zip(kinds, plain)]
    parts = {k: [] for k in ("call", *spent, "rest")}
    try:
        for _ in range(epochs):
            for i, j in batches(len(X), 32):
                xb, yb = tX[i:j], ty[i:j]
                for k in spent:
                    spent[k] = 0
                t0 = clock()
                step(xb, yb)
                call = clock() - t0
                if j - i == 32:
                    parts["call"].append(call)
                    for k, v in spent.items():
                        parts[k].append(v)
                    parts["rest"].append(call - sum(spent.values()))
    finally:
        entry.replay_steps[:] = plain
    out = {k: statistics.median(v) / 1e9 for k, v in parts.items()}
    out["counts"] = {k: kinds.count(k) for k in spent}
    return out


def where_time_goes(chainrule, args, X, y):
    for mode in MODES:
        t = in_epoch_breakdown(chainrule, X, y, mode)

        def share(s, whole=t["call"]):
            return f"{s * 1e6:.0f} µs ({100 * s / whole:.0f} %)"
        print(f"\nA replayed main-job step inside epochs, mode={mode} (medians of "
              f"{len(batches(len(X), 32)) - 1} × 20 calls): {t['call'] * 1e6:.0f} µs = "
              f"finding tensors, signature, guards, copying the batch in {share(t['rest'])} + "
              f"{t['counts']['products']} matrix products {share(t['products'])} + the "
              f"optimizer step {share(t['optimizer'])} + the other {t['counts']['other']} "
              f"replayed steps {share(t['other'])}")
    for mode in MODES:
        t, step, batch = main_job_breakdown(chainrule, X, y, args.pairs, mode)

        def part(s, whole=t):
            return f"{s * 1e6:.0f} µs ({100 * s / whole['call']:.0f} %)"
        print(f"A replayed main-job step, mode={mode} (batch 32, idle, alone): "
              f"{t['call'] * 1e6:.0f} µs = finding tensors, signature, copying the batch in "
              f"{part(t['call'] - t['kernels'])} + {t['products']} matrix products "
              f"{part(t['gemm'])} + Adam step {part(t['adam'])} + the other "
              f"{t['steps'] - t['products'] - 1} replayed steps "
              f"{part(t['kernels'] - t['gemm'] - t['adam'])}; of the first part, checking "
              f"its {t['checks']} guards on Python values {part(t['guards'])}")
    tiny = tiny_graph_breakdown(chainrule, args.pairs)
    print(f"A replayed tiny-graph step: {_us(tiny['call'])} = finding tensors, signature "
          f"{part(tiny['call'] - tiny['kernels'], tiny)} + its {tiny['steps']} replayed steps "
          f"{part(tiny['kernels'], tiny)}; checking its {tiny['checks']} guards "
          f"{part(tiny['guards'], tiny)}")
    if args.profile:
        profile_step(step, batch)
