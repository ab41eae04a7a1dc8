"""Smooth L1 loss: quadratic below `beta`, linear above. It is the Huber loss with
delta=beta divided by beta, so it reuses Huber's op; beta=0 is the L1 loss, as in PyTorch."""
from ._elementwise_losses import _pair, huber_loss, l1_loss
from ._losses import _check_reduction


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _check_reduction(reduction)
    _pair(input, target, "smooth_l1_loss")
    for name, t in (("input", input), ("target", target)):
        if not t.is_floating_point():
            raise RuntimeError(f"smooth_l1_loss: expected a floating-point {name}, got {t.dtype}")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got "
                           f"beta={beta}.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return huber_loss(input, target, reduction=reduction, delta=beta) / beta
