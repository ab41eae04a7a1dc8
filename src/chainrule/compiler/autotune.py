"""max-autotune's memory order for a replay's matrix products, chosen by timing.

How fast BLAS multiplies depends on its operands' memory order: on some CPUs a product
whose left operand is a row-major batch runs faster when that batch is first copied into
column-major order. The order can change which kernel runs, and so the bits, so a variant
(an operand copied into the other order before the product) is only a candidate when it
gives the recorded product's bits exactly, on the recorded operands and on random ones of
the same shapes and orders: a kernel's summation order does not depend on the values, so
random operands expose any other order. Among candidates the fastest by timing replaces
the product; the timing (and so the load of the machine) picks among equal bits only."""
import functools
import statistics
import time

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_MIN_WORK = 1 << 15  # multiply-adds below which a product is too quick to gain anything
_ROUNDS = 21         # timed runs of each variant, interleaved (fewer for large products:
_BUDGET_NS = 30e6    # about this long in all, once per product and recording)
_MARGIN = 0.9        # a variant must take under this share of the product's own time


def products(steps, timer=time.perf_counter_ns):
    """`steps` with each large enough 2-D float product replaced by its fastest variant
    of equal bits (the product itself when none is faster)."""
    out = []
    for step in steps:
        operands = _product(step)
        out.extend(_fastest(step, *operands, timer) if operands else (step,))
    return out


def _product(step):
    """(a, b, out) of a step `np.matmul(a, b, out)` on 2-D float arrays in row- or
    column-major order, `out` row-major and apart from both; else None."""
    if (type(step) is not functools.partial or step.func is not np.matmul or step.keywords
            or len(step.args) != 3):
        return None
    a, b, out = step.args
    if not all(type(x) is np.ndarray and x.ndim == 2 and x.dtype == out.dtype
               for x in (a, b, out)) or out.dtype not in _FLOATS:
        return None
    if a.shape[0] * a.shape[1] * b.shape[1] < _MIN_WORK or not out.flags.c_contiguous:
        return None
    if not all(x.flags.c_contiguous or x.flags.f_contiguous for x in (a, b)):
        return None  # the random probes could not have its layout
    if np.shares_memory(a, out) or np.shares_memory(b, out):
        return None
    return a, b, out


def _other_order(x):
    """An empty array of x's shape in the other memory order, or None when x is in
    neither (or both: a row or a column)."""
    if x.flags.c_contiguous == x.flags.f_contiguous:
        return None
    return np.empty(x.shape, x.dtype, order="F" if x.flags.c_contiguous else "C")


def variants(a, b, out):
    """The product's variants: lists of steps that copy an operand into the other memory
    order, then multiply."""
    copies = {"a": _other_order(a), "b": _other_order(b)}
    found = []
    for which in (("a",), ("b",), ("a", "b")):
        if any(copies[w] is None for w in which):
            continue
        steps = [functools.partial(np.copyto, copies[w], a if w == "a" else b) for w in which]
        steps.append(functools.partial(np.matmul, copies["a"] if "a" in which else a,
                                       copies["b"] if "b" in which else b, out))
        found.append(steps)
    return found


def _run(steps):
    for step in steps:
        step()


def _fastest(step, a, b, out, timer):
    kept = out.copy()  # the recording's last result: left as it was found
    try:
        found = variants(a, b, out)
        probes = _probes(a, b, out)
        candidates = [v for v, p in zip(found, variants(*probes))
                      if _same_bits([step], v, out) and _same_bits(
                          [functools.partial(np.matmul, *probes)], p, probes[2])]
        if not candidates:
            return [step]
        times = _timed([[step], *candidates], timer)
        best = min(range(len(candidates)), key=lambda k: times[k + 1])
        return candidates[best] if times[best + 1] < _MARGIN * times[0] else [step]
    finally:
        np.copyto(out, kept)


def _probes(a, b, out):
    """Random operands in a's and b's memory order (and a result array like out)."""
    rng = np.random.default_rng(0)
    probes = []
    for x in (a, b):
        p = np.empty(x.shape, x.dtype, order="F" if x.flags.f_contiguous and not
                     x.flags.c_contiguous else "C")
        p[...] = rng.standard_normal(x.shape)
        probes.append(p)
    return (*probes, np.empty_like(out))


def _same_bits(product, variant, out):
    """Whether the steps `variant` leave in `out` what the steps `product` leave, bit
    for bit."""
    _run(product)
    expected = out.copy()
    _run(variant)
    return np.array_equal(expected.view(_bits(out)), out.view(_bits(out)))


def _bits(x):
    return np.uint32 if x.dtype.itemsize == 4 else np.uint64


def _timed(options, timer):
    """Median time of each option (a list of steps), run in interleaved rounds."""
    times = [[] for _ in options]
    rounds = _ROUNDS
    for r in range(rounds):
        for k, steps in enumerate(options):
            t0 = timer()
            _run(steps)
            times[k].append(timer() - t0)
        if r == 0:  # a large product gets fewer rounds
            rounds = int(max(3, min(_ROUNDS, _BUDGET_NS / max(1, sum(t[0] for t in times)))))
        if r + 1 >= rounds:
            break
    return [statistics.median(t) for t in times]
