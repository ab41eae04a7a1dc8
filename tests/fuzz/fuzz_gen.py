"""Random recipes. A `Chooser` supplies the randomness: hypothesis draws in the CI tests
(so failures shrink and runs are reproducible) or a seeded `random.Random` in the
campaign. Generation replays every proposed step in PyTorch at once and keeps only the
steps PyTorch accepts, so recipes are valid by construction."""
import random

import numpy as np

from fuzz_ops import EDGE_SCALARS, FLOATS, SCALARS, build, leaf_tensor

UNARY = ("neg abs exp log log2 log1p sqrt rsqrt sin cos tanh sigmoid relu square sign "
         "clamp_lo clamp_both").split()
EDGE_UNARY = tuple(UNARY) + ("logsigmoid", "softplus", "gelu", "log_sigmoid")
EDGE_DTYPES = ("float32", "float64", "float16", "float16", "int64", "int32", "int16", "int8",
               "uint8", "uint8")
BINARY = "add sub mul div pow maximum minimum gt lt ge eq ne".split()
REDUCE = ("sum mean prod amax amin var std norm norm1 norm_inf logsumexp softmax log_softmax "
          "cumsum max_values max_indices min_values min_indices max_all min_all").split()
FLOAT_ONLY = {"mean", "var", "std", "norm", "norm1", "norm_inf", "logsumexp", "softmax",
              "log_softmax"}
INT_DIM_ONLY = {"prod", "softmax", "log_softmax", "cumsum", "logsumexp", "max_values",
                "max_indices", "min_values", "min_indices"}


class RandomChooser:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def int(self, lo, hi):
        return self.rng.randint(lo, hi)


class HypothesisChooser:
    def __init__(self, data):
        from hypothesis import strategies as st
        self.data, self.st = data, st

    def int(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))


def choice(ch, seq):
    return seq[ch.int(0, len(seq) - 1)]


def coin(ch):
    return ch.int(0, 1) == 1


class Graph:
    def __init__(self, ch, mode=None):
        import torch
        self.torch, self.ch, self.steps, self.vals = torch, ch, [], []
        self.mode = mode  # "edge": extreme values, float16 and small integer dtypes

    def add(self, step):
        """Run `step` in PyTorch; keep it (returning its index) only if PyTorch accepts."""
        try:
            value = build(self.torch, self.vals, step)
        except Exception:
            return None
        if value.numel() == 0:
            return None  # size-0 dims: out of scope (reductions of nothing, empty broadcasts)
        self.steps.append(step)
        self.vals.append(value)
        return len(self.vals) - 1

    def leaf(self, shape=None, dtype=None):
        ch = self.ch
        if shape is None:
            shape = tuple(choice(ch, (1, 1, 2, 3, 4)) for _ in range(choice(ch, (0, 1, 1, 2, 2, 3, 4))))
        if self.mode == "edge":
            dtype = dtype or choice(ch, EDGE_DTYPES)
            if coin(ch):
                return self.add(("leaf", tuple(shape), dtype, ch.int(0, 2 ** 16), "edge"))
        if dtype is None:
            dtype = choice(ch, ("float32", "float32", "float64", "float64", "int64", "int32"))
        return self.add(("leaf", tuple(shape), dtype, ch.int(0, 2 ** 16)))

    def pick(self, want=None):
        idx = [i for i, t in enumerate(self.vals) if want is None or want(t)]
        return choice(self.ch, idx) if idx else None

    def shape(self, i):
        return tuple(self.vals[i].shape)


def _is_float(t):
    return t.dtype.is_floating_point


def _not_bool(t):
    return t.dtype != _torch_bool()


def _torch_bool():
    import torch
    return torch.bool


def broadcast_partner(ch, shape):
    dims = [choice(ch, (1, 2, 3)) if s == 1 else (s if ch.int(0, 3) else 1) for s in shape]
    drop = ch.int(0, len(dims)) if coin(ch) else 0
    dims = dims[drop:]
    if coin(ch) and len(dims) < 4:
        dims = [choice(ch, (1, 2))] + dims
    return tuple(dims)


def _dim(ch, ndim):
    n = max(ndim, 1)
    return ch.int(-n, n - 1)


def gen_unary(g):
    i = g.pick(_not_bool)
    return None if i is None else ("unary", choice(g.ch, EDGE_UNARY if g.mode == "edge" else UNARY), i)


def gen_binary(g):
    ch = g.ch
    i = g.pick(_not_bool)
    if i is None:
        return None
    name = choice(ch, BINARY)
    shape = g.shape(i)
    if coin(ch):
        j = g.pick(lambda t: _not_bool(t) and _broadcasts(tuple(t.shape), shape))
    else:
        j = g.leaf(broadcast_partner(ch, shape))
    if j is None:
        return None
    return ("binary", name, j, i) if coin(ch) else ("binary", name, i, j)


def gen_scalar(g):
    ch = g.ch
    i = g.pick(_not_bool)
    if i is None:
        return None
    name = choice(ch, ("add", "sub", "mul", "div", "pow", "rsub", "rdiv", "rpow", "rmul"))
    return ("scalar", name, i, choice(ch, SCALARS + EDGE_SCALARS if g.mode == "edge" else SCALARS))


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def gen_reduce(g):
    ch = g.ch
    name = choice(ch, REDUCE)
    i = g.pick(_is_float if name in FLOAT_ONLY else _not_bool)
    if i is None:
        return None
    nd = len(g.shape(i))
    if name in INT_DIM_ONLY:
        dim = _dim(ch, nd)
    elif name in ("max_all", "min_all"):
        dim = None
    else:
        form = ch.int(0, 2)
        if form == 0 or nd == 0:
            dim = None if form == 0 else _dim(ch, nd)
        elif form == 1:
            dim = _dim(ch, nd)
        else:
            dim = tuple(sorted({_dim(ch, nd) % nd for _ in range(ch.int(1, nd))}))
    return ("reduce", name, i, dim, coin(ch))


def gen_matmul(g):
    ch = g.ch
    i = g.pick(lambda t: _is_float(t) and t.ndim >= 1)
    if i is None:
        return None
    shape, dtype = g.shape(i), str(g.vals[i].dtype).replace("torch.", "")
    k = shape[-1]
    if len(shape) == 1 or coin(ch):
        other = (k,) if coin(ch) else (k, choice(ch, (1, 2, 3)))
    else:
        batch = broadcast_partner(ch, shape[:-2])[-2:] if len(shape) > 2 else ()
        if coin(ch):
            batch = (choice(ch, (1, 2)),) + batch[-1:]
        other = tuple(batch) + (k, choice(ch, (1, 2, 3)))
    j = g.leaf(other, dtype)
    if j is None:
        return None
    if len(shape) >= 2 and len(other) >= 2 and coin(ch):
        # x on the right: needs the partner's last size to match x's second-to-last
        j = g.leaf(other[:-2] + (choice(ch, (1, 2)), shape[-2]), dtype)
        return None if j is None else ("matmul", j, i)
    return ("matmul", i, j)


def gen_product_2d(g):
    """A 2-D product, each operand made in either memory order (a transposed leaf)."""
    ch = g.ch
    rows, inner, cols = (choice(ch, (2, 3, 5, 8)) for _ in range(3))
    dtype = choice(ch, ("float32", "float64"))
    operands = []
    for shape in ((rows, inner), (inner, cols)):
        transposed = coin(ch)
        i = g.leaf(shape[::-1] if transposed else shape, dtype)
        if i is not None and transposed:
            i = g.add(("permute", i, (1, 0)))
        if i is None:
            return None
        operands.append(i)
    return ("matmul", *operands)


def _factor_shape(ch, n):
    dims, rest = [], n
    for p in (2, 3, 2, 5, 7, 2):
        if rest % p == 0 and coin(ch):
            dims.append(p)
            rest //= p
    dims.append(rest)
    if coin(ch):
        dims.insert(ch.int(0, len(dims)), 1)
    if len(dims) > 1 and coin(ch):
        dims[ch.int(0, len(dims) - 1)] = -1
    return tuple(dims)


def gen_shape(g):
    ch = g.ch
    i = g.pick()
    shape = g.shape(i)
    nd = len(shape)
    kind = choice(ch, ("reshape", "transpose", "permute", "expand", "squeeze", "unsqueeze",
                       "flatten", "flip", "cat", "stack", "split", "chunk", "unbind", "clone"))
    if kind == "reshape":
        return ("reshape", i, _factor_shape(ch, int(np.prod(shape))))
    if kind == "transpose":
        return ("transpose", i, _dim(ch, nd), _dim(ch, nd))
    if kind == "permute":
        perm = list(range(nd))
        random.Random(ch.int(0, 999)).shuffle(perm)
        return ("permute", i, tuple(perm))
    if kind == "expand":
        sizes = [choice(ch, (2, 3)) if s == 1 and coin(ch) else (-1 if coin(ch) else s) for s in shape]
        lead = [choice(ch, (1, 2))] if coin(ch) else []
        return ("expand", i, tuple(lead + sizes))
    if kind == "squeeze":
        return ("squeeze", i, None if coin(ch) else _dim(ch, nd))
    if kind == "unsqueeze":
        return ("unsqueeze", i, ch.int(-nd - 1, nd))
    if kind == "flatten":
        a, b = sorted((_dim(ch, nd), _dim(ch, nd)), key=lambda d: d % max(nd, 1))
        return ("flatten", i, a, b)
    if kind == "flip":
        return ("flip", i, tuple({_dim(ch, nd) % max(nd, 1) for _ in range(ch.int(1, 2))})) if nd else None
    if kind in ("cat", "stack"):
        if nd == 0 and kind == "cat":
            return None
        parts = [i]
        for _ in range(ch.int(1, 2)):
            if coin(ch):
                parts.append(choice(ch, parts))  # the same value twice: fan-out
                continue
            s = list(shape)
            if kind == "cat" and nd:
                s[_dim(ch, nd) if coin(ch) else 0] = choice(ch, (1, 2))
            j = g.leaf(tuple(s))
            if j is not None:
                parts.append(j)
        d = _dim(ch, nd) if kind == "cat" else ch.int(-nd - 1, nd)
        return (kind, tuple(parts), d)
    if nd == 0:
        return None
    d = _dim(ch, nd)
    n = shape[d]
    if kind == "split":
        arg = ch.int(1, max(n, 1)) if coin(ch) or n < 2 else (1, n - 1)
        pieces = len(arg) if isinstance(arg, tuple) else -(-n // arg)
        return ("split", i, arg, d, ch.int(0, max(pieces - 1, 0)))
    if kind == "chunk":
        return ("chunk", i, ch.int(1, 3), d, 0)
    if kind == "unbind":
        return ("unbind", i, d, ch.int(0, n - 1))
    return ("clone", i)


def _random_index(g, shape):
    ch, items, dim, used_ellipsis = g.ch, [], 0, False
    while dim < len(shape) and ch.int(0, 3):
        n = shape[dim]
        form = ch.int(0, 6)
        if form == 0:
            items.append(ch.int(-n, n - 1))
        elif form in (1, 2):
            start, stop = ch.int(-n, n), ch.int(-n, n + 1)
            items.append(slice(start if coin(ch) else None, stop if coin(ch) else None, ch.int(1, 2)))
        elif form == 3:
            items.append(None)
            continue
        elif form == 4 and not used_ellipsis:
            items.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - ch.int(0, len(shape) - dim)
            continue
        elif form == 5:
            items.append(("ints", [ch.int(-n, n - 1) for _ in range(ch.int(1, 4))]))
        else:
            k = ch.int(1, min(2, len(shape) - dim))
            mask = np.random.default_rng(ch.int(0, 999)).random(shape[dim:dim + k]) < 0.6
            items.append(("mask", mask.tolist()))
            dim += k
            continue
        dim += 1
    return tuple(items)


def gen_index(g):
    ch = g.ch
    i = g.pick()
    shape = g.shape(i)
    if coin(ch) or not shape:
        return ("index", i, _random_index(g, shape))
    if coin(ch):
        m = g.pick(lambda t: t.dtype == _torch_bool() and tuple(t.shape) == shape)
        if m is not None:
            return ("index_by", i, m)
    d = _dim(ch, len(shape))
    idx_shape = [ch.int(1, s) for s in shape]
    idx_shape[d] = ch.int(1, 4)
    index = np.random.default_rng(ch.int(0, 999)).integers(0, shape[d], size=idx_shape)
    return ("gather", i, d, index.tolist())


def _mask_for(g, shape):
    ch = g.ch
    m = g.pick(lambda t: t.dtype == _torch_bool() and _broadcasts(tuple(t.shape), shape)
               and len(t.shape) <= len(shape))
    if m is None or coin(ch):
        sub = tuple(s if ch.int(0, 3) else 1 for s in shape[ch.int(0, len(shape)):])
        m = g.leaf(sub, "bool")
    return m


def gen_select(g):
    ch = g.ch
    i = g.pick(_not_bool)
    if i is None:
        return None
    shape = g.shape(i)
    if coin(ch):
        return ("masked_fill", i, _mask_for(g, shape), choice(ch, (0.0, -1.5, 2)))
    cond = _mask_for(g, shape)
    if coin(ch):
        return ("where", cond, i, (choice(ch, SCALARS),))
    j = g.pick(lambda t: _not_bool(t) and _broadcasts(tuple(t.shape), shape))
    return None if cond is None or j is None else ("where", cond, i, j)


def gen_inplace(g):
    ch = g.ch
    # in place on a fresh clone only: which tensors an op saves for backward, and which
    # results are views (split/unbind outputs, expand), are implementation details
    # where chainrule (NumPy) and PyTorch legitimately differ
    i = g.pick(_not_bool)
    i = None if i is None else g.add(("clone", i))
    if i is None:
        return None
    shape = g.shape(i)
    name = choice(ch, ("add_", "mul_", "sub_", "div_", "clamp_", "zero_", "fill_",
                       "masked_fill_", "setitem", "copy_"))
    if name in ("add_", "mul_", "sub_"):
        arg = (choice(ch, SCALARS),)
    elif name == "div_":
        arg = (choice(ch, (2.0, -0.5, 4.0)),)
    elif name == "clamp_":
        arg = (-0.5, 0.5)
    elif name == "fill_":
        arg = (1.25,)
    elif name == "masked_fill_":
        mask = np.random.default_rng(ch.int(0, 999)).random(shape) < 0.5
        arg = (mask.tolist(), -2.0)
    elif name == "setitem":
        arg = (_random_index(g, shape), choice(ch, SCALARS))
    elif name == "copy_":
        j = g.pick(lambda t: _not_bool(t) and _broadcasts(tuple(t.shape), shape))
        if j is None:
            return None
        return ("inplace", "copy_", i, ("__value__", j))
    else:
        arg = ()
    return ("inplace", name, i, arg)


def gen_long(g):
    """A reduction over more elements than float16 can count (65,504), or a float32 cumsum
    over a million: PyTorch accumulates in float32 (float16) and pairwise."""
    ch = g.ch
    dtype = choice(ch, ("float16", "float16", "float32"))
    n = choice(ch, (65_600, 70_000, 100_000) if dtype == "float16" else (100_000, 1_000_000))
    shape = (n,) if coin(ch) else (2, n // 2)
    i = g.leaf(shape, dtype)
    name = choice(ch, ("sum", "mean", "var", "std", "norm", "cumsum", "amax", "logsumexp"))
    dim = -1 if name in INT_DIM_ONLY or coin(ch) else None
    return None if i is None else ("reduce", name, i, dim, False)


GENERATORS = {"unary": gen_unary, "binary": gen_binary, "scalar": gen_scalar,
              "reduce": gen_reduce, "matmul": gen_matmul, "shape": gen_shape,
              "index": gen_index, "select": gen_select, "inplace": gen_inplace,
              "long": gen_long}
PROFILES = {
    "elementwise": ("unary", "binary", "scalar", "binary", "unary", "reduce"),
    "reduce": ("reduce", "reduce", "unary", "binary", "shape"),
    "shape_index": ("shape", "index", "shape", "index", "unary", "binary"),
    "mixed": tuple(k for k in GENERATORS if k != "long"),
    "edge": ("unary", "binary", "scalar", "scalar", "reduce", "unary", "select"),
    "long": ("long", "unary", "scalar", "reduce"),
    "second_order": ("unary", "binary", "scalar", "reduce", "matmul", "shape", "index",
                     "select"),
}
MODES = {"edge": "edge"}  # profiles whose leaves take extreme values
# chains of 2-D products with operands in either memory order (a transposed leaf), plain
# and at the edges
GENERATORS["product_2d"] = gen_product_2d
PROFILES["products"] = ("product_2d", "product_2d", "matmul", "shape", "unary", "binary",
                        "scalar")
PROFILES["products_edge"] = PROFILES["products"]
MODES["products_edge"] = "edge"
# compared with eager only: where partial sums overflow, which products of a sum are
# inf or NaN follows the summation order of PyTorch's kernel on this CPU
COMPILED_ONLY = {"products_edge"}


# in-place ops on views of non-leaf tensors while the graph records (fuzz_views.py)
from fuzz_views import gen_view_inplace  # noqa: E402

GENERATORS["view_inplace"] = gen_view_inplace
PROFILES["view_inplace"] = ("view_inplace", "view_inplace", "unary", "binary", "scalar",
                            "reduce")

# reductions and scans with dtype=, integer and bool inputs; cross-entropy and nll_loss
# with probability targets, zero weights and -inf logits (fuzz_reductions.py)
from fuzz_reductions import gen_loss, gen_reduce_dtype  # noqa: E402

GENERATORS["reduce_dtype"], GENERATORS["loss"] = gen_reduce_dtype, gen_loss
PROFILES["reduce_dtype"] = ("reduce_dtype", "reduce_dtype", "loss", "unary", "binary", "shape")
PROFILES["reduce_dtype_edge"] = ("reduce_dtype", "reduce_dtype", "loss", "scalar", "unary")
MODES["reduce_dtype_edge"] = "edge"


# integer and bool dtypes with Python scalars, refusals compared by type (fuzz_ints.py)
from fuzz_ints import gen_int_op  # noqa: E402

GENERATORS["int_op"] = gen_int_op
PROFILES["int_dtypes"] = ("int_op", "int_op", "int_op", "unary", "reduce")


def generate(ch, profile="mixed", max_steps=8):
    """A random recipe: a list of steps; values that require grad feed the loss."""
    g = Graph(ch, MODES.get(profile))
    first = gen_long(g) if profile == "long" else None
    if first is not None:
        g.add(first)
    else:
        g.leaf()
    target = ch.int(1, max_steps)
    kinds = PROFILES[profile]
    for _ in range(target * 4):
        if len(g.steps) - _leaf_count(g) >= target:
            break
        try:
            step = GENERATORS[choice(ch, kinds)](g)
        except ValueError:  # e.g. no valid choice on a tensor with a size-0 dimension
            continue
        if step is not None:
            g.add(step)
    if profile == "second_order":
        g.steps.append(("second_order",))
    return g.steps


def _leaf_count(g):
    return sum(1 for s in g.steps if s[0] == "leaf")


__all__ = ["generate", "RandomChooser", "HypothesisChooser", "leaf_tensor", "FLOATS",
           "COMPILED_ONLY"]
