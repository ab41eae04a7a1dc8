"""Views under autograd. A view records its base (the tensor owning the memory, never
itself a view) and the steps that re-derive it from that base (a slicing key, a reshape,
a transpose, ...). An in-place op on a view, while autograd records, gives the base a
CopySlices node: the base's gradient is the incoming gradient with the view's region
replaced by the gradient that flows through the op's result; then every live view of
that base (the modified one included) re-derives its history from the new base.

The region of a view is found layout-free: the view's steps applied to
`arange(base.numel()).reshape(base.shape)` give, for each element of the view, the flat
index of the base element it aliases."""
import weakref

import numpy as np
from numpy.lib.array_utils import byte_bounds

from ..autograd import grad_mode
from ..autograd.function import Op, record

_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location. Please clone() the tensor before performing the "
            "operation.")


# A view's record, `t._view`: (base, steps, made with grad mode on, multi), where multi is
# (i, "Split") for output i of a function returning several views. A tuple: views are
# made often (every slice) and a tuple costs a fraction of an object.
BASE, STEPS, WITH_GRAD, MULTI = range(4)
_grad = grad_mode._state  # read inline: make_view runs on every slice (a hot path)


def make_view(out, x, fn, *args):
    """Mark `out` (sharing x's memory) as the view `fn(x, *args)` of x's base."""
    out._version = x._version
    info = x._view
    if info is None:
        base, steps, multi = x, ((fn, args),), None
    else:
        base, steps, multi = info[BASE], info[STEPS] + ((fn, args),), info[MULTI]
    out._view = (base, steps, _grad[0], multi)
    views = base._views
    if views is None:
        base._views = [weakref.ref(out)]
        return out
    views.append(weakref.ref(out))
    n = len(views)
    if n >= 32 and not n & (n - 1):  # at powers of two: drop dead views (amortised O(1))
        views[:] = [r for r in views if r() is not None]
    return out


def mark_multi(pieces, name):
    """The pieces of split/chunk/unbind: PyTorch refuses in-place ops on them in graphs."""
    for i, p in enumerate(pieces):
        if p._view is not None:
            p._view = p._view[:MULTI] + ((i, name),)
    return pieces


def writable(arr, overlap_ok=False):
    """`arr` ready to be written: refused when two of its elements share memory (an
    expanded tensor) unless every element gets the same value (`overlap_ok`: fill_)."""
    if not arr.flags.writeable:
        if not overlap_ok and arr.size and any(s == 0 and n > 1
                                               for s, n in zip(arr.strides, arr.shape)):
            raise RuntimeError(_OVERLAP)
        try:
            arr.flags.writeable = True
        except ValueError:  # memory NumPy got read-only (a read-only array or buffer)
            raise RuntimeError("cannot write in place into a tensor whose memory is read-only "
                               "(made from a read-only NumPy array or buffer); clone() it "
                               "first") from None
    return arr


def _dense_span(arr):
    """(first, last) byte of an array whose elements tile its memory without gaps or
    repeats (any order of dims), else None: PyTorch checks overlap only between those."""
    dims = sorted((abs(st), n) for st, n in zip(arr.strides, arr.shape) if n != 1)
    step = arr.itemsize
    for st, n in dims:
        if st != step:
            return None
        step *= n
    lo, hi = byte_bounds(arr)
    return lo, hi


def check_partial_overlap(out, inp):
    """An in-place op reading `inp` while writing `out`: PyTorch refuses when the two
    share some memory but are not the same elements (a[1:].add_(a[:-1]))."""
    if out is inp or not out.size or not inp.size or not np.may_share_memory(out, inp):
        return
    a, b = _dense_span(out), _dense_span(inp)
    if a is None or b is None:
        return  # too hard to tell, as for PyTorch
    same = a == b and out.strides == inp.strides and out.shape == inp.shape
    if not same and a[0] < b[1] and b[0] < a[1]:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please "
                           "clone() the tensor before performing the operation.")


def check_inplace(t, opname):
    """The view rules of an in-place op while grad mode is on."""
    base = t._view[BASE]
    if not base.requires_grad:
        return
    if t._view[MULTI] is not None:
        i, name = t._view[MULTI]
        raise RuntimeError(f"Output {i} of {name} is a view and is being modified inplace. This "
                           "view is the output of a function that returns multiple views. Such "
                           "functions do not allow the output views to be modified inplace. You "
                           "should replace the inplace operation by an out-of-place one.")
    if base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation. (op: {opname})")
    if not t._view[WITH_GRAD]:
        raise RuntimeError("A view was created in no_grad mode and is being modified inplace "
                           "with grad mode enabled. Given that this use case is ambiguous and "
                           "error-prone, it is forbidden. You can clarify your code by moving both "
                           "the view and the inplace either both inside the no_grad block (if you "
                           "don't want the inplace to be tracked) or both outside (if you want the "
                           f"inplace to be tracked). (op: {opname})")


# ---- the history of a tensor modified in place -----------------------------------------
def _region_mask(shape, flat):
    m = np.zeros(shape, dtype=bool)
    if flat is None:
        m[...] = True
    else:
        m.reshape(-1)[flat.reshape(-1)] = True
        if np.count_nonzero(m) < flat.size:  # a fill_ through an expanded view
            raise RuntimeError(_OVERLAP)  # PyTorch's backward refuses it too
    return m


# CopySlices: inputs (the base before the write, the written values); `flat` maps each
# element of the view to its base element (None: the whole base was written).
COPY_SLICES = Op(
    "CopySlices", None,
    lambda g, o, b, r, flat: np.where(_region_mask(g.shape, flat), 0, g),
    lambda g, o, b, r, flat: g if flat is None else g.reshape(-1)[flat],
    saves_inputs=False)


def _flat_index(base, steps):
    from .tensor import Tensor
    t = Tensor._wrap(np.arange(base._data.size).reshape(base._data.shape))
    with grad_mode.no_grad():
        for fn, args in steps:
            t = fn(t, *args)
    return t._data


def set_history(t, node):
    """Give `t` a new grad_fn; a gradient retained on t moves to the new history."""
    old = t.grad_fn
    if old is not None and old.retain is not None and old.retain() is t:
        node.retain, old.retain = old.retain, None
    t.grad_fn = node
    t.requires_grad = True


def _copy_slices(base, flat, result):
    from .tensor import Tensor
    stand_in = Tensor._wrap(base._data)
    record(COPY_SLICES, (base, result), (base._data, result._data), (flat,), stand_in)
    set_history(base, stand_in.grad_fn)


def record_inplace(t, result):
    """After `t`'s memory received `result`'s values in an op recorded by autograd."""
    info = t._view
    if info is None:
        if result.grad_fn is not None:
            set_history(t, result.grad_fn)
        elif t.requires_grad:  # a constant overwrote everything: no gradient to the old t
            _copy_slices(t, None, result)
        if t._views:
            refresh(t)
        return
    base = info[BASE]
    if base.requires_grad or result.requires_grad:
        _copy_slices(base, _flat_index(base, info[STEPS]), result)
        refresh(base)


def refresh(base):
    """Every live view of `base` re-derives its history from the base's current one."""
    if not base.requires_grad:
        return
    live = []
    for ref in list(base._views):
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v._view[MULTI] is not None:  # PyTorch cannot re-derive these: their use fails
            set_history(v, _stale_piece(base, v))
            continue
        t = base
        for fn, args in v._view[STEPS]:
            t = fn(t, *args)
        set_history(v, t.grad_fn)
    base._views[:] = live  # the re-derivations registered throw-away views


def _refuse_stale(g, o, b, message):
    raise RuntimeError(message)


STALE_PIECE = Op("StalePieceBackward", None, _refuse_stale, saves_inputs=False)


def _stale_piece(base, piece):
    """The history of a split/unbind output after its base was modified in place: a node
    whose backward raises PyTorch's error."""
    from .tensor import Tensor
    i, name = piece._view[MULTI]
    message = (f"Output {i} of {name} is a view and its base or another view of its "
               "base has been modified inplace. This view is the output of a function that "
               "returns multiple views. Such functions do not allow the output views to be "
               "modified inplace. You should replace the inplace operation by an out-of-place "
               "one.")
    stand_in = Tensor._wrap(piece._data)
    record(STALE_PIECE, (base,), (None,), (message,), stand_in)
    return stand_in.grad_fn


# ---- memory layout, as PyTorch reports it ----------------------------------------------
class UntypedStorage:
    """The memory a tensor and its views share (read-only questions only)."""
    __slots__ = ("_arr",)

    def __init__(self, arr):
        self._arr = arr

    def data_ptr(self):
        return byte_bounds(self._arr)[0] if self._arr.size else 0

    def nbytes(self):
        return self._arr.nbytes

    size = nbytes

    def __len__(self):
        return self._arr.nbytes


def _storage_array(t):
    return t._view[BASE]._data if t._view is not None else t._data


def stride(self, dim=None):
    item = self._data.itemsize
    s = tuple(b // item for b in self._data.strides)
    return s if dim is None else s[self._dim(dim)]


def data_ptr(self):
    return self._data.__array_interface__["data"][0] if self._data.size else 0


def storage_offset(self):
    if self._view is None or not self._data.size:
        return 0
    return (data_ptr(self) - UntypedStorage(_storage_array(self)).data_ptr()) // self._data.itemsize


def untyped_storage(self):
    return UntypedStorage(_storage_array(self))


def is_view(self):
    return self._view is not None


def base_of(self):
    return self._view[BASE] if self._view is not None else None


CONTIGUOUS = Op("CloneBackward0", lambda x: np.copy(x, order="C"), lambda g, o, x: g,
                saves_inputs=False)


def contiguous(self, memory_format=None):
    from ..ops.core import apply1
    return self if self._data.flags.c_contiguous else apply1(CONTIGUOUS, self)


def install(Tensor):
    Tensor.stride, Tensor.data_ptr, Tensor.storage_offset = stride, data_ptr, storage_offset
    Tensor.untyped_storage, Tensor._is_view, Tensor.contiguous = untyped_storage, is_view, contiguous
    Tensor._base = property(base_of)
