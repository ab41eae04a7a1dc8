"""Linear maps whose gradient is their adjoint: pooling over fixed windows, resampling,
gathering at fixed indices, pixel shuffling. A map and its adjoint are two Ops, each the
other's gradient rule, so derivatives of every order follow from two NumPy kernels."""
from ..autograd.function import Op
from ..tensors.tensor import Tensor
from .core import apply1


def adjoint_pair(name, forward, adjoint_name, adjoint):
    """Two Ops for `forward(x, *params)` and `adjoint(g, *params)` (the same params on
    both sides). Neither saves its input: a linear map's gradient needs only g."""
    pair = []

    def rule_of(index):
        def rule(g, out, x, *params):
            other = pair[index]
            return apply1(other, g, *params) if isinstance(g, Tensor) else \
                other.forward(g, *params)
        return rule

    pair.append(Op(name, forward, rule_of(1), saves_inputs=False))
    pair.append(Op(adjoint_name, adjoint, rule_of(0), saves_inputs=False))
    return tuple(pair)
