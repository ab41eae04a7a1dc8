"""max-autotune's memory order for a replay's matrix products, chosen by timing.

How fast BLAS multiplies depends on its operands' memory order: on some CPUs a product
whose left operand is a row-major batch runs faster when that batch is first copied into
column-major order. The order can change which kernel runs, and so the bits, so a variant
(an operand copied into the other order before the product) is only a candidate when it
gives the recorded product's bits exactly, on the recorded operands and on thousands of
results from random ones of the same shapes and orders: a kernel's summation order does
not depend on the values, and random operands expose another order (one result may agree
by chance; thousands do not). Among candidates the fastest by timing replaces the
product; the timing (and so the load of the machine) picks among equal bits only."""
import functools
import statistics
import time

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_MIN_WORK = 1 << 15  # multiply-adds below which a product is too quick to gain anything
_ROUNDS = 21         # timed runs of each variant, interleaved (fewer for large products:
_BUDGET_NS = 30e6    # about this long in all, once per product and recording)
_MARGIN = 0.9        # a variant must take under this share of the product's own time
_PROBED = 4096       # results compared on random operands (in as many probes as that takes,
_MAX_PROBES = 64     # up to this many)


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


def reorder(dst, src):
    """A variant's first step: an operand copied into the other memory order."""
    np.copyto(dst, src)


def variants(a, b, out):
    """The product's variants: lists of steps that copy an operand into the other memory
    order, then multiply."""
    copies = {"a": _other_order(a), "b": _other_order(b)}
    found = []
    for which in (("a",), ("b",), ("a", "b")):
        if any(copies[w] is None for w in which):
            continue
        steps = [functools.partial(reorder, copies[w], a if w == "a" else b) for w in which]
        steps.append(functools.partial(np.matmul, copies["a"] if "a" in which else a,
                                       copies["b"] if "b" in which else b, out))
        steps.append(functools.partial(nan_again, out, a, b))
        found.append(steps)
    return found


def nan_again(out, a, b):
    """A variant's last step: where its result holds a NaN, the product as recorded.
    Other layouts can multiply the same terms in the same order with their operands
    swapped, which changes nothing but which of two NaNs meeting wins (and so a NaN's
    sign): only the recorded call gives the recorded NaNs."""
    if np.isnan(np.minimum.reduce(out, axis=None)):
        np.matmul(a, b, out)


def _run(steps):
    for step in steps:
        step()


def _fastest(step, a, b, out, timer):
    kept = out.copy()  # the recording's last result: left as it was found
    try:
        candidates = [v for k, v in enumerate(variants(a, b, out))
                      if _same_bits([step], v, out) and _same_on_probes(a, b, out, k)]
        if not candidates:
            return [step]
        times = _timed([[step], *candidates], timer)
        best = min(range(len(candidates)), key=lambda k: times[k + 1])
        return candidates[best] if times[best + 1] < _MARGIN * times[0] else [step]
    finally:
        np.copyto(out, kept)


def _same_on_probes(a, b, out, k):
    """Whether variant k has the product's bits on random operands in a's and b's memory
    order: enough of them that about 4096 results are compared (a single result of two
    summation orders agrees by chance; thousands do not), each a normal sample scaled by
    powers of two, so that roundings differ wherever the orders do."""
    rng = np.random.default_rng(0)
    probes = [np.empty(x.shape, x.dtype, order="F" if x.flags.f_contiguous and not
                       x.flags.c_contiguous else "C") for x in (a, b)]
    result = np.empty_like(out)
    variant = variants(*probes, result)[k]
    product = [functools.partial(np.matmul, *probes, result)]
    for _ in range(min(_MAX_PROBES, -(-_PROBED // max(1, out.size)))):
        for p in probes:
            p[...] = rng.standard_normal(p.shape) * np.exp2(rng.integers(-20, 21, p.shape))
        if not _same_bits(product, variant, result):
            return False
    return True


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
