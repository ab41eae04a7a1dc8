"""Intended differences on long reductions and huge quotients (excused in fuzz_known.py):
chainrule's answer is the exact one rounded once; PyTorch's depends on how its CPU kernels
split and round the work. Each excuse holds only where chainrule's value equals that exact
answer and PyTorch's differs. Pinned by tests/regressions/test_fuzz_known_long_float16_reductions.py."""
import numpy as np


def _input(step, tvals):
    return tvals[step[2]].detach()


def _exactly(got, want, exact):
    """Elements where chainrule has the exact answer (NaN matching NaN) and PyTorch not."""
    same = (got == exact) | (np.isnan(got) & np.isnan(exact))
    return same & ~((want == exact) | (np.isnan(want) & np.isnan(exact)))


def float16_sum(step, tvals, got, want, tol):
    """A float16 sum accumulates in float32 and rounds once (chainrule): within a unit of
    the exact sum, and nearer to it than PyTorch's. PyTorch's cascade for long float16 tensors rounds partial sums to float16
    (-1.375 for an exact -1.3224 over 100,000 terms; NaN where partial sums overflow to
    +inf and -inf, while the exact total overflows to one of them)."""
    if want.dtype != np.float16:
        return None
    import torch
    x = _input(step, tvals).double()
    dim = step[3] if len(step) > 3 else None
    total = torch.sum(x) if dim is None else torch.sum(x, dim, keepdim=bool(step[4]))
    exact64 = np.broadcast_to(total.numpy(), want.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        exact = exact64.astype(np.float16)
        ours, theirs = np.abs(got - exact64), np.abs(want - exact64)
        closer = (ours <= np.spacing(np.abs(exact))) & ~(theirs <= ours)
    return _exactly(got, want, exact) | (closer & np.isfinite(got))


def log_softmax_of_float16(step, tvals, got, want, tol):
    """float16 log_softmax computed in float32 and rounded once (chainrule). PyTorch's
    kernel for a long last dim keeps the sum of exponentials in float16 before its log: one
    unit off for many elements, and -inf everywhere once that sum passes 65,504 (a row of
    70,000 near-equal values)."""
    if want.dtype != np.float16:
        return None
    import torch
    exact = torch.log_softmax(_input(step, tvals).double(), step[3]).numpy().astype(np.float16)
    near = np.abs(got.astype(np.float64) - want) <= np.spacing(np.abs(want))
    return _exactly(got, want, exact) & (near | np.isneginf(want))


def product_in_order(step, tvals, got, want, tol):
    """A long float16/float32 product whose partial products overflow or underflow: its
    exact value (from the sum of logarithms) rounded is what chainrule gives; PyTorch's
    vector lanes can meet as inf · 0 = NaN, or underflow to 0 where the product overflows."""
    x = _input(step, tvals).numpy().astype(np.float64)
    if want.dtype == np.float64:
        return None
    dim = step[3] if len(step) > 3 else None
    axis = None if dim is None else dim % max(x.ndim, 1)
    keep = bool(step[4]) if len(step) > 4 and dim is not None else False
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        logs = np.sum(np.log(np.abs(x)), axis=axis, keepdims=keep)
        sign = np.prod(np.sign(x), axis=axis, keepdims=keep)
        exact = (sign * np.exp(logs)).astype(want.dtype)
    exact = np.broadcast_to(exact, want.shape)
    # a slice holding a NaN has no exact product to prefer: never excused
    has_nan = np.broadcast_to(np.isnan(x).any(axis=axis, keepdims=keep), want.shape)
    nan_lanes = np.isnan(want) & (np.isinf(got) | (got == 0))
    return (_exactly(got, want, exact) | nan_lanes) & ~has_nan


def remainder_of_a_huge_quotient(step, tvals, got, want, tol):
    """x % y where |x / y| is past the float's integer range: the result is x's last bits
    modulo y, so one unit of difference in an earlier x (a pow of 1e29) gives any value in
    [0, y). chainrule's is exact for its x (fmod, moved to y's sign, as PyTorch's scalar
    kernel); excused where it is a valid remainder: between 0 and y, with y's sign."""
    _, _, i, j, scalar, swap = step
    a, b = tvals[i], (tvals[j] if j is not None else scalar)
    if swap:
        a, b = b, a
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    a, b = np.broadcast_arrays(a.astype(want.dtype), b.astype(want.dtype))
    with np.errstate(all="ignore"):
        huge = np.abs(a / b) >= 2.0 ** np.finfo(want.dtype).nmant
    valid = (np.abs(got) <= np.abs(b)) & ((got == 0) | (np.sign(got) == np.sign(b)))
    return huge & valid & (got != want)
