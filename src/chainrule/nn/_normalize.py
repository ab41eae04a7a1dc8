"""F.normalize: divide by the p-norm along `dim`, never by less than `eps` (so a zero
vector stays zero instead of becoming NaN)."""
from ..tensors.out_arg import with_out
from ..tensors.tensor import Tensor


def _normalize(input, p=2.0, dim=1, eps=1e-12):
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize: expected a tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"normalize: expected a floating-point tensor as input, got "
                           f"{input.dtype}")
    from ..linalg import vector_norm
    return input / vector_norm(input, p, dim, keepdim=True).clamp(min=eps)


normalize = with_out(_normalize, name="normalize")
