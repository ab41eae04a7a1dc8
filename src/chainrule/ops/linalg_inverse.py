"""Inverse, solve, determinant, log-determinant and pseudo-inverse. Each is one Op whose
gradient rules are matrix products of the output and inputs (and inv/solve themselves),
so second derivatives come by construction."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply, apply1
from ._matrix import (LinAlgError, batch_prefix, check_matrix, expand_scalar, inv as _inv, mT,
                      singular_batch, solve as _solve)


def _singular(name, a, text):
    found = singular_batch(a)
    if found is None:  # LAPACK found it singular where exact LU did not: still say so
        found = (0, a.shape[-1])
    i, k = found
    raise LinAlgError(f"{name}: {batch_prefix(a.shape, i)}" + text.format(k=k)) from None


# ---- inv: d(A⁻¹) = -A⁻¹ dA A⁻¹ ------------------------------------------------------------
_INV_TEXT = ("The diagonal element {k} is zero, the inversion could not be completed because "
             "the input matrix is singular.")


def _inv_forward(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        _singular("linalg.inv", a, _INV_TEXT)


INV = Op("LinalgInvExBackward0", _inv_forward,
         lambda g, o, a: -(mT(o) @ g @ mT(o)), saves_inputs=False, uses_out=True)


def inv(A):
    return apply1(INV, check_matrix(A, "linalg.inv"))


# ---- solve: X = A⁻¹B; gB = A⁻ᵀg, gA = -gB Xᵀ -------------------------------------------------
def _solve_forward(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        _singular("torch.linalg.solve", np.broadcast_to(a, np.broadcast_shapes(
            a.shape[:-2], b.shape[:-2]) + a.shape[-2:]),
            "The solver failed because the input matrix is singular.")


SOLVE = Op("LinalgSolveExBackward0", _solve_forward,
           lambda g, o, a, b: -(_solve(mT(a), g) @ mT(o)),
           lambda g, o, a, b: _solve(mT(a), g), uses_out=True)


def solve(A, B, left=True):
    check_matrix(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: expected B to be a tensor, got {type(B).__name__}")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {A.dtype.name} and B of type {B.dtype.name} instead")
    if not left:  # XA = B  <=>  AᵀXᵀ = Bᵀ
        return mT(solve(mT(A), mT(B)))
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                   and B._data.shape == A._data.shape[:-1])
    rows = B._data.shape[-1] if vector else (B._data.shape[-2] if B._data.ndim >= 2 else None)
    if rows != n:
        cols = 1 if vector else B._data.shape[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {rows}x{cols})")
    if vector:
        return apply(SOLVE, (A, B.unsqueeze(-1))).squeeze(-1)
    try:
        np.broadcast_shapes(A._data.shape[:-2], B._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dimensions of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)} cannot be broadcast together") from None
    return apply(SOLVE, (A, B))


# ---- det and slogdet: d(det A) = det A · tr(A⁻¹ dA) --------------------------------------------
def _det_grad(g, o, a):
    if not isinstance(a, Tensor) and not np.all(o):
        return expand_scalar(g) * _adjugate_t(a)  # singular: A⁻¹ does not exist
    return expand_scalar(g * o) * mT(_inv(a))


def _adjugate_t(a):
    """adj(A)ᵀ through the SVD A = U S Vᵀ: adj(A) = det(U)det(V) · V adj(S) Uᵀ, where adj(S)
    holds the products of the other singular values (well defined when A is singular)."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    adj = (mT(vt) * others[..., None, :]) @ mT(u)
    return expand_scalar(sign) * mT(adj)


DET = Op("LinalgDetBackward0", np.linalg.det, _det_grad, uses_out=True)
LOGABSDET = Op("LinalgSlogdetBackward0", lambda a: np.linalg.slogdet(a)[1],
               lambda g, o, a: expand_scalar(g) * mT(_inv(a)))


def det(A):
    return apply1(DET, check_matrix(A, "linalg.det"))


def slogdet(A):
    check_matrix(A, "linalg.slogdet")
    sign = Tensor._wrap(np.asanyarray(np.linalg.slogdet(A._data)[0]))
    return sign, apply1(LOGABSDET, A)


# ---- pinv: the SVD with small singular values cut; the derivative of a constant-rank
# pseudo-inverse, dP = -P dA P + P Pᵀ dAᵀ (I - AP) + (I - PA) dAᵀ Pᵀ P -------------------------
def _pinv_forward(a, atol, rtol):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), a.dtype)
    cut = np.maximum(atol, rtol * smax)
    with np.errstate(divide="ignore"):
        s_inv = np.where(s > cut, 1 / np.where(s > cut, s, 1), 0).astype(a.dtype)
    return (mT(vt) * s_inv[..., None, :]) @ mT(u)


def pinv_grad(g, p, a):
    """Gradient for A of ⟨g, pinv(A)⟩ given P = pinv(A); reused by lstsq."""
    ap, pa = a @ p, p @ a
    m, n = a.shape[-2], a.shape[-1]
    dt = ap._data.dtype if isinstance(ap, Tensor) else ap.dtype  # tensors under create_graph
    i_ap = np.eye(m, dtype=dt) - ap
    i_pa = np.eye(n, dtype=dt) - pa
    pt = mT(p)
    return -(pt @ g @ pt) + i_ap @ mT(g) @ p @ pt + pt @ p @ mT(g) @ i_pa


PINV = Op("LinalgPinvBackward0", _pinv_forward,
          lambda g, o, a, atol, rtol: pinv_grad(g, o, a), uses_out=True)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    check_matrix(A, "linalg.pinv", square=hermitian)
    m, n = A._data.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(m, n)
    return apply1(PINV, A, float(atol or 0.0), float(rtol))


# ---- triangular solve: substitution; a singular triangle gives inf/nan as in PyTorch --------
def _triangle(a, upper, unit):
    n = a.shape[-1]
    mask = np.triu(np.ones((n, n), bool)) if upper else np.tril(np.ones((n, n), bool))
    if unit:
        mask &= ~np.eye(n, dtype=bool)
    return a * mask + (np.eye(n, dtype=a.dtype) if unit else 0)


def _tri_forward(a, b, upper, unit):
    a = _triangle(a, upper, unit)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
    x = np.zeros(shape, dtype=np.result_type(a, b))
    n = a.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            rest = b[..., i, :] - np.einsum("...j,...jk->...k", a[..., i, :], x)
            x[..., i, :] = rest / a[..., i, i:i + 1]
    return x


def _tri_grad_b(g, o, a, b, upper, unit):
    if not isinstance(a, Tensor) and not isinstance(g, Tensor):
        return _tri_forward(mT(a), g, not upper, unit)
    wrap = lambda x: x if isinstance(x, Tensor) else Tensor._wrap(x)  # noqa: E731
    return solve_triangular(wrap(mT(a)), wrap(g), upper=not upper, unitriangular=unit)


def _tri_grad_a(g, o, a, b, upper, unit):
    ga = -(_tri_grad_b(g, o, a, b, upper, unit) @ mT(o))
    n = a.shape[-1]  # only the triangle that was read gets a gradient
    ones = np.ones((n, n))
    keep = np.triu(ones, 1 if unit else 0) if upper else np.tril(ones, -1 if unit else 0)
    return ga * keep.astype(ga.dtype if not isinstance(ga, Tensor) else ga._data.dtype)


SOLVE_TRIANGULAR = Op("LinalgSolveTriangularBackward0", _tri_forward, _tri_grad_a, _tri_grad_b,
                      uses_out=True)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    check_matrix(A, "linalg.solve_triangular")
    if not isinstance(B, Tensor) or B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, "
                           f"but found A of type {A.dtype.name} and B of type {B.dtype.name}")
    if not left:  # XA = B  <=>  AᵀXᵀ = Bᵀ, and Aᵀ is triangular the other way
        return mT(solve_triangular(mT(A), mT(B), upper=not upper, unitriangular=unitriangular))
    n = A._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return apply(SOLVE_TRIANGULAR, (A, B), (bool(upper), bool(unitriangular)))
