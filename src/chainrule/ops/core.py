"""Applying an Op to tensors: unwrap, run forward, record a Node when needed, and
PyTorch's type promotion for binary ops."""
import numbers

import numpy as np

from ..tensors import dtypes
from ..autograd import grad_mode
from ..autograd.function import record
from ..tensors.tensor import Tensor, as_tensor_arg


def apply(op, inputs, params=()):
    """Run `op` on `inputs` (tensors or constants) with non-tensor `params`."""
    arrays = [t._data if isinstance(t, Tensor) else t for t in inputs]
    try:
        out = Tensor._wrap(op.forward(*arrays, *params))
    except (TypeError, ValueError) as err:
        raise torch_error(err, op.name, arrays) from None
    if grad_mode._state[0]:
        for t in inputs:
            if isinstance(t, Tensor) and t.requires_grad:
                return record(op, inputs, arrays, params, out)
    return out


def apply1(op, x, *params):
    """Fast path for one tensor input."""
    a = x._data
    try:
        out = Tensor._wrap(op.forward(a, *params))
    except (TypeError, ValueError) as err:
        raise torch_error(err, op.name, (a,)) from None
    if x.requires_grad and grad_mode._state[0]:
        return record(op, (x,), [a], params, out)
    return out


def op_label(name):
    """`MulBackward0` -> `mul`: the op a message names."""
    for tail in ("Backward0", "Backward1", "Backward2"):
        if name.endswith(tail):
            return name[:-len(tail)].lower()
    return name


def torch_error(err, opname, arrays=()):
    """NumPy's exception from inside an op's forward, as the type PyTorch raises: a dtype
    the kernel lacks is NotImplementedError ("not implemented for 'Float'"), any other
    refusal (a repeated dim, an int to a negative power, minus on bools) RuntimeError."""
    label = op_label(opname)
    if isinstance(err, TypeError) and "not supported for the input types" in str(err):
        names = sorted({dtypes._BY_NP[a.dtype].name for a in arrays
                        if getattr(a, "dtype", None) in dtypes._BY_NP})
        return NotImplementedError(f"{label}: not implemented for {' and '.join(names)} tensors")
    return RuntimeError(f"{label}: {err}")


def _operand(v, opname):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (bool, numbers.Number)) and not isinstance(v, np.ndarray):
        if isinstance(v, complex):
            raise TypeError(f"{opname}: complex numbers are not supported")
        return v.item() if isinstance(v, np.generic) else v
    return as_tensor_arg(v, opname)


def _priority(v):
    if isinstance(v, Tensor):
        return (v._data.dtype, 2 if v._data.ndim else 1)
    return (np.dtype(type(v)) if not isinstance(v, bool) else np.dtype(np.bool_), 0)


def promote(*operands):
    return dtypes.result_type(tuple(_priority(v) for v in operands))


def binary(op, a, b, float_result=False, keep_dtype=False, wrap_int=False, name=None):
    """Binary op with PyTorch's promotion; Python scalars stay unwrapped constants. `name`:
    the op's name in messages, where its node's name does not tell it."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta and type(a) is not float and type(a) is not int:
        a = _operand(a, op.name)
        ta = isinstance(a, Tensor)
    if not tb and type(b) is not float and type(b) is not int:
        b = _operand(b, op.name)
        tb = isinstance(b, Tensor)
    if not (ta or tb):
        raise TypeError(f"{op.name}: expected at least one tensor")
    ad = a._data if ta else (_int_scalar(a, b._data) if wrap_int else a)
    bd = b._data if tb else (_int_scalar(b, ad) if wrap_int else b)
    half = op.name.startswith(("Mul", "Div")) and _scalar_in_float32(a, b, ad, bd, ta, tb)
    if half:  # PyTorch's mul/div keep a Python float in float32 (1e-40 * inf is inf);
        # add/sub/pow round it to float16 first (-inf + 1e30 is nan), as NumPy does
        # the scalar is recorded in float32 too: the gradient g * 1e30 is 0 where g is 0
        wide = np.float32
        if ta and tb:  # the left operand in float16 first, then exactly in float32
            ad, bd = ad.astype(np.float16).astype(wide), bd.astype(wide)
        else:
            ad, bd = (ad.astype(wide), wide(bd)) if ta else (wide(ad), bd.astype(wide))
    try:
        out = op.forward(ad, bd)
        if half and out.dtype == np.float32:
            out = out.astype(np.float16)
    except (TypeError, ValueError) as err:
        if "broadcast" in str(err):
            raise RuntimeError(
                f"{name or op.name[:-9].lower()}: shapes {_shape(a)} and {_shape(b)} cannot be "
                "broadcast together (sizes must match or one of them be 1, aligned from the "
                "right)") from None
        raise torch_error(err, name or op.name, (ad, bd)) from None
    if not keep_dtype:
        od = out.dtype
        # when every tensor operand already has the result's dtype, NumPy agreed with
        # PyTorch; otherwise apply PyTorch's promotion explicitly
        if (ta and ad.dtype != od) or (tb and bd.dtype != od) or (float_result and od.kind != "f"):
            want = promote(a, b)
            if float_result and want.kind != "f":
                want = dtypes.get_default_dtype().np
            if od != want:  # cast first: maximum(uint8, -2) is 254, int32 + float32 in float32
                # the gradient rules see the cast operands too: minimum(int64 max, float16
                # inf) is a tie in float16, as in PyTorch
                ad0, bd0 = ad, bd
                ad, bd, out = _in_dtype(op, want, a, b, ad, bd)
                if want == np.float16 and op.name.startswith("Mul"):
                    # but mul's rule g * other meets a one-element other as PyTorch's
                    # kernel does, a float32 scalar: 0 * int64 max is 0, not 0 * inf
                    ad = ad0.astype(np.float32) if ta and ad0.size == 1 else ad
                    bd = bd0.astype(np.float32) if tb and bd0.size == 1 else bd
    out = Tensor._wrap(out)
    if ((ta and a.requires_grad) or (tb and b.requires_grad)) and grad_mode._state[0]:
        return record(op, (a, b), (ad, bd), (), out)
    return out


def _scalar_in_float32(a, b, ad, bd, ta, tb):
    """Whether a float16 mul/div takes its scalar at its own value in float32: a Python
    float on either side, or a one-element tensor of another dtype on the right (PyTorch's
    kernel reads it as a scalar: x / int32 min is x * -4.7e-10, not x / -inf)."""
    if not (ta and tb):
        return (ad if ta else bd).dtype == np.float16 and type(b if ta else a) is float
    return (bd.size == 1 and bd.dtype != np.float16 and ad.dtype.kind != "c"
            and promote(a, b) == np.float16)


def _in_dtype(op, want, a, b, ad, bd):
    """PyTorch casts both operands to the result dtype, then computes."""
    ad, bd = in_common_dtype(want, a, b, ad, bd)
    return ad, bd, np.asanyarray(op.forward(ad, bd)).astype(want, copy=False)


def in_common_dtype(want, a, b, ad, bd):
    """Both operands as PyTorch computes them: tensors cast to the common dtype `want`, a
    Python int wrapped into an integer dtype (uint8 < -1 compares with 255)."""
    return as_common(want, a, ad), as_common(want, b, bd)


def as_common(want, v, data):
    """One operand (`data` is its array or number) in the common dtype `want`."""
    if not isinstance(v, Tensor):
        return _int_scalar(data, np.empty(0, dtype=want))
    with np.errstate(over="ignore"):  # int64 past 65,504 is inf in float16, as in PyTorch
        return data.astype(want, copy=False)


def _int_scalar(v, arr):
    """PyTorch casts a Python int to an integer tensor's dtype, wrapping around out of range
    (uint8 250 + 300 is 38); NumPy would raise OverflowError."""
    if type(v) is not int or arr.dtype.kind not in "iu":
        return v
    info = np.iinfo(arr.dtype)
    if info.min <= v <= info.max:
        return v
    span = 1 << (8 * arr.dtype.itemsize)
    w = v % span
    return w - span if arr.dtype.kind == "i" and w > info.max else w


def check_broadcast(name, *operands):
    """PyTorch checks that the shapes broadcast before it picks a kernel for the dtype:
    bool (3,) // bool (2,) is a shape error, not the missing bool kernel."""
    shapes = [v._data.shape for v in operands if isinstance(v, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                           "cannot be broadcast together") from None


def _shape(v):
    return tuple(v._data.shape) if isinstance(v, Tensor) else ()


def check_float(x, opname):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{opname}: expected a floating-point tensor, got {x.dtype}; "
                           "convert with .float()")


def to_float(x):
    """Integer/bool tensors become the default float dtype, as PyTorch's exp/log/... do."""
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.astype(dtypes.get_default_dtype().np))
    return x


_HALF = np.dtype(np.float16)


def _is_half(v):
    data = v._data if isinstance(v, Tensor) else v
    return isinstance(data, (np.ndarray, np.generic)) and data.dtype == np.float16


def _widen(v):
    if isinstance(v, Tensor):
        return v.float() if v._data.dtype == np.float16 else v
    return v.astype(np.float32) if _is_half(v) else v


def quiet(fn):
    """`fn` without NumPy's warnings on log(0), 0/0, overflow, inf meeting 0: PyTorch
    returns inf/NaN silently."""
    def quieted(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    quieted.__name__ = getattr(fn, "__name__", "quieted")
    return quieted


def float16_in_float32(fn):
    """A forward or gradient rule computed as PyTorch's CPU kernels compute float16: in
    float32, rounded once at the end. Written with several NumPy calls, it would round
    after each (sigmoid(6.4) 0.998, not 0.9985; exp(15) overflowing inside sigmoid(-15)).
    Arrays in plain backward, tensors under create_graph (the casts are differentiable)."""
    def wrapped(*args):
        # the ops wrapped are unary: the first argument (x, or g, of x's dtype) decides;
        # one test, as this runs in every sigmoid/tanh/softmax forward and backward
        first = args[0]
        if getattr(first._data if isinstance(first, Tensor) else first, "dtype", None) \
                is not _HALF:
            return fn(*args)
        out = fn(*[_widen(a) for a in args])
        if isinstance(out, Tensor):
            return out.half() if out._data.dtype.kind == "f" else out
        return out.astype(np.float16) if out.dtype.kind == "f" else out
    wrapped.__name__ = getattr(fn, "__name__", "rule")
    return wrapped


def c_contiguous(fn):
    """A forward whose result PyTorch allocates C-contiguous (reductions, softmax, a Python
    number to a tensor's power), where NumPy lays it out as the input is: the min over a
    dim of a transposed tensor came back transposed, and a later .view() of it failed
    where PyTorch's works."""
    def forward(*args):
        out = fn(*args)
        return out if out.flags.c_contiguous else out.copy(order="C")
    return forward
