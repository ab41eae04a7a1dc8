"""The compiled loops behind fused.py (imported at the first fused update: importing
numba takes a while). Each mirrors its NumPy path operation for operation; see fused.py
for why that gives the same bits. Compiled in memory for each process: nothing is read
from or written to disk (numba's disk cache would load pickles).

A loop first tests, without storing anything, whether a value would be NaN; if one might
be, it returns False and stores nothing, and the caller runs the NumPy path: where two
NaNs meet, IEEE 754 leaves open which one the result carries, so only NumPy's own calls
give NumPy's bits.
The options are constants of each compiled loop (one loop per combination used), so
LLVM compiles a branch-free body it can vectorise."""
import numba
import numpy as np

_ADAM = {}  # (decoupled, l2, maximize) -> the compiled step


def _jit(**options):
    return numba.njit(cache=False, nogil=True, error_model="numpy", **options)


def adam(decoupled, l2, maximize):
    """The compiled Adam step for these options: step(params, grads, m, v, consts)."""
    key = (decoupled, l2, maximize)
    if key not in _ADAM:
        _ADAM[key] = _adam_loops(*key)
    return _ADAM[key]


def _adam_loops(decoupled, l2, maximize):
    @_jit(inline="always")
    def moments(pi, gi, mi, vi, consts):
        """One element's decayed parameter and new m, v: the NumPy path's operations in
        its order."""
        decay, wd, c1, b2, c2 = consts[0], consts[1], consts[2], consts[3], consts[4]
        if decoupled:
            pi = pi * decay                 # p *= 1 - lr * wd
        if l2:
            t = pi * wd                     # param * wd, then grad + it (or it - grad)
            gi = t - gi if maximize else gi + t
        elif maximize:
            gi = -gi
        mi = mi + (gi - mi) * c1            # lerp_: tmp = g - m; tmp *= w; m += tmp
        vi = vi * b2 + (gi * c2) * gi       # v *= b2; tmp = g * c2; tmp *= g; v += tmp
        return pi, mi, vi

    @_jit(inline="always")
    def values(pi, gi, mi, vi, consts):
        """One element's new (parameter, m, v)."""
        bc2, eps, neg = consts[5], consts[6], consts[7]
        pi, mi, vi = moments(pi, gi, mi, vi, consts)
        d = np.sqrt(vi) / bc2 + eps         # denom = sqrt(v); /= bc2; += eps
        return pi + (mi / d) * neg, mi, vi  # m / denom; *= -step_size; p += it

    @_jit()
    def any_nan(p, g, m, v, consts):
        nan = False
        for i in range(p.shape[0]):
            pn, mn, vn = values(p[i], g[i], m[i], v[i], consts)
            nan |= (pn != pn) | (mn != mn) | (vn != vn)
        return nan

    @_jit()
    def maybe_nan(p, g, m, v, consts):
        """A cheaper test, for bias corrections, eps and step size that are finite and
        positive: with the decayed parameter and new m finite and new v >= 0 (inf
        allowed), the denominator is > 0, m / it is never 0/0 or inf/inf, and the new
        parameter never inf - inf. True where that does not hold (maybe a NaN)."""
        bad = False
        for i in range(p.shape[0]):
            pi, mi, vi = moments(p[i], g[i], m[i], v[i], consts)
            bad |= (not np.isfinite(pi)) | (not np.isfinite(mi)) | (not vi >= 0)
        return bad

    @_jit()
    def store(p, g, m, v, consts):
        for i in range(p.shape[0]):
            p[i], m[i], v[i] = values(p[i], g[i], m[i], v[i], consts)

    @_jit()
    def step(params, grads, m, v, consts):
        """Adam over the pieces `params` (1-d), laid end to end in `m` and `v`; False,
        with nothing written, when a value would (or, by the cheaper test, might) be
        NaN."""
        cheap = (np.isfinite(consts).all() and consts[5] > 0 and consts[6] > 0
                 and consts[7] != 0)
        start = 0
        for k in range(len(params)):
            n = params[k].shape[0]
            p, g, mk, vk = params[k], grads[k], m[start:start + n], v[start:start + n]
            if maybe_nan(p, g, mk, vk, consts) if cheap else any_nan(p, g, mk, vk, consts):
                return False
            start += n
        start = 0
        for k in range(len(params)):
            n = params[k].shape[0]
            store(params[k], grads[k], m[start:start + n], v[start:start + n], consts)
            start += n
        return True
    return step
