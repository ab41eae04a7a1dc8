"""einsum with gradients. The equation is first normalised: '...' becomes letters, and a
letter repeated within one operand ('ii->i') becomes two letters tied by an identity
operand. Then the gradient for operand k is again an einsum, of g with the other operands,
onto k's letters (letters found only in operand k were summed: their gradient is g
broadcast along them)."""
import string

import numpy as np

from ..autograd.function import IndexedRule, Op
from ..tensors.tensor import Tensor
from .core import apply, promote
from .rules import tensor_rule


def _parse(equation, shapes):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): the equation has {len(terms)} operands but "
                           f"{len(shapes)} tensors were given")
    free = iter(c for c in string.ascii_letters if c not in eq)
    batch = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes)
                 if "..." in t), default=0)
    ell = "".join(next(free) for _ in range(batch))
    subs = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            t = t.replace("...", ell[batch - (len(s) - len(t) + 3):])
        if len(t) != len(s) or not all(c in string.ascii_letters for c in t):
            raise RuntimeError(f"einsum(): the subscripts '{t}' do not match an operand with "
                               f"{len(s)} dimensions")
        subs.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:  # implicit output: letters used once, in alphabetical order, after the batch
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return subs, out, free


def _untie(subs, shapes, free):
    """'ii' -> 'ij' plus an identity operand 'ij', so no operand repeats a letter."""
    extra = []
    new = []
    for t, s in zip(subs, shapes):
        seen = ""
        for c, n in zip(t, s):
            if c in seen:
                c2 = next(free)
                extra.append((c + c2, n))
                c = c2
            seen += c
        new.append(seen)
    return new, extra


def _forward(*arrays):
    *ops, subs, out = arrays
    return np.asanyarray(np.einsum(",".join(subs) + "->" + out, *ops))


def _grad(k, g, o, *args):
    *ops, subs, out = args
    mine = subs[k]
    elsewhere = set(out).union(*[subs[j] for j in range(len(subs)) if j != k])
    kept = "".join(c for c in mine if c in elsewhere)
    others = [ops[j] for j in range(len(ops)) if j != k]
    other_subs = [subs[j] for j in range(len(subs)) if j != k]
    r = einsum(",".join([out] + other_subs) + "->" + kept, g, *others)
    shape = tuple(ops[k].shape)
    r = r.reshape(tuple(n if c in elsewhere else 1 for c, n in zip(mine, shape)))
    return r.expand(shape)


EINSUM = Op("EinsumBackward0", _forward, IndexedRule(lambda k, g, o, *args: tensor_rule(
    lambda g_, o_, *a: _grad(k, g_, o_, *a))(g, o, *args)))


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a tensor, got {type(t).__name__}")
    shapes = [tuple(t.shape) for t in operands]
    subs, out, free = _parse(equation, shapes)
    subs, extra = _untie(subs, shapes, free)
    want = promote(*operands)
    ops = [t if t._data.dtype == want else t.to(want) for t in operands]
    ops += [Tensor._wrap(np.eye(n, dtype=want)) for _, n in extra]
    subs += [s for s, _ in extra]
    sizes = {}
    for t, s in zip(ops, subs):
        for c, n in zip(s, t.shape):
            if sizes.get(c, 1) == 1 or n == 1:  # size 1 broadcasts, as in PyTorch
                sizes[c] = max(sizes.get(c, 1), n) if n else 0
            elif sizes[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for one operand "
                                   f"but {sizes[c]} for another")
    ops = [t if all(sizes[c] == n for c, n in zip(s, t.shape)) else
           t.expand(tuple(sizes[c] for c in s)) for t, s in zip(ops, subs)]
    if any(c not in sizes for c in out):
        raise RuntimeError(f"einsum(): output subscript in '{out}' does not appear in the "
                           "operands")
    return apply(EINSUM, ops, (tuple(subs), out))
