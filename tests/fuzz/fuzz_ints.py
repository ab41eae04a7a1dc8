"""Integer and bool dtypes in the differential fuzzer: elementwise, binary and in-place
ops on int8, uint8, int32, int64 and bool tensors (and float ones, for promotion), with
Python ints, floats and bools out of the dtypes' ranges. A step PyTorch refuses stays in
the recipe: both frameworks' values there are the exception's type, as a code, so
chainrule must raise what PyTorch raises."""
import numpy as np

from fuzz_ops import leaf_tensor

INT_DTYPES = ("int8", "uint8", "int32", "int64", "bool", "int64", "uint8", "float32")
INT_SCALARS = (0, 1, -1, 2, 3, 7, 300, -300, 2 ** 40, 2.5, -0.5, True, False)
INT_BINARY = ("add sub mul div floor_divide remainder pow bitwise_and bitwise_or bitwise_xor "
              "bitwise_left_shift bitwise_right_shift eq lt ge ne add_alpha "
              "sub_alpha").split()
INT_UNARY = "neg abs bitwise_not sign square logical_not trunc".split()
INT_INPLACE = ("add sub mul div floor_divide remainder pow bitwise_and bitwise_or bitwise_xor "
               "bitwise_left_shift bitwise_right_shift").split()
# the exception types compared, most specific first (NotImplementedError is a RuntimeError)
ERRORS = (NotImplementedError, ZeroDivisionError, RuntimeError, IndexError, TypeError,
          ValueError, OverflowError)


def _error_code(m, err):
    for code, kind in enumerate(ERRORS):
        if isinstance(err, kind) and not (kind is ZeroDivisionError and m.__name__ == "torch"):
            # chainrule's integer division by zero is both; PyTorch's a RuntimeError
            return -1000 - (code if kind is not ZeroDivisionError else 2)
    return -1099


def _raises_as_value(m, fn):
    try:
        return fn()
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return m.tensor(_error_code(m, err))


def _operand(m, v, j, scalar):
    return v(j) if j is not None else scalar


def _binary(m, a, b, name, swap):
    if swap:
        a, b = b, a
    if name in ("add_alpha", "sub_alpha"):
        return getattr(m, name[:3])(a, b, alpha=2 if not swap else -1)
    if not hasattr(a, "shape"):  # a Python number on the left
        ops = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
               "div": lambda: a / b, "floor_divide": lambda: a // b,
               "remainder": lambda: a % b, "pow": lambda: a ** b,
               "bitwise_and": lambda: a & b, "bitwise_or": lambda: a | b,
               "bitwise_xor": lambda: a ^ b, "bitwise_left_shift": lambda: a << b,
               "bitwise_right_shift": lambda: a >> b, "eq": lambda: a == b,
               "lt": lambda: a < b, "ge": lambda: a >= b, "ne": lambda: a != b}
        return ops[name]() if name in ops else getattr(m, name)(b, a)
    return getattr(m, name)(a, b)


def build_int_step(m, vals, step):
    kind, *a = step
    v = vals.__getitem__
    if kind == "int_leaf":
        return leaf_tensor(m, *a)
    if kind == "int_unary":
        return _raises_as_value(m, lambda: getattr(m, a[0])(v(a[1])))
    if kind == "int_binary":
        name, i, j, scalar, swap = a
        return _raises_as_value(m, lambda: _binary(m, v(i), _operand(m, v, j, scalar), name, swap))
    if kind == "int_inplace":
        name, i, j, scalar = a

        def run():
            x = v(i).detach().clone()
            with m.no_grad():
                return getattr(x, name + "_")(_operand(m, v, j, scalar))
        return _raises_as_value(m, run)
    raise ValueError(f"unknown step {step!r}")


def choice(ch, options):
    # fuzz_gen's helpers, reached at call time: fuzz_gen imports this module while loading,
    # and a replay (fuzz_ops.build) may import this module before fuzz_gen
    from fuzz_gen import choice as pick
    return pick(ch, options)


def coin(ch):
    from fuzz_gen import coin as flip
    return flip(ch)


def _leaf(g):
    ch = g.ch
    shape = tuple(choice(ch, (1, 2, 3)) for _ in range(choice(ch, (0, 1, 1, 2))))
    dtype = choice(ch, INT_DTYPES)
    values = "edge" if coin(ch) and dtype != "bool" else "uniform"
    return g.add(("int_leaf", shape, dtype, ch.int(0, 2 ** 16), values))


def _partner(g, i):
    """Another value broadcastable with value i (a fresh leaf when none), or a scalar."""
    ch = g.ch
    if coin(ch):
        return None, choice(ch, INT_SCALARS)
    shape = tuple(g.vals[i].shape)
    j = g.pick(lambda t: _broadcasts(tuple(t.shape), shape)) if coin(ch) else None
    return (j if j is not None else _leaf(g)), None


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def gen_int_op(g):
    ch = g.ch
    i = _leaf(g) if coin(ch) else g.pick()
    if i is None:
        return None
    form = ch.int(0, 3)
    if form == 0:
        return ("int_unary", choice(ch, INT_UNARY), i)
    j, scalar = _partner(g, i)
    if form == 1:
        return ("int_inplace", choice(ch, INT_INPLACE), i, j, scalar)
    return ("int_binary", choice(ch, INT_BINARY), i, j, scalar, coin(ch))
