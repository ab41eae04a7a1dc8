"""Gradient rules of the normalisation op (see _norm_kernels.py), written once in array
operations. Plain backward calls them with NumPy arrays and the statistics the forward
saved; create_graph calls them with tensors, and the batch statistics are then recomputed
from the input with chainrule ops, so the gradient is differentiable in turn.

With batch statistics, y = (x - mean) * invstd; for an incoming gradient h (the output's
gradient times the weight) the input's gradient is

    invstd * (h - mean(h) - xhat * mean(h * xhat)),    xhat = (x - mean) * invstd,

means over the normalised axes: shifting x or scaling it leaves xhat unchanged, so those
two directions of h come off. Computed as h * s + (x - mean) * b + c with per-statistic
s, b, c. On arrays the full-size temporaries are two, written in place (every fresh large
array costs page faults); when the weight is constant over the normalised axes (batch and
instance norm), the weight and bias gradients are sums the input's rule already made."""
import weakref

import numpy as np

from ..ops.core import _widen


def param(p, plan):
    return p.reshape(plan.param_view)


def _plain(*arrays):
    return all(a is None or isinstance(a, np.ndarray) for a in arrays)


def _centred(xv, plan):
    """x - mean and invstd: the saved statistics on arrays; recomputed from a tensor under
    create_graph (so their dependence on x is differentiated)."""
    if plan.batch_stats and not isinstance(xv, np.ndarray):
        centred = xv - xv.mean(axis=plan.axes, keepdims=True)
        invstd = 1.0 / np.sqrt((centred * centred).mean(axis=plan.axes, keepdims=True)
                               + plan.eps)
        return centred, invstd
    return xv - plan.mean, plan.invstd


def _folded(plan):
    """Whether the weight is constant over the normalised axes (batch, instance norm)."""
    return set(plan.axes) <= set(plan.param_axes)


class _Sums:
    """The per-statistic sums of one backward (sum of g, sum of g * (x - mean)), kept for
    the weight and bias rules of the same node while that incoming gradient lives."""
    __slots__ = ("key", "g", "gx")

    def __init__(self, g, sum_g, sum_gx):
        self.key, self.g, self.gx = weakref.ref(g), sum_g, sum_gx


def _scale(invstd, weight, folded, plan):
    """What h is multiplied by: invstd, times the weight when it was not in h."""
    return invstd if weight is None or not folded else invstd * param(_widen(weight), plan)


def grad_input(g, out, x, weight, bias, plan):
    gv = _widen(g).reshape(plan.view)
    folded = _folded(plan)
    h = gv if weight is None or folded else gv * param(_widen(weight), plan)
    if not plan.batch_stats:  # fixed statistics: an affine map of x
        return (h * _scale(plan.invstd, weight, folded, plan)).reshape(x.shape)
    xc, invstd = _centred(_widen(x).reshape(plan.view), plan)
    plain = _plain(gv, xc)
    scale = _scale(invstd, weight, folded, plan)
    tmp = h * xc
    sum_h = h.sum(axis=plan.axes, keepdims=True)
    sum_hx = tmp.sum(axis=plan.axes, keepdims=True)
    if plain and folded:
        plan.saved_sums = _Sums(g, sum_h, sum_hx)
    n = max(plan.count, 1)  # an empty batch: sums of nothing, an empty gradient
    slope = -(scale * invstd * invstd) * (sum_hx * (1.0 / n))
    shift = -scale * (sum_h * (1.0 / n))
    if not plain:
        return (h * scale + xc * slope + shift).reshape(x.shape)
    np.multiply(h, scale, out=tmp)
    xc *= slope
    tmp += xc
    tmp += shift
    return tmp.reshape(x.shape)


def _reused(g, plan):
    """The input rule's sums for this very incoming gradient, if it made them."""
    sums = getattr(plan, "saved_sums", None)
    if sums is not None and sums.key() is g:
        return sums
    return None


def grad_weight(g, out, x, weight, bias, plan):
    sums = _reused(g, plan)
    if sums is not None:
        prod = sums.gx * plan.invstd
    else:
        gv = _widen(g).reshape(plan.view)
        xc, invstd = _centred(_widen(x).reshape(plan.view), plan)
        if _plain(gv, xc):
            xc *= invstd
            xc *= gv
            prod = xc
        else:
            prod = gv * (xc * invstd)
    return prod.sum(axis=plan.param_axes, keepdims=True).reshape(weight.shape)


def grad_bias(g, out, x, weight, bias, plan):
    sums = _reused(g, plan)
    if sums is not None:
        plan.saved_sums = None  # the last rule of the node: nothing more to share
        return sums.g.sum(axis=plan.param_axes, keepdims=True).reshape(bias.shape)
    gv = _widen(g).reshape(plan.view)
    return gv.sum(axis=plan.param_axes, keepdims=True).reshape(bias.shape)
