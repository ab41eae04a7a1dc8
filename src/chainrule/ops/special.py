"""lgamma and polygamma (digamma = polygamma(0)) on NumPy alone: lgamma from math.lgamma;
polygamma(n) by the recurrence psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1) up to
x >= 10 + n and then its asymptotic series (reflection for n <= 1 and x < 0.5).
lgamma' = polygamma(0) and polygamma(n)' = polygamma(n + 1), so every order exists."""
import math

import numpy as np

from ..autograd.function import Op
from .core import apply1, to_float
from .elementwise import _unary

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)  # B2, B4, ..., B12


def _lgamma_safe(v):
    try:
        return math.lgamma(v)
    except ValueError:  # poles at 0, -1, -2, ...: +inf as PyTorch
        return math.inf


_lgamma_scalar = np.vectorize(_lgamma_safe, otypes=[np.float64])


def _lgamma(x):
    out = _lgamma_scalar(x.astype(np.float64)) if x.size else x.astype(np.float64)
    return np.asanyarray(out, dtype=x.dtype)


def _series(x, n):
    """polygamma(n, x) for x >= 0.5 (float64): shift up, then the asymptotic series."""
    acc = np.zeros_like(x)
    sign, fact = (-1) ** (n + 1), math.factorial(n)
    small = x < 10 + n
    while small.any():
        acc = np.where(small, acc + sign * fact / x ** (n + 1), acc)
        x = np.where(small, x + 1, x)
        small = x < 10 + n
    if n == 0:
        tail = np.log(x) - 0.5 / x
        for k, b in enumerate(_BERNOULLI, 1):
            tail = tail - b / (2 * k * x ** (2 * k))
        return acc + tail
    tail = math.factorial(n - 1) / x ** n + fact / (2 * x ** (n + 1))
    for k, b in enumerate(_BERNOULLI, 1):
        tail = tail + b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
    return acc + sign * tail


def _polygamma(x, n):
    a = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if n <= 1:
            left = a < 0.5
            base = np.where(left, 1 - a, a)
        else:  # the recurrence also climbs from negative x (far below: NaN, as unbounded work)
            left = np.zeros(a.shape, dtype=bool)
            base = np.where(a < -1e4, np.nan, a)
        out = _series(np.where(np.isfinite(base), base, 1.0), n)
        s = np.sin(math.pi * a)
        if n == 0:  # psi(x) = psi(1 - x) - pi / tan(pi x)
            out = np.where(left, out - math.pi * np.cos(math.pi * a) / s, out)
        elif n == 1:  # psi1(x) = -psi1(1 - x) + pi^2 / sin^2(pi x)
            out = np.where(left, -out + (math.pi / s) ** 2, out)
        pole = (a <= 0) & (a == np.floor(a))
        out = np.where(pole, np.nan if n == 0 else (-1) ** (n + 1) * np.inf, out)
        if n == 0:
            out = np.where(a == 0, -np.inf, out)  # PyTorch: digamma(0) = -inf
        out = np.where(np.isposinf(a), np.inf if n == 0 else 0.0, out)
        out = np.where(np.isnan(base) | np.isneginf(a), np.nan, out)
    return np.asanyarray(out, dtype=x.dtype)


POLYGAMMA = Op("PolygammaBackward0", _polygamma,
               lambda g, o, x, n: g * _polygamma_any(x, n + 1))
LGAMMA = Op("LgammaBackward0", _lgamma, lambda g, o, x: g * _polygamma_any(x, 0))
lgamma = _unary(LGAMMA)


def polygamma(n, x):
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    return apply1(POLYGAMMA, to_float(x), n)


def digamma(x):
    return polygamma(0, x)


def _polygamma_any(x, n):
    """polygamma of an array (plain backward) or of a tensor (under create_graph)."""
    return _polygamma(x, n) if isinstance(x, np.ndarray) else polygamma(n, x)


def _erfinv(x):
    """Inverse error function: Winitzki's closed form (about 2e-3), then Newton steps on
    math.erf to full precision; +-1 give +-inf, |x| > 1 gives NaN."""
    a = x.astype(np.float64)
    with np.errstate(all="ignore"):
        log_term = np.log1p(-a * a)
        c = 2 / (math.pi * 0.147) + log_term / 2
        y = np.sign(a) * np.sqrt(np.sqrt(c * c - log_term / 0.147) - c)
        inside = np.abs(a) < 1
        for _ in range(3):
            step = (_erf(y) - a) / (2 / math.sqrt(math.pi) * np.exp(-y * y))
            y = np.where(inside & np.isfinite(step), y - step, y)
        y = np.where(np.abs(a) == 1, np.sign(a) * np.inf, y)
        y = np.where((np.abs(a) > 1) | np.isnan(a), np.nan, y)
    return np.asanyarray(y, dtype=x.dtype)


_erf = np.vectorize(math.erf, otypes=[np.float64])

# d/dx erfinv(x) = sqrt(pi)/2 * exp(erfinv(x)^2), written with the output so it builds graphs
ERFINV = Op("ErfinvBackward0", _erfinv,
            lambda g, o, x: g * (math.sqrt(math.pi) / 2) * np.exp(o * o), uses_out=True)
erfinv = _unary(ERFINV)
