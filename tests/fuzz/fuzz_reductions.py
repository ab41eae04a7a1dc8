"""Reductions and scans with `dtype=` and integer and bool inputs (step "reduce_dtype"),
and cross-entropy / nll_loss with class-index or probability targets, zero class weights,
-inf logits, ignore_index and label smoothing (step "loss"): generators and builders,
kept apart from the elementwise vocabulary in fuzz_ops.py."""
import numpy as np

from fuzz_ops import FLOATS

# every reduction and scan PyTorch gives a result dtype rule (ops/accumulate.py)
REDUCTIONS = ("sum nansum prod cumsum cumprod mean nanmean logsumexp logcumsumexp softmax "
              "log_softmax norm var std var_mean std_mean").split()
NEEDS_DIM = {"cumsum", "cumprod", "logcumsumexp", "softmax", "log_softmax", "logsumexp"}
TAKES_DTYPE = {"sum", "nansum", "prod", "cumsum", "cumprod", "mean", "nanmean", "softmax",
               "log_softmax", "norm"}
DTYPE_ARGS = (None, None, "float64", "float32", "float16", "int64", "int32", "int16", "uint8",
              "bool")
INPUT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool", "float16", "float32",
                "float64")


def _ch():
    from fuzz_gen import choice, coin
    return choice, coin


def _reduce_dims(ch, name, nd):
    choice, coin = _ch()
    n = max(nd, 1)
    if name in NEEDS_DIM:
        return ch.int(-n, n - 1)
    if name == "prod" or coin(ch) or nd == 0:  # prod: one dim or all
        return None if coin(ch) else ch.int(-n, n - 1)
    return tuple(sorted({ch.int(0, nd - 1) for _ in range(ch.int(1, nd))}))


def gen_reduce_dtype(g):
    choice, coin = _ch()
    ch = g.ch
    name = choice(ch, REDUCTIONS)
    i = g.pick() if coin(ch) else g.leaf(None, choice(ch, INPUT_DTYPES))
    if i is None:
        return None
    dtype = choice(ch, DTYPE_ARGS) if name in TAKES_DTYPE else None
    return ("reduce_dtype", name, i, _reduce_dims(ch, name, len(g.shape(i))), coin(ch), dtype)


def _reduce_dtype(m, x, name, dim, keepdim, dtype):
    kw = {} if dtype is None else {"dtype": getattr(m, dtype)}
    if name in NEEDS_DIM - {"logsumexp"}:
        return getattr(m, name)(x, dim, **kw)
    if name == "logsumexp":
        return m.logsumexp(x, dim, keepdim)
    if name == "norm":
        return m.linalg.vector_norm(x, dim=dim, keepdim=keepdim, **kw)
    if name in ("var_mean", "std_mean"):
        spread, mean = getattr(m, name)(x, dim, keepdim=keepdim)
        return spread + mean
    if dim is None and not keepdim:
        return getattr(m, name)(x, **kw)
    return getattr(m, name)(x, dim=dim, keepdim=keepdim, **kw)


def _class_layout(shape):
    """The class dim and the target's shape of logits of `shape`."""
    return (1, shape[:1] + shape[2:]) if len(shape) > 1 else (0, ())


def _probabilities(rng, shape, cdim):
    c = shape[cdim]
    p = rng.dirichlet(np.ones(c), size=shape[:cdim] + shape[cdim + 1:])
    p[rng.random(p.shape) < 0.3] = 0.0  # classes without mass: 0 · -inf terms
    return np.moveaxis(p, -1, cdim).tolist()


def _target(g, i, fn, rng):
    choice, coin = _ch()
    ch, shape = g.ch, g.shape(i)
    cdim, tshape = _class_layout(shape)
    if fn == "cross_entropy" and coin(ch):  # probabilities: given, or a softmax in the graph
        x_dtype = g.vals[i].dtype
        j = g.pick(lambda t: tuple(t.shape) == shape and t.dtype == x_dtype) if coin(ch) else None
        return j, None if j is not None else ("probs", _probabilities(rng, shape, cdim))
    ignore = choice(ch, (-100, 0, 1))
    idx = rng.integers(0, shape[cdim], size=tshape)
    idx[rng.random(tshape) < 0.25] = ignore
    return None, ("indices", np.asarray(idx).tolist(), ignore)


def gen_loss(g):
    choice, coin = _ch()
    ch = g.ch
    i = g.pick(lambda t: t.dtype.is_floating_point and t.ndim >= 1 and t.shape[-1] > 0)
    if i is None or coin(ch):
        i = g.leaf((choice(ch, (1, 2, 3)), choice(ch, (2, 3, 4))) + ((2,) if not ch.int(0, 3) else ()),
                   choice(ch, FLOATS))
    if i is None:
        return None
    fn = choice(ch, ("cross_entropy", "cross_entropy", "nll_loss"))
    rng = np.random.default_rng(ch.int(0, 2 ** 16))
    j, target = _target(g, i, fn, rng)
    shape = g.shape(i)
    c = shape[_class_layout(shape)[0]]
    weight = None if coin(ch) else rng.choice([0.0, 0.0, 0.5, 1.0, 2.0], size=c).tolist()
    neg_inf = (rng.random(shape) < 0.25).tolist() if coin(ch) else None
    eps = choice(ch, (0.0, 0.0, 0.1, 0.5)) if fn == "cross_entropy" else 0.0
    return ("loss", fn, i, j, target, weight, choice(ch, ("mean", "sum", "none")), eps, neg_inf)


def _loss(m, vals, fn, i, j, target, weight, reduction, eps, neg_inf):
    x = vals[i]
    cdim = 1 if x.ndim > 1 else 0
    if neg_inf is not None:
        x = x.masked_fill(m.tensor(np.array(neg_inf, dtype=bool)), float("-inf"))
    np_dtype = str(x.dtype).split(".")[-1]
    kw = {"reduction": reduction}
    if weight is not None:
        kw["weight"] = m.tensor(np.array(weight, dtype=np_dtype))
    if j is not None:
        t = m.softmax(vals[j], cdim)
    elif target[0] == "probs":
        t = m.tensor(np.array(target[1], dtype=np_dtype))
    else:
        t = m.tensor(np.array(target[1], dtype=np.int64))
        kw["ignore_index"] = target[2]
    if fn == "nll_loss":
        return m.nn.functional.nll_loss(m.log_softmax(x, cdim), t, **kw)
    return m.nn.functional.cross_entropy(x, t, label_smoothing=eps, **kw)


def build_reduction_step(m, vals, step):
    kind, *a = step
    if kind == "reduce_dtype":
        name, i, dim, keepdim, dtype = a
        return _reduce_dtype(m, vals[i], name, dim, keepdim, dtype)
    return _loss(m, vals, *a)
