"""chainrule.linalg, as torch.linalg: inverses and solvers, determinants, decompositions,
norms. Every function is differentiable where PyTorch's is; the rules live with the ops
(ops/linalg_inverse.py, ops/linalg_decomp.py) and the rest is composed of differentiable
operations."""
import math
from collections import namedtuple

import numpy as np

from .ops import linalg_decomp as _D
from .ops._matrix import LinAlgError, check_matrix
from .ops.elementwise import abs as _abs, pow as _pow
from .ops.linalg import matmul
from .ops.linalg_inverse import det, inv, pinv, solve, solve_triangular
from .ops.linalg_inverse import slogdet as _slogdet
from .ops.reduction import amax, amin, sum as _sum
from .ops.shape import stack
from .tensors.tensor import Tensor
from .tensors.type_info import SCALAR_NAMES

__all__ = ["inv", "solve", "solve_triangular", "lstsq", "det", "slogdet", "pinv",
           "matrix_power", "matrix_rank", "cond", "norm", "vector_norm", "matrix_norm", "eigh",
           "eigvalsh", "svd", "svdvals", "qr", "cholesky", "cross", "vecdot", "multi_dot",
           "diagonal", "matmul", "LinAlgError"]

_slogdet_t = namedtuple("slogdet", ["sign", "logabsdet"])
_lstsq_t = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
_eigh_t = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
_svd_t = namedtuple("svd", ["U", "S", "Vh"])
_qr_t = namedtuple("qr", ["Q", "R"])


def slogdet(A):
    return _slogdet_t(*_slogdet(A))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """How many singular values exceed max(atol, rtol · largest); int64, not differentiable."""
    check_matrix(A, "linalg.matrix_rank", square=hermitian)
    s = np.linalg.svd(A._data, compute_uv=False)
    m, n = A._data.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(m, n)
    top = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    cut = np.maximum(atol or 0.0, rtol * top)
    return Tensor._wrap(np.asarray(np.sum(s > cut, axis=-1), dtype=np.int64))


def cond(A, p=None):
    """Condition number: ratio of extreme singular values (p = None, 2, -2), otherwise
    norm(A, p) · norm(A⁻¹, p)."""
    check_matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        top, bottom = amax(s, -1), amin(s, -1)
        return top / bottom if p != -2 else bottom / top
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def vecdot(x, y, *, dim=-1):
    return _sum(x * y, dim=dim)


def multi_dot(tensors):
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def matrix_power(A, n):
    """A multiplied by itself n times by repeated squaring; n < 0 uses A⁻¹; n = 0 is I."""
    check_matrix(A, "linalg.matrix_power")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape)
        return Tensor._wrap(np.array(eye))
    base, n = (inv(A), -n) if n < 0 else (A, n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of AX = B (the minimum-norm one when A is rank-deficient),
    as pinv(A) @ B, so it is differentiable through pinv's rule."""
    check_matrix(A, "torch.linalg.lstsq", square=False)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), got {driver!r}")
    if not isinstance(B, Tensor) or B._data.dtype != A._data.dtype:
        got = B.dtype.name if isinstance(B, Tensor) else type(B).__name__
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {A.dtype.name} and other's {got}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    eps = np.finfo(A._data.dtype).eps
    rtol = eps * max(m, n) if rcond is None or rcond < 0 else rcond
    X = matmul(pinv(A, rtol=rtol), Bm)
    driver = driver or "gelsy"
    s = np.linalg.svd(A._data, compute_uv=False)
    ranks = np.sum(s > rtol * s[..., :1], axis=-1)
    empty = Tensor._wrap(np.zeros(0, A._data.dtype))
    rank = Tensor._wrap(np.asarray(ranks, np.int64) if driver != "gels" else np.zeros(0, np.int64))
    svals = Tensor._wrap(s) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and np.all(ranks == n):
        r = matmul(A, X) - Bm
        residuals = _sum(r * r, dim=-2).detach()
    return _lstsq_t(X.squeeze(-1) if vector else X, residuals, rank, svals)


# ---- decompositions ---------------------------------------------------------------------
def eigh(A, UPLO="L"):
    check_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    vals, vecs = _D.eigh(A, UPLO)
    return _eigh_t(vals, vecs)


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):
    check_matrix(A, "linalg.svd", square=False)
    return _svd_t(*_D.svd(A, full_matrices))


def svdvals(A, *, driver=None):
    return svd(A, full_matrices=False).S


def qr(A, mode="reduced"):
    check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    q, r = _D.qr(A, mode)
    if mode == "r":
        q = Tensor._wrap(np.zeros(0, A._data.dtype))
    return _qr_t(q, r)


def cholesky(A, *, upper=False):
    L = _D.cholesky(check_matrix(A, "linalg.cholesky"))
    return L.mT if upper else L


def cross(input, other, *, dim=-1):
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    a, b = input.unbind(dim), other.unbind(dim)
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                  a[0] * b[1] - a[1] * b[0]], dim=dim)


# ---- norms --------------------------------------------------------------------------------
def _float_input(x, name, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {SCALAR_NAMES[x._data.dtype.name]}")
    from .ops.accumulate import reduction_input  # `dtype=` as for every reduction
    return reduction_input(x, "norm", dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    x = _float_input(x, "linalg.vector_norm", dtype)
    if isinstance(ord, str) or isinstance(ord, bool):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if isinstance(dim, int):
        dim = (dim,)
    if ord == 2:
        from .ops.reduction import norm as _norm2  # one node; zero vectors get zero gradient
        return _norm2(x, 2, dim, keepdim)
    a = _abs(x)
    if ord == math.inf:
        return amax(a, dim if dim is not None else (), keepdim)
    if ord == -math.inf:
        return amin(a, dim if dim is not None else (), keepdim)
    if ord == 0:
        return _sum((x != 0).to(x.dtype), dim=dim, keepdim=keepdim)
    if ord == 1:
        return _sum(a, dim=dim, keepdim=keepdim)
    return _pow(_sum(_pow(a, ord), dim=dim, keepdim=keepdim), 1.0 / ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    A = _float_input(A, "linalg.matrix_norm", dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    r, c = (d % A.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (r, c), keepdim)
    if ord not in ("nuc", 1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord in ("nuc", 2, -2):
        s = svdvals(_move_last(A, r, c))
        out = _sum(s, dim=-1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        return _keep(out, (r, c)) if keepdim else out
    # 1-norms: largest column sum; inf-norms: largest row sum
    over, across = (r, c) if ord in (1, -1) else (c, r)
    sums = _sum(_abs(A), dim=over, keepdim=True)
    out = amax(sums, across, True) if ord > 0 else amin(sums, across, True)
    return out if keepdim else out.squeeze(max(r, c)).squeeze(min(r, c))


def _move_last(A, r, c):
    rest = [i for i in range(A.ndim) if i not in (r, c)]
    return A.permute(*rest, r, c)


def _keep(out, dims):
    for d in sorted(dims):
        out = out.unsqueeze(d)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    A = _float_input(A, "linalg.norm", dtype)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim)
    if ord is None:
        return vector_norm(A, 2, None, keepdim)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                       f"1D or 2D. Got {A.ndim}D.")


def _take_out():
    """out= as on torch.linalg's functions (the result's exact dtype, as PyTorch wants)."""
    from .tensors.out_arg import with_out
    for name in ("inv", "solve", "solve_triangular", "det", "slogdet", "pinv", "matrix_power",
                 "matrix_rank", "cond", "norm", "vector_norm", "matrix_norm", "eigh", "eigvalsh",
                 "svd", "svdvals", "qr", "cholesky", "cross", "vecdot", "multi_dot", "matmul"):
        globals()[name] = with_out(globals()[name], "exact", f"linalg.{name}")


_take_out()


_TORCH_LINALG = set("""cholesky_ex eig eigvals householder_product inv_ex ldl_factor ldl_factor_ex
    ldl_solve lu lu_factor lu_factor_ex lu_solve matrix_exp solve_ex tensorinv tensorsolve
    vander""".split())


def __getattr__(name):
    # a torch.linalg function chainrule lacks fails by name, still as an AttributeError
    from .compat.unsupported import UnsupportedError
    if name in _TORCH_LINALG:
        raise UnsupportedError(f"chainrule does not support torch.linalg.{name} (chainrule."
                               f"linalg has {', '.join(sorted(__all__[:-1]))})")
    raise AttributeError(f"module 'chainrule.linalg' has no attribute {name!r}")
