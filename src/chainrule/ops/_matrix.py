"""Helpers shared by the linear-algebra ops: argument checks worded as PyTorch words them,
and matrix building blocks that work on NumPy arrays (ordinary backward) and on tensors
(create_graph), so every gradient rule is itself differentiable."""
import numpy as np

from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular, not positive-definite)."""


def check_matrix(A, name, square=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {SCALAR_NAMES[A._data.dtype.name]}")
    if A._data.dtype == np.float16:  # LAPACK has no half precision
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    m, n = A._data.shape[-2:]
    if square and m != n:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {m} "
                           f"by {n} matrices")
    return A


def batch_prefix(shape, flat_index):
    """'(Batch element i): ' for batched inputs, '' for a single matrix."""
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def first_zero_pivot(a):
    """1-based index of the first exactly-zero pivot of LU with partial pivoting (what
    LAPACK's getrf reports for a singular matrix), or 0 when there is none."""
    a = a.astype(np.float64)
    n = a.shape[0]
    for j in range(n):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        if a[p, j] == 0:
            return j + 1
        a[[j, p]] = a[[p, j]]
        a[j + 1:, j:] -= np.outer(a[j + 1:, j] / a[j, j], a[j, j:])
    return 0


def singular_batch(a):
    """(flat batch index, pivot) of the first singular matrix in a stack."""
    flat = a.reshape(-1, *a.shape[-2:])
    for i, m in enumerate(flat):
        k = first_zero_pivot(m)
        if k:
            return i, k
    return None


# ---- building blocks for gradient rules (arrays or tensors alike) ------------------------
def is_tensor(x):
    return isinstance(x, Tensor)


def mT(x):
    return x.transpose(-2, -1) if is_tensor(x) else np.swapaxes(x, -1, -2)


def eye_like(x, n=None):
    n = x.shape[-1] if n is None else n
    return np.eye(n, dtype=x.dtype if not is_tensor(x) else x._data.dtype)


def diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    return v[..., None] * eye_like(v)


def diagonal(x):
    """(..., n, n) -> (..., n)."""
    return (x * eye_like(x)).sum(-1)


def tril(x, k=0):
    return x * np.tril(np.ones(x.shape[-2:], dtype=bool), k)


def inv(a):
    if is_tensor(a):
        from .linalg_inverse import inv as tinv
        return tinv(a)
    return np.linalg.inv(a)


def solve(a, b):
    """A⁻¹B for matrix B."""
    if is_tensor(a) or is_tensor(b):
        from .linalg_inverse import solve as tsolve
        wrap = lambda x: x if is_tensor(x) else Tensor._wrap(x)  # noqa: E731
        return tsolve(wrap(a), wrap(b))
    return np.linalg.solve(a, b)


def expand_scalar(v):
    """(...,) -> (..., 1, 1), to scale a stack of matrices."""
    return v[..., None, None]
