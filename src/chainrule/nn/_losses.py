"""Cross-entropy and nll_loss (the element-by-element losses: _elementwise_losses.py).
Cross-entropy is one fused node: forward through a stable log-softmax,
backward `(softmax · Σq − q) · g / N` with q the target mass (a one-hot row for class
indices), softmax from the log-probabilities the forward kept (or recomputed from the
saved logits)."""
import numpy as np

from ..autograd.function import Op
from ..ops import elementwise as E
from ..ops.core import apply, check_float
from ..ops.softmax import LOG_SOFTMAX, _log_softmax, log_softmax, softmax
from ..tensors.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction (expected "
                         "'none', 'mean' or 'sum')")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


# ---- cross-entropy / nll on (M, C): one op -----------------------------------------------
# q[i, c] is the target mass (one-hot, weighted, smoothed or given probabilities), so that
# loss_i = -sum_c q[i, c] log p[i, c] over the loss's terms: the mask of (i, c) where
# PyTorch's formula multiplies a log-probability (every class for probabilities and for
# smoothing, whose 0 · -inf is NaN as there; only the target for plain class indices;
# nothing in an ignored row). `dense`: class indices all in range with no weight,
# smoothing or ignored class, the common case, where q is never built.
def _logp(x, nll):
    if nll:
        return x
    return log_softmax(x, 1) if isinstance(x, Tensor) else _log_softmax(x, 1)


def _target_mass(y, c, weight, eps, ignore_index, dtype):
    """q, the terms, and the `mean` denominator (the summed weight of counted targets)."""
    if y.dtype.kind == "f":  # class probabilities
        q = y * (1 - eps) + eps / c if eps else y.copy()
        if weight is not None:
            q = q * weight
        return q.astype(dtype, copy=False), np.ones(q.shape, dtype=bool), y.shape[0]
    valid = y != ignore_index
    rows, safe = np.arange(y.shape[0]), np.where(valid, y, 0)
    w_t = weight[safe] if weight is not None else np.ones(y.shape, dtype=dtype)
    w_t = w_t * valid
    # zeros_like of the targets, not np.zeros: a compile recording then follows q and the
    # writes into it (a write into an array NumPy made on its own is invisible to it)
    q = np.zeros_like(y, shape=(y.shape[0], c), dtype=dtype)
    q[rows, safe] = (1 - eps) * w_t
    terms = np.zeros_like(q, dtype=bool)
    terms[rows, safe] = valid
    if eps:
        q += (eps / c) * (weight if weight is not None else 1) * valid[:, None].astype(dtype)
        terms |= valid[:, None]
    return q, terms, w_t.sum()


def _mass(x, y, weight, eps, ignore_index, dense):
    y = y._data if isinstance(y, Tensor) else y
    if dense:
        n = x.shape[0]
        q = np.zeros_like(x)  # followed by a compile recording, as in _target_mass
        q[np.arange(n), y] = 1
        return q, q == 1, n
    return _target_mass(y, x.shape[1], weight, eps, ignore_index, x.dtype)


class _Dense:
    """The `dense` flag of a cross-entropy node, carrying the log-probabilities its
    forward computed for its backward (as PyTorch saves log_softmax's result)."""
    __slots__ = ("logp", "flat_index")

    def __init__(self):
        self.logp = None
        self.flat_index = None  # each row's target in the flattened (N, C) logits

    def targets(self, y, c):
        """The flat index of each row's target (row · C + class), made once per node:
        gathering and scattering through it is one short kernel each (fancy indexing
        with two index arrays costs several times more)."""
        if self.flat_index is None:
            self.flat_index = np.arange(len(y)) * c + y
        return self.flat_index

    def __bool__(self):
        return True


def _ce_forward(x, y, weight, eps, ignore_index, reduction, nll, dense):
    if dense:
        z = x - x.max(axis=1, keepdims=True)
        picked = z.reshape(-1).take(dense.targets(y, x.shape[1]))
        if _saves_logp(x):  # log_softmax as LOG_SOFTMAX.forward computes it, kept
            lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
            dense.logp = z - lse
            loss = lse[:, 0] - picked
        else:
            np.exp(z, out=z)
            loss = np.log(z.sum(axis=1))
            loss -= picked
        denom = x.shape[0]
    else:
        q, terms, denom = _target_mass(y, x.shape[1], weight, eps, ignore_index, x.dtype)
        with np.errstate(invalid="ignore"):
            loss = -np.where(terms, q * _logp(x, nll), 0).sum(axis=1)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asanyarray(loss.sum())
    if not denom:  # a zero total weight: PyTorch's class-index part is 0 / 0
        return np.asanyarray(np.nan, dtype=x.dtype)
    return np.asanyarray(loss.sum() / np.asanyarray(denom, dtype=x.dtype))


def _scale(g, reduction, denom, dtype):
    if reduction == "none":
        return g.reshape(-1, 1)
    if reduction != "mean":
        return g
    # a zero total weight: g / 0 is inf, and its terms' weights (0) make them NaN, as in
    # PyTorch; rows without terms (all ignored) keep a zero gradient
    with np.errstate(divide="ignore", invalid="ignore"):
        return g / np.asanyarray(denom, dtype=dtype)


def _ce_grad_x(g, out, x, y, weight, eps, ignore_index, reduction, nll, dense):
    graph = isinstance(g, Tensor)                   # create_graph: tensors all through
    xa = x._data if graph else x
    if dense and not graph:  # PyTorch's g_logp - p · sum(g_logp), g_logp -scale at the
        # target alone: p · scale - scale there (inf · p - inf: NaN), p · scale elsewhere
        n = xa.shape[0]
        scale = _scale(g, reduction, n, xa.dtype)
        grad = _probabilities(xa, dense)
        grad *= scale
        np.subtract.at(grad.reshape(-1), dense.targets(y, xa.shape[1]),
                       np.broadcast_to(scale, (n, 1))[:, 0])
        return grad.astype(xa.dtype, copy=False)
    q, terms, denom = _mass(xa, y, weight, eps, ignore_index, dense)
    scale = _scale(g, reduction, denom, xa.dtype)
    # PyTorch's chain: the log-probabilities' gradient over the terms, then log_softmax's
    # rule g - softmax · sum(g)
    with np.errstate(invalid="ignore"):
        if graph:
            g_logp = -E.where(terms, Tensor._wrap(q) * scale, 0.0)
        else:
            g_logp = -np.where(terms, q * scale, 0)
    if nll:
        return g_logp
    if not graph:  # log_softmax's own rule (float16 in float32)
        return LOG_SOFTMAX.grads[0](g_logp, LOG_SOFTMAX.forward(xa, 1), xa, 1)
    return g_logp - softmax(x, 1) * g_logp.sum(axis=1, keepdims=True)


def _saves_logp(x):
    """Whether the forward's log-softmax is LOG_SOFTMAX.forward's, op for op: float32 or
    float64 (float16 goes through float32 there) and C-contiguous (a copy there)."""
    return x.dtype in (np.float32, np.float64) and x.flags.c_contiguous


def _probabilities(x, dense=None):
    """exp of the log-probabilities (C-contiguous: the backward scatters into it through
    a flat index) as PyTorch's log_softmax rounds them to x's dtype, in
    float32 for float16 (exp(-30) is 9e-14 there, not float16's 0); the forward's own
    log-probabilities when it kept them."""
    if dense is not None and dense.logp is not None:
        return np.exp(dense.logp)
    logp = LOG_SOFTMAX.forward(x, 1)
    if logp.dtype == np.float16:
        return np.exp(logp.astype(np.float32))
    return np.exp(logp, out=logp)


def _ce_grad_y(g, out, x, y, weight, eps, ignore_index, reduction, nll, dense):
    # only class-probability targets get here: class indices never require grad
    xa = x._data if isinstance(x, Tensor) else x
    _, _, denom = _mass(xa, y, weight, eps, ignore_index, dense)
    scale = _scale(g, reduction, denom, xa.dtype)
    w = (1 - eps) * (weight if weight is not None else 1)
    return -(_logp(x, nll) * w) * scale


CROSS_ENTROPY = Op("NllLossBackward0", _ce_forward, _ce_grad_x, _ce_grad_y)


def _check_targets(input, target, name, allow_probs=True):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: expected input and target tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    check_float(input, name)
    x, t = input._data, target._data
    if x.ndim == 0:
        raise RuntimeError(f"{name}: expected logits of shape (N, C) or (C,), got a 0-d tensor")
    cdim = 1 if x.ndim > 1 else 0
    if t.dtype.kind == "f":
        if not allow_probs or t.shape != x.shape:
            raise RuntimeError(
                f"{name}: expected class-index targets of dtype int64 with shape "
                f"{tuple(x.shape[:cdim] + x.shape[cdim + 1:])}"
                + (f" or class probabilities with the input's shape {tuple(x.shape)}"
                   if allow_probs else "")
                + f", got {target.dtype} targets of shape {tuple(t.shape)}; use "
                "target.long() for class indices")
        return True
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected int64 class-index targets, got {target.dtype}")
    want = x.shape[:cdim] + x.shape[cdim + 1:]
    if t.shape != want:
        if x.ndim >= 1 and t.ndim >= 1 and x.ndim > 1 and t.shape[0] != x.shape[0]:
            raise ValueError(f"{name}: Expected input batch_size ({x.shape[0]}) to match "
                             f"target batch_size ({t.shape[0]})")
        raise RuntimeError(f"{name}: expected targets of shape {tuple(want)} for input of "
                           f"shape {tuple(x.shape)}, got {tuple(t.shape)}")
    return False


def _check_range(t, c, ignore_index, name):
    if not t.size:
        return True
    # one comparison in the unsigned type of the same width: a negative index reads as
    # a huge one (two reductions and two comparisons before, each a replayed step)
    if (t.view(t.dtype.str.replace("i", "u")) < c).all():
        return True
    bad = t[((t < 0) | (t >= c)) & (t != ignore_index)]
    if bad.size:
        raise IndexError(f"{name}: Target {int(bad[0])} is out of bounds (number of classes "
                         f"{c}; targets must be in [0, {c - 1}] or equal ignore_index="
                         f"{ignore_index})")
    return False


def _as_2d(input, target, probs):
    """(N, C, d1, ...) -> (N·d1·..., C) with targets to match; (C,) -> (1, C)."""
    x = input
    if x.ndim == 1:
        return x.unsqueeze(0), (target.unsqueeze(0) if probs else target.reshape(1)), None
    if x.ndim == 2:
        return x, target, None
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    rest = (x.shape[0],) + tuple(x.shape[2:])
    x2 = x.permute(perm).reshape(-1, x.shape[1])
    t2 = target.permute(perm).reshape(-1, x.shape[1]) if probs else target.reshape(-1)
    return x2, t2, rest


def _loss_nd(input, target, weight, ignore_index, reduction, eps, nll, name):
    _check_reduction(reduction)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {eps}")
    probs = _check_targets(input, target, name, allow_probs=not nll)
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != c:
            raise RuntimeError(f"{name}: weight should be a 1-D tensor of size {c} (one per "
                               f"class), got shape {tuple(weight.shape)}")
        weight = weight._data.astype(input._data.dtype, copy=False)
    in_range = probs or _check_range(target._data, c, ignore_index, name)
    if in_range and not probs and 0 <= ignore_index < c:
        in_range = not (target._data == ignore_index).any()  # an in-range class is ignored
    dense = (not nll and not probs and in_range and input.ndim == 2 and weight is None
             and not eps) and _Dense()
    x2, t2, rest = _as_2d(input, target, probs)
    out = apply(CROSS_ENTROPY, (x2, t2),
                (weight, float(eps), ignore_index, reduction, nll, dense))
    if rest is not None and reduction == "none":
        return out.reshape(rest)
    if input.ndim == 1 and reduction == "none":
        return out.reshape(())
    return out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy from logits (N, C) / (C,) / (N, C, d1, ...) against class indices or
    class probabilities."""
    return _loss_nd(input, target, weight, ignore_index, reduction, float(label_smoothing),
                    False, "cross_entropy")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities (e.g. log_softmax output)."""
    return _loss_nd(input, target, weight, ignore_index, reduction, 0.0, True, "nll_loss")
