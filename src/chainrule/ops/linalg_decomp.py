"""Matrix decompositions: eigh, svd, qr, cholesky. An Op has one output, so a decomposition
with several factors returns them packed side by side in one array (flattened along the
last axis); the caller slices the factors out with differentiable indexing. The gradient
rule then sees every factor's gradient and value at once, and because the packed output is
itself part of the graph under create_graph, the rules stay differentiable."""
import math

import numpy as np

from ..autograd.function import Op
from .core import apply1
from ._matrix import (LinAlgError, batch_prefix, diag_embed, diagonal, eye_like, mT,
                      solve as _solve, tril)


def pack(*factors):
    lead = factors[0].shape[:-2] if factors[0].ndim >= 2 else factors[0].shape[:-1]
    return np.concatenate([f.reshape(lead + (-1,)) for f in factors], axis=-1)


def unpack(x, shapes):
    """Split the last axis of `x` into factors of the given trailing shapes."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(x[..., start:start + size].reshape(tuple(x.shape[:-1]) + shape))
        start += size
    return out


def _gaps(values):
    """F[i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it."""
    d = values[..., None, :] - values[..., :, None]
    off = 1 - eye_like(d)
    return off / (d + (1 - off))


# ---- eigh: dλ = diag(Vᵀ dA V), dV = V (F ∘ Vᵀ dA V) --------------------------------------
def _eigh_forward(a, uplo):
    vals, vecs = np.linalg.eigh(a, UPLO=uplo)
    return pack(vals[..., None, :], vecs)


def _eigh_grad(g, o, a, uplo):
    n = a.shape[-1]
    gl, gv = unpack(g, [(n,), (n, n)])
    vals, vecs = unpack(o, [(n,), (n, n)])
    x = mT(vecs) @ gv
    # symmetric like A: only symmetric perturbations keep A in eigh's domain
    inner = diag_embed(gl) + _gaps(vals) * (x - mT(x)) * 0.5
    return vecs @ inner @ mT(vecs)


EIGH = Op("LinalgEighBackward0", _eigh_forward, _eigh_grad, uses_out=True)


def eigh(A, uplo):
    n = A._data.shape[-1]
    return unpack(apply1(EIGH, A, uplo), [(n,), (n, n)])


# ---- svd (thin): A = U S Vᵀ ----------------------------------------------------------------
def _svd_forward(a, full):
    u, s, vt = np.linalg.svd(a, full_matrices=full)
    return pack(u, s[..., None, :], vt)


def _svd_shapes(m, n, full):
    k = min(m, n)
    return [(m, m if full else k), (k,), (n if full else k, n)]


def _svd_grad(g, o, a, full):
    m, n = a.shape[-2:]
    k = min(m, n)
    shapes = _svd_shapes(m, n, full)
    gu, gs, gvt = unpack(g, shapes)
    u, s, vt = unpack(o, shapes)
    if full:  # the extra singular vectors are not unique: as PyTorch, they get no gradient
        gu, u, gvt, vt = gu[..., :k], u[..., :k], gvt[..., :k, :], vt[..., :k, :]
    v, gv = mT(vt), mT(gvt)
    f = _gaps(s * s)
    j = f * (mT(u) @ gu - mT(gu) @ u)
    k = f * (vt @ gv - mT(gv) @ v)
    core = j * s[..., None, :] + diag_embed(gs) + s[..., :, None] * k
    grad = u @ core @ vt
    s_inv = 1 / s
    if m > n:  # the part of gU outside U's columns
        grad = grad + (gu - u @ (mT(u) @ gu)) * s_inv[..., None, :] @ vt
    if n > m:
        grad = grad + u @ (mT(gv - v @ (vt @ gv)) * s_inv[..., :, None])
    return grad


SVD = Op("LinalgSvdBackward0", _svd_forward, _svd_grad, uses_out=True)


def svd(A, full_matrices):
    m, n = A._data.shape[-2:]
    return unpack(apply1(SVD, A, bool(full_matrices)), _svd_shapes(m, n, full_matrices))


# ---- qr: A = QR ------------------------------------------------------------------------------
def _qr_forward(a, mode):
    q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    return pack(q, r)


def _qr_shapes(m, n, mode):
    k = m if mode == "complete" else min(m, n)
    return [(m, k), (k, n)]


def _copyltu(x):
    """The symmetric matrix with x's lower triangle."""
    low = tril(x, -1)
    return low + mT(low) + diag_embed(diagonal(x))


def _qr_square_grad(gq, gr, q, r):
    """A = QR with R square (m >= n): gA = (gQ + Q copyltu(M)) R⁻ᵀ, M = R gRᵀ - gQᵀ Q."""
    m_ = r @ mT(gr) - mT(gq) @ q
    return mT(_solve(r, mT(gq + q @ _copyltu(m_))))


def _qr_grad(g, o, a, mode):
    m, n = a.shape[-2:]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    gq, gr = unpack(g, _qr_shapes(m, n, mode))
    q, r = unpack(o, _qr_shapes(m, n, mode))
    if m >= n:
        return _qr_square_grad(gq, tril(gr, n) - tril(gr, -1), q, r)
    # wide: A = [X | Y] with X = Q R1 square and Y = Q R2
    gr1, gr2 = gr[..., :, :m], gr[..., :, m:]
    y = a[..., :, m:]
    gx = _qr_square_grad(gq + y @ mT(gr2), gr1, q, r[..., :, :m])
    return np.concatenate([gx, q @ gr2], axis=-1)


QR = Op("LinalgQrBackward0", _qr_forward, _qr_grad, uses_out=True)


def qr(A, mode):
    m, n = A._data.shape[-2:]
    return unpack(apply1(QR, A, mode), _qr_shapes(m, n, mode))


# ---- cholesky: A = L Lᵀ; gA = sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹), Φ = lower triangle, half diagonal --------
def _leading_minor(a):
    """Order of the first leading minor that is not positive-definite (0 if none)."""
    n = a.shape[-1]
    low = np.zeros((n, n))
    for j in range(n):
        d = a[j, j] - low[j, :j] @ low[j, :j]
        if not d > 0:
            return j + 1
        low[j, j] = np.sqrt(d)
        low[j + 1:, j] = (a[j + 1:, j] - low[j + 1:, :j] @ low[j, :j]) / low[j, j]
    return 0


def _cholesky_forward(a):
    try:
        low = np.linalg.cholesky(a)
        if np.isfinite(low).all():
            return low
    except np.linalg.LinAlgError:
        pass
    # NumPy raises without saying where, or lets NaN through; PyTorch names the minor
    flat = a.reshape(-1, *a.shape[-2:]).astype(np.float64)
    for i, m in enumerate(flat):
        order = _leading_minor(m)
        if order:
            raise LinAlgError(
                f"linalg.cholesky: {batch_prefix(a.shape, i)}The factorization could not be "
                "completed because the input is not positive-definite (the leading minor of "
                f"order {order} is not positive-definite).")
    return low


def _cholesky_grad(g, o, a):
    phi = tril(mT(o) @ tril(g))
    phi = phi - 0.5 * diag_embed(diagonal(phi))
    s = _solve(mT(o), mT(_solve(mT(o), mT(phi))))  # L⁻ᵀ Φ L⁻¹
    return 0.5 * (s + mT(s))


CHOLESKY = Op("LinalgCholeskyExBackward0", _cholesky_forward, _cholesky_grad,
              saves_inputs=False, uses_out=True)


def cholesky(A):
    return apply1(CHOLESKY, A)
