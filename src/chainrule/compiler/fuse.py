"""Runs of consecutive elementwise replay steps as one compiled loop (numba, the optional
`fast` extra), planned once per verified recording.

A fused loop gives eager's bits because, per element, it performs the same IEEE
operations in the same order and dtype as the NumPy calls it replaces: only ufuncs whose
result is correctly rounded or exact (+ - * /, comparisons, maximum/minimum, logical_not,
isnan, negative; never exp, log or tanh, whose libm differs from NumPy's), with the
loop dtypes NumPy resolves for the recorded operands (a Python scalar is cast as NumPy
casts it), no fastmath (no reordering, no contraction into fused multiply-adds), and
error_model="numpy" (plain IEEE division). Every step's output array is still written,
so later steps and the caller see what eager leaves. Which of two meeting NaNs a result
carries IEEE 754 leaves open, so a loop first computes its values without storing them,
and where one is NaN it stores nothing and the steps' NumPy calls run instead.

A run holds steps whose outputs have one shape; an input is the whole array, a row
(the last axis) or a column broadcast over it, or one element; an array a step writes is
read in the run only as that whole array, so each element's chain reads what the steps
one after another would read."""
import functools
import hashlib

import numpy as np

from ..optim import fused as _switch  # the one switch for every numba loop

_BINARY = {np.add: "({0} + {1})", np.subtract: "({0} - {1})", np.multiply: "({0} * {1})",
           np.divide: "({0} / {1})", np.less: "({0} < {1})", np.less_equal: "({0} <= {1})",
           np.greater: "({0} > {1})", np.greater_equal: "({0} >= {1})",
           np.equal: "({0} == {1})", np.not_equal: "({0} != {1})",
           # NumPy's maximum/minimum: a NaN wins, and of equal values (0 and -0) the second
           np.maximum: "({0} if ({0} > {1} or {0} != {0}) else {1})",
           np.minimum: "({0} if ({0} < {1} or {0} != {0}) else {1})"}
_UNARY = {np.negative: "(-{0})", np.isnan: "({0} != {0})"}
_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64",
           np.dtype(np.bool_): "bool_"}
# integers only compared (exact; their arithmetic wraps and divides as NumPy decides)
_INTEGERS = {np.dtype(t): np.dtype(t).name for t in (np.int8, np.int16, np.int32, np.int64,
                                                     np.uint8, np.uint16, np.uint32, np.uint64)}
_TYPE_NAMES = {**_DTYPES, **_INTEGERS}
_COMPARISONS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
# any() / all() of a boolean array the run made, to one value: exact in any order
_REDUCTIONS = {np.logical_or: ("False", "{acc} |= {0}"),
               np.logical_and: ("True", "{acc} &= {0}")}
_MIN_RUN = 2            # one step alone gains nothing from a loop of its own
_KERNELS = {}           # source -> compiled loop, shared by every recording


def fuse(steps):
    """`steps` with runs of fusable elementwise steps replaced by one step each."""
    if not _switch.use_numba():
        return list(steps)
    out, run = [], _Run()
    for step in steps:
        op = _Op.of(step)
        if op is not None and run.takes(op):
            continue
        out += run.emit()
        run = _Run()
        if op is None or not run.takes(op):
            out.append(step)
    return out + run.emit()


class _Op:
    """One replay step that is a fusable ufunc call: formula, operands, loop dtypes;
    `reduce`: an any()/all() of the run's array to one value, which ends the run."""
    __slots__ = ("step", "ufunc", "inputs", "out", "loop", "reduce")

    @staticmethod
    def of(step):
        if type(step) is not functools.partial or step.keywords.keys() - {"dtype", "out"}:
            return None
        fn, args = step.func, step.args
        if getattr(fn, "__name__", None) == "reduce" and getattr(fn, "__self__", None) in _REDUCTIONS:
            return _Op.reduction(step)
        if fn not in _BINARY and fn not in _UNARY and fn is not np.logical_not:
            return None
        if "out" in step.keywords:  # maximum and minimum take it by name
            out = step.keywords["out"]
            args = (*args, out[0] if type(out) is tuple and len(out) == 1 else out)
        if len(args) != fn.nin + 1 or type(args[-1]) is not np.ndarray:
            return None
        inputs, out = args[:-1], args[-1]
        kinds = [_operand_kind(a) for a in inputs]
        if any(k is None for k in kinds):  # (not `None in`: dtype("f8") == None)
            return None
        dtype = step.keywords.get("dtype")
        signature = None if dtype is None else (None,) * fn.nin + (np.dtype(dtype),)
        try:
            loop = fn.resolve_dtypes((*kinds, None), **(
                {} if signature is None else {"signature": signature}))
        except (TypeError, ValueError):
            return None
        if loop[-1] != out.dtype or any(d not in _DTYPES and (
                d not in _INTEGERS or fn not in _COMPARISONS) for d in loop):
            return None
        for a, d in zip(inputs, loop):  # an array is read in its dtype or cast exactly
            if (isinstance(a, (np.ndarray, np.generic)) and a.dtype != d
                    and a.dtype != np.bool_):
                return None
            if type(a) is int and d in _INTEGERS and not (
                    np.iinfo(d).min <= a <= np.iinfo(d).max):
                return None  # NumPy compares it as a Python int; cast, it would wrap
            if type(a) is int and d.kind == "f" and abs(a) > 2 ** (np.finfo(d).nmant + 1):
                return None  # not exact in the float type: NumPy's cast is its own
        op = _Op()
        op.step, op.ufunc, op.inputs, op.out, op.loop = step, fn, inputs, out, loop
        op.reduce = False
        return op

    @staticmethod
    def reduction(step):
        """logical_or/and.reduce(a, axis, dtype, out, keepdims), as steps.bound makes it,
        of a whole boolean array into a 0-d boolean `out`."""
        if len(step.args) != 5 or step.keywords:
            return None
        a, axis, dtype, out, keepdims = step.args
        if not (type(a) is np.ndarray and a.dtype == np.bool_ and type(out) is np.ndarray
                and out.dtype == np.bool_ and out.shape == () and not keepdims
                and dtype in (None, np.bool_) and a.ndim >= 1
                and axis in (None, tuple(range(a.ndim)), *((0,) if a.ndim == 1 else ()))):
            return None
        op = _Op()
        op.step, op.ufunc, op.inputs, op.out = step, step.func.__self__, (a,), out
        op.loop, op.reduce = (np.dtype(np.bool_), np.dtype(np.bool_)), True
        return op


def _operand_kind(a):
    """What NumPy resolves the loop from: an array's or NumPy scalar's dtype, or a Python
    scalar's type (a weak scalar); None for what a loop does not take."""
    if type(a) is np.ndarray or isinstance(a, np.generic):
        return a.dtype
    if type(a) in (bool, float, int):
        return type(a)
    return None


def _same_memory(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


class _Run:
    def __init__(self):
        self.ops, self.shape = [], None
        self.written = []   # output arrays, in order
        self.closed = False  # by a reduction: what follows could read its value

    def takes(self, op):
        """Add `op` if the run can hold it (False: the run ends before it)."""
        if self.closed:
            return False
        if op.reduce:
            return self.takes_reduction(op)
        out = op.out
        if not out.flags.c_contiguous:
            return False
        if self.shape is not None and out.shape != self.shape:
            return False
        arrays = [a for a in op.inputs if type(a) is np.ndarray]
        for w in self.written:
            for a in [*arrays, out]:
                if np.may_share_memory(a, w) and not _same_memory(a, w):
                    return False
        for a in arrays:  # the new output against what the run reads
            if np.may_share_memory(a, out) and not _same_memory(a, out):
                return False
            if _kind(a, out.shape) is None:
                return False
        for earlier in self.ops:
            for a in earlier.inputs:
                if (type(a) is np.ndarray and np.may_share_memory(a, out)
                        and not _same_memory(a, out)):
                    return False
        self.shape = out.shape
        self.ops.append(op)
        self.written.append(out)
        return True

    def takes_reduction(self, op):
        """An any()/all() over the run's whole shape, into a value nothing in the run
        reads or shares memory with."""
        (a,), out = op.inputs, op.out
        if self.shape is None or a.shape != self.shape or _kind(a, self.shape) != "full":
            return False
        arrays = [*(x for o in self.ops for x in o.inputs if type(x) is np.ndarray),
                  *self.written]
        if any(np.may_share_memory(out, x) for x in arrays):
            return False
        self.ops.append(op)
        self.written.append(out)
        self.closed = True
        return True

    def emit(self):
        if len(self.ops) < _MIN_RUN:
            return [op.step for op in self.ops]
        source, args = _generate(self.ops, self.shape)
        return [functools.partial(_loop_or_steps, _kernel(source), tuple(args),
                                  tuple(op.step for op in self.ops))]


def _loop_or_steps(kernel, args, steps):
    """The fused loop; where it would compute a NaN it writes nothing, and the NumPy
    calls run instead (which of two meeting NaNs a result keeps is theirs to decide)."""
    if not kernel(*args):
        for step in steps:
            step()


def _kind(a, shape):
    """How an input array maps onto the loop's (rows, columns) view of `shape`."""
    if a.shape == shape:
        return "full" if a.flags.c_contiguous else None
    if a.size == 1:
        return "one"
    if not a.flags.c_contiguous or a.ndim > len(shape):
        return None
    lead = shape[:-1]
    if a.shape[-1] == shape[-1] and a.size == shape[-1]:
        return "row"
    if a.ndim == len(shape) and a.shape[:-1] == lead and a.shape[-1] == 1:
        return "col"
    return None


def _view(a, kind, rows, cols):
    a = a.reshape(-1)
    return a.reshape(rows, cols) if kind == "full" else a


def _generate(ops, shape):
    """The loop's source and its arguments (each array once, viewed as the loop reads it)."""
    cols = shape[-1] if shape else 1
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    names, args = {}, []       # (address, shape, strides, dtype, kind) -> argument name
    body, current = [], {}     # argument name -> the variable holding its new value

    def arg(a, kind):
        key = (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str, kind)
        if key not in names:
            names[key] = f"a{len(args)}"
            args.append(_view(a, kind, rows, cols))
        return names[key]

    index = {"full": "[r, c]", "row": "[c]", "col": "[r]", "one": "[0]"}
    values, stores, floats, start, end = [], [], [], [], []
    for k, op in enumerate(ops):
        if op.reduce:  # any()/all(): folded in as the store loop goes, stored after it
            first, fold = _REDUCTIONS[op.ufunc]
            (a,) = op.inputs
            name = arg(a, "full")
            start.append(f"    acc{k} = {first}")
            stores.append("            " + fold.format(current.get(name) or f"{name}[r, c]",
                                                        acc=f"acc{k}"))
            end.append(f"    {arg(op.out, 'one')}[0] = acc{k}")
            continue
        terms = []
        for a, dtype in zip(op.inputs, op.loop):
            if type(a) is np.ndarray:
                kind = _kind(a, shape)
                name = arg(a, kind)
                term = current.get(name) if kind == "full" else None
                term = term or f"{name}{index[kind]}"
                if a.dtype != dtype:
                    term = f"{_TYPE_NAMES[dtype]}({term})"
            else:  # a Python or NumPy scalar, cast as NumPy casts it for this loop
                term = f"{arg(np.array(a, dtype).reshape(1), 'one')}[0]"
            terms.append(term)
        if op.ufunc is np.logical_not:
            formula = f"(not {terms[0]})" if op.loop[0] == np.bool_ else f"({terms[0]} == 0)"
        else:
            formula = (_BINARY.get(op.ufunc) or _UNARY[op.ufunc]).format(*terms)
        out = arg(op.out, "full")
        values.append(f"            v{k} = {formula}")
        stores.append(f"            {out}[r, c] = v{k}")
        if op.out.dtype != np.bool_:
            floats.append(f"(v{k} != v{k})")
        current[out] = f"v{k}"
    params = ", ".join(f"a{i}" for i in range(len(args)))
    full = next(n for key, n in names.items() if key[-1] == "full")
    loops = ["    for r in range(rows):", "        for c in range(cols):"]
    check = [*loops, *values, f"            nan |= {' | '.join(floats)}"] if floats else []
    source = "\n".join([f"def loop({params}):",
                        f"    rows, cols = {full}.shape",
                        "    nan = False", *check,
                        "    if nan:", "        return False", *start,
                        *loops, *values, *stores, *end, "    return True", ""])
    return source, args


def _kernel(source):
    kernel = _KERNELS.get(source)
    if kernel is None:
        kernel = _KERNELS[source] = _load(source)
    return kernel


def _load(source):
    """The loop compiled by numba, in memory: nothing is written, and numba's disk cache
    (which loads pickles) is not used, so each process compiles its loops once."""
    import numba
    name = "loop_" + hashlib.sha1(source.encode()).hexdigest()[:16]
    namespace = {name: getattr(np, name) for name in _TYPE_NAMES.values()}
    exec(compile(source, f"<chainrule fused {name}>", "exec"), namespace)  # noqa: S102
    return numba.njit(cache=False, nogil=True, error_model="numpy")(namespace["loop"])
