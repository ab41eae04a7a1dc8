"""The op vocabulary of the differential fuzzer. Each op has a generator, which reads the
graph built so far (real PyTorch values, so shapes and dtypes are exact) and proposes a
step, and a builder, which runs the step in either framework (`m` is chainrule or torch).
Steps are tuples of plain Python values so a failing recipe can be written out verbatim."""
import numpy as np

FLOATS = ("float32", "float64", "float16")
SCALARS = (2, -1, 3, 0.5, 2.5, -0.75)
# the edges: Python scalars out of an integer dtype's range, huge, tiny, non-finite
EDGE_SCALARS = (300, -1, 30, -30.0, 1e30, -1e30, 1e-40, float("inf"), float("nan"), 0)


def _edge_values(rng, shape, dtype):
    """Each element from a pool of extremes: ±30, ±1e30, subnormals, NaN, ±inf, 0."""
    if dtype in FLOATS:
        info = np.finfo(dtype)
        pool = [0.0, -0.0, 1.0, -2.0, 0.5, 30.0, -30.0, 1e30, -1e30, float(info.smallest_subnormal),
                -float(info.smallest_subnormal) * 3, float("nan"), float("inf"), float("-inf")]
    else:
        info = np.iinfo(dtype)
        pool = [0, 1, -1, 2, 100, int(info.max), int(info.min), int(info.max) - 5]
    with np.errstate(over="ignore"):  # 1e30 is inf in float16, as in PyTorch
        return np.array(pool)[rng.integers(0, len(pool), size=shape)].astype(dtype)


def leaf_tensor(m, shape, dtype, seed, values="uniform"):
    rng = np.random.default_rng(seed)
    if values == "edge" and dtype != "bool":
        arr = _edge_values(rng, shape, dtype)
        return m.tensor(arr, requires_grad=dtype in FLOATS)
    if dtype in FLOATS:
        arr = rng.uniform(-2.0, 2.0, size=shape).astype(dtype)
        return m.tensor(arr, requires_grad=True)
    if dtype == "bool":
        return m.tensor(rng.random(size=shape) < 0.5)
    return m.tensor(rng.integers(-3, 4, size=shape).astype(dtype))


def index_value(m, item):
    """Index items are plain values; integer arrays and masks are tagged lists."""
    if isinstance(item, tuple) and item and item[0] == "ints":
        return m.tensor(np.array(item[1], dtype=np.int64))
    if isinstance(item, tuple) and item and item[0] == "mask":
        return m.tensor(np.array(item[1], dtype=bool))
    return item


def index_of(m, spec):
    return tuple(index_value(m, s) for s in spec)


def _safe_positive(x):
    return x.abs() + 0.1  # log, sqrt, ... stay in their domain in both frameworks


def _unary(m, x, name):
    if name in ("log", "log2", "sqrt", "rsqrt"):
        return getattr(m, name)(_safe_positive(x))
    if name == "log1p":
        return m.log1p(x.abs())
    if name == "exp":
        return m.exp(x.clamp(-8, 8))
    if name == "clamp_lo":
        return m.clamp(x, min=-0.5)
    if name == "clamp_both":
        return m.clamp(x, -0.5, 0.7)
    if name in ("sin", "cos"):  # beyond ±100 one ulp of the argument changes the result
        return getattr(m, name)(x.clamp(-100, 100))
    if name in ("logsigmoid", "softplus", "gelu"):
        return getattr(m.nn.functional, name)(x)
    if name == "log_sigmoid":  # log of a sigmoid that underflows on the lower tail
        return m.log(m.sigmoid(x))
    return getattr(m, name)(x)


def _is_float(x):
    return x.dtype.is_floating_point


def _denominator(x):
    return x.abs() + (0.5 if _is_float(x) else 1)


def _binary(m, a, b, name):
    if name == "div":
        return a / (_denominator(b) if hasattr(b, "abs") else b)
    if name == "pow":
        return _safe_positive(a) ** (b.clamp(-2, 2) if hasattr(b, "clamp") else b)
    if name in ("maximum", "minimum"):
        return getattr(m, name)(a, b)
    ops = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
           "gt": lambda: a > b, "lt": lambda: a < b, "ge": lambda: a >= b,
           "eq": lambda: a == b, "ne": lambda: a != b}
    return ops[name]()


def _rbinary(m, x, s, name):
    if name == "rsub":
        return s - x
    if name == "rdiv":
        return s / _denominator(x)
    if name == "rpow":
        # integer powers with negative integer exponents truncate to 0 in PyTorch but are
        # an error in NumPy; chainrule keeps NumPy's error, so exponents stay >= 0 for ints
        return abs(s) ** x.clamp(-2 if _is_float(x) else 0, 2)
    return s * x


def _reduce(m, x, name, dim, keepdim):
    if name in ("max_values", "max_indices", "min_values", "min_indices"):
        res = (m.max if name.startswith("max") else m.min)(x, dim=dim, keepdim=keepdim)
        return res[0] if name.endswith("values") else res[1]
    if name in ("max_all", "min_all"):
        return (m.max if name == "max_all" else m.min)(x)
    if name in ("softmax", "log_softmax", "cumsum"):
        return getattr(m, name)(x, dim=dim)
    if name == "logsumexp":
        return m.logsumexp(x, dim=dim, keepdim=keepdim)
    if name in ("norm1", "norm_inf"):
        return x.norm(p=1 if name == "norm1" else float("inf"), dim=dim, keepdim=keepdim)
    if dim is None and not keepdim:
        return getattr(m, name)(x)
    return getattr(m, name)(x, dim=dim, keepdim=keepdim)


def _inplace(m, x, name, arg):
    """In-place updates under no_grad: the graph keeps the tensor's old grad_fn."""
    with m.no_grad():
        if name == "setitem":
            spec, value = arg
            x[index_of(m, spec)] = value
        elif name == "masked_fill_":
            x.masked_fill_(m.tensor(np.array(arg[0], dtype=bool)), arg[1])
        elif name == "zero_":
            x.zero_()
        else:
            getattr(x, name)(*arg)
    return x


def build(m, vals, step):
    """Run one recipe step in framework `m`; returns the new value."""
    kind, *a = step
    v = vals.__getitem__
    if kind == "leaf":
        return leaf_tensor(m, *a)
    if kind == "unary":
        return _unary(m, v(a[1]), a[0])
    if kind == "binary":
        return _binary(m, v(a[1]), v(a[2]), a[0])
    if kind == "scalar":  # tensor (op) python scalar, either side
        name, i, s = a
        if name in ("rsub", "rdiv", "rpow", "rmul"):
            return _rbinary(m, v(i), s, name)
        return _binary(m, v(i), s, name)
    if kind == "reduce":
        return _reduce(m, v(a[1]), a[0], a[2], a[3])
    if kind == "matmul":
        return m.matmul(v(a[0]), v(a[1]))
    if kind == "reshape":
        return v(a[0]).reshape(a[1])
    if kind == "transpose":
        return v(a[0]).transpose(a[1], a[2])
    if kind == "permute":
        return v(a[0]).permute(*a[1])
    if kind == "expand":
        return v(a[0]).expand(*a[1])
    if kind == "squeeze":
        return v(a[0]).squeeze() if a[1] is None else v(a[0]).squeeze(a[1])
    if kind == "unsqueeze":
        return v(a[0]).unsqueeze(a[1])
    if kind == "flatten":
        return v(a[0]).flatten(a[1], a[2])
    if kind == "flip":
        return v(a[0]).flip(a[1])
    if kind == "cat":
        return m.cat([v(i) for i in a[0]], dim=a[1])
    if kind == "stack":
        return m.stack([v(i) for i in a[0]], dim=a[1])
    if kind == "split":
        return v(a[0]).split(a[1], dim=a[2])[a[3]]
    if kind == "chunk":
        return v(a[0]).chunk(a[1], dim=a[2])[a[3]]
    if kind == "unbind":
        return v(a[0]).unbind(a[1])[a[2]]
    if kind == "index":
        return v(a[0])[index_of(m, a[1])]
    if kind == "index_by":  # x[mask computed in the graph]
        return v(a[0])[v(a[1])]
    if kind == "masked_fill":
        return v(a[0]).masked_fill(v(a[1]), a[2])
    if kind == "gather":
        return m.gather(v(a[0]), a[1], m.tensor(np.array(a[2], dtype=np.int64)))
    if kind == "where":
        other = v(a[2]) if isinstance(a[2], int) and not isinstance(a[2], bool) else a[2][0]
        return m.where(v(a[0]), v(a[1]), other)
    if kind == "inplace":
        arg = a[2]
        if arg and arg[0] == "__value__":  # copy_ from another value of the graph
            arg = (v(arg[1]),)
        return _inplace(m, v(a[1]), a[0], arg)
    if kind == "clone":
        return v(a[0]).clone()
    if kind == "second_order":  # a marker: check_recipe also compares second derivatives
        return vals[-1]
    if kind in ("reduce_dtype", "loss"):  # dtype= reductions, losses (fuzz_reductions.py)
        from fuzz_reductions import build_reduction_step
        return build_reduction_step(m, vals, step)
    if kind.startswith("int_"):  # integer and bool dtypes (fuzz_ints.py)
        from fuzz_ints import build_int_step
        return build_int_step(m, vals, step)
    if kind in ("view_of", "inplace_grad", "flatcat"):  # views under autograd
        from fuzz_views import build_view_step
        return build_view_step(m, vals, step)
    raise ValueError(f"unknown step {step!r}")
