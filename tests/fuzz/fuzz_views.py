"""Fuzzing views under autograd: an episode clones a value that requires grad (a non-leaf
base), takes a chain of views of it (slices, view, t(), transpose, expand, unsqueeze,
select, narrow, diagonal, permute, reshape, pieces of split/unbind), modifies one of them or the
base in place while the graph records, and reads out the base and the views, so the
gradient flows through the base's rewritten history and the views' re-derived ones.

Steps: ("view_of", i, kind, args), ("inplace_grad", name, i, arg) and
("flatcat", (i, j, ...)): the listed values flattened and concatenated."""
import numpy as np

from fuzz_ops import SCALARS, index_of

# in-place ops after which PyTorch keeps only their result for backward: a second
# in-place write to the same memory makes PyTorch refuse the backward where chainrule
# (which saves a copy) need not, so these come last in an episode
RESULT_SAVING = ("relu_", "sigmoid_", "tanh_", "exp_", "clamp_", "abs_")
SAFE = ("add_", "sub_", "mul_", "div_", "neg_", "zero_", "fill_", "setitem", "copy_")


def _int(ch, lo, hi):
    return ch.int(lo, hi)


def _choice(ch, seq):
    return seq[ch.int(0, len(seq) - 1)]


def _coin(ch):
    return ch.int(0, 1) == 1


def _dim(ch, nd):
    n = max(nd, 1)
    return ch.int(-n, n - 1)


def _broadcasts(a, b):
    try:
        return np.broadcast_shapes(a, b) == tuple(b)
    except ValueError:
        return False


VIEWS = {
    "slice": lambda x, idx: x[idx],
    "view": lambda x, shape: x.view(*shape),
    "reshape": lambda x, shape: x.reshape(*shape),
    "t": lambda x: x.t(),
    "transpose": lambda x, a, b: x.transpose(a, b),
    "permute": lambda x, dims: x.permute(*dims),
    "expand": lambda x, sizes: x.expand(*sizes),
    "unsqueeze": lambda x, d: x.unsqueeze(d),
    "squeeze": lambda x, d: x.squeeze(d),
    "select": lambda x, d, i: x.select(d, i),
    "narrow": lambda x, d, start, length: x.narrow(d, start, length),
    "flatten": lambda x: x.flatten(),
    "unbind": lambda x, d, k: x.unbind(d)[k],
    "split": lambda x, size, d, k: x.split(size, dim=d)[k],
    "diagonal": lambda x, offset, d1, d2: x.diagonal(offset, d1, d2),
    "T": lambda x: x.T,
}


def build_view_step(m, vals, step):
    kind, *a = step
    if kind == "view_of":
        return VIEWS[a[1]](vals[a[0]], *a[2])
    if kind == "flatcat":
        return m.cat([vals[i].reshape(-1) for i in a[0]])
    name, i, arg = a  # inplace_grad: recorded by autograd, unlike fuzz_ops' no_grad updates
    x = vals[i]
    if name == "setitem":  # (index, scalar) or ("__value__", j, index)
        spec, value = (arg[2], vals[arg[1]]) if arg[0] == "__value__" else arg
        x[index_of(m, spec)] = value
        return x
    if arg and arg[0] == "__value__":
        arg = (vals[arg[1]],)
    getattr(x, name)(*arg)
    return x


def _basic_index(ch, shape):
    items, dim = [], 0
    while dim < len(shape) and ch.int(0, 3):
        n = shape[dim]
        form = ch.int(0, 4)
        if form == 0:
            items.append(ch.int(-n, n - 1))
        elif form == 1:
            items.append(None)
            continue
        else:
            items.append(slice(ch.int(-n, n - 1) if _coin(ch) else None,
                               ch.int(-n, n) if _coin(ch) else None, ch.int(1, 2)))
        dim += 1
    if _coin(ch):
        items.append(Ellipsis)
    return tuple(items)


def _shape_of(ch, n):
    dims, rest = [], n
    for p in (2, 3, 2, 2):
        if rest % p == 0 and _coin(ch):
            dims.append(p)
            rest //= p
    dims.append(rest)
    if _coin(ch):
        dims.insert(ch.int(0, len(dims)), 1)
    if len(dims) > 1 and _coin(ch):
        dims[ch.int(0, len(dims) - 1)] = -1
    return tuple(dims)


def _view_step(g, i):
    ch, shape = g.ch, g.shape(i)
    nd = len(shape)
    kind = _choice(ch, ("slice", "slice", "view", "reshape", "t", "transpose", "permute",
                        "expand", "unsqueeze", "squeeze", "select", "narrow", "flatten",
                        "unbind", "split", "diagonal", "T"))
    if kind == "slice":
        args = (_basic_index(ch, shape),)
    elif kind in ("view", "reshape"):
        args = (_shape_of(ch, int(np.prod(shape))),)
    elif kind in ("t", "T"):
        args = ()
    elif kind == "diagonal":
        if nd < 2:
            return None
        args = (ch.int(-2, 2), _dim(ch, nd), _dim(ch, nd))
    elif kind == "transpose":
        args = (_dim(ch, nd), _dim(ch, nd))
    elif kind == "permute":
        perm = list(range(nd))
        np.random.default_rng(ch.int(0, 999)).shuffle(perm)
        args = (tuple(perm),)
    elif kind == "expand":  # repeats make in-place writes fail: PyTorch decides which
        sizes = [_choice(ch, (2, 3)) if s == 1 and not ch.int(0, 3) else s for s in shape]
        args = (tuple(([1] if not ch.int(0, 3) else []) + sizes),)
    elif kind in ("unsqueeze",):
        args = (ch.int(-nd - 1, nd),)
    elif kind == "flatten":
        args = ()
    elif nd == 0:
        return None
    else:
        d = _dim(ch, nd)
        n = shape[d]
        if kind == "squeeze":
            args = (d,)
        elif kind == "select":
            args = (d, ch.int(-n, n - 1))
        elif kind == "narrow":
            start = ch.int(0, n)
            args = (d, start, ch.int(0, n - start))
        elif kind == "unbind":
            args = (d, ch.int(0, n - 1))
        else:
            size = ch.int(1, max(n, 1))
            args = (size, d, ch.int(0, max(-(-n // size) - 1, 0)))
    # whether reshape/flatten copies hangs on memory layout (elementwise ops' output strides),
    # which PyTorch leaves unspecified: only steps that are views in PyTorch are kept
    if kind in ("reshape", "flatten") and not _aliases(g.vals[i],
                                                       VIEWS[kind](g.vals[i].detach(), *args)):
        return None
    return ("view_of", i, kind, args)


def _aliases(x, y):
    return y.numel() == 0 or y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


def _inplace_step(g, i, last):
    ch, shape = g.ch, g.shape(i)
    name = _choice(ch, SAFE + (RESULT_SAVING if last else ()))
    # a value sharing the target's memory is excluded: PyTorch reads it while writing
    mem = g.vals[i].untyped_storage().data_ptr()
    fits = lambda t: (t.dtype.is_floating_point and _broadcasts(tuple(t.shape), shape)  # noqa: E731
                      and t.untyped_storage().data_ptr() != mem)
    if name in ("add_", "sub_", "mul_") and _coin(ch):
        j = g.pick(fits)
        return None if j is None else ("inplace_grad", name, i, ("__value__", j))
    if name in ("add_", "sub_", "mul_"):
        return ("inplace_grad", name, i, (_choice(ch, SCALARS),))
    if name == "div_":
        return ("inplace_grad", name, i, (_choice(ch, (2.0, -0.5, 4.0)),))
    if name == "clamp_":
        return ("inplace_grad", name, i, (-0.5, 0.7))
    if name == "fill_":
        return ("inplace_grad", name, i, (_choice(ch, (1.25, -3.0)),))
    if name == "copy_":
        j = g.pick(fits)
        return None if j is None else ("inplace_grad", name, i, ("__value__", j))
    if name == "setitem":
        idx = _basic_index(ch, shape)
        j = g.pick(lambda t: t.dtype.is_floating_point and t.ndim <= 1 and t.numel() == 1
                   and t.untyped_storage().data_ptr() != mem)
        if j is not None and _coin(ch):
            return ("inplace_grad", name, i, ("__value__", j, idx))
        return ("inplace_grad", name, i, (idx, _choice(ch, SCALARS)))
    return ("inplace_grad", name, i, ())


def gen_view_inplace(g):
    """One episode; returns the readout step (the earlier ones are added on the way)."""
    ch = g.ch
    src = g.pick(lambda t: t.dtype.is_floating_point and t.requires_grad)
    if src is None:
        src = g.leaf(dtype=_choice(ch, ("float32", "float64")))
    base = None if src is None else g.add(("clone", src))
    if base is None:
        return None
    views = [base]
    actions = ch.int(2, 5)  # views and in-place writes interleaved, a write last
    for k in range(actions):
        last = k == actions - 1
        if not last and (len(views) == 1 or _coin(ch)):
            step = _view_step(g, _choice(ch, views))
            j = None if step is None else g.add(step)
            if j is not None:
                views.append(j)
            continue
        step = _inplace_step(g, _choice(ch, views), last=last)
        if step is not None:
            g.add(step)
    picked = {base} | {_choice(ch, views) for _ in range(ch.int(0, 2))}
    return ("flatcat", tuple(sorted(picked)))
