"""Small in-place helpers shared by the optimizers. Hyperparameters are turned into
Python floats first: NumPy treats those as weak scalars, so float32 parameters stay
float32 (a NumPy float64 learning rate would otherwise upcast every update)."""
import numpy as np


def effective_grad(opt, param, grad, weight_decay, maximize):
    """`grad` with maximize's sign flip and L2 weight decay applied, written to a scratch
    buffer; the parameter's own .grad is never modified."""
    if weight_decay == 0 and not maximize:
        return grad
    out = opt._scratch(grad, "grad")
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(grad, out, out=out)
    else:
        np.negative(grad, out=out)
    return out


def add_scaled(target, values, alpha, opt, in_place_ok=False):
    """target += alpha * values, scaling `values` in place when it is a scratch buffer."""
    if alpha == 1:
        target += values
        return
    tmp = values if in_place_ok else opt._scratch(values, "scaled")
    np.multiply(values, alpha, out=tmp)
    target += tmp


def lerp_(target, end, weight, opt):
    """target += weight * (end - target), PyTorch's lerp_ for weight < 0.5."""
    tmp = opt._scratch(target, "lerp")
    np.subtract(end, target, out=tmp)
    tmp *= weight
    target += tmp


def addcmul_square_(target, values, scale, opt):
    """target += scale * values * values"""
    tmp = opt._scratch(target, "square")
    np.multiply(values, scale, out=tmp)
    tmp *= values
    target += tmp
