"""Recording one eager call as a list of NumPy kernels, and replaying that list.

During the recording call every tensor's array is a `Traced` array: a NumPy subclass
whose ufuncs, array functions and methods run as usual and are also appended to the
recorder's list, their arguments resolved to plain arrays sharing the recording's memory.
A kernel that makes a new array gets a step that recomputes it into the same memory; one
that makes a view needs no step (the view points at memory every replay refills); one
that writes in place is replayed as written. A replay is then a flat loop of NumPy calls
over buffers allocated once, with no Tensor, Node or promotion logic left in it."""
import functools

import numpy as np

from . import returns
from .draws import Draws
from .traced_array import Traced, _plain, _view
from .steps import (GuardFailed, ValueChanged, accumulate_grad, assign_grad, bound,
                    call_step, guard, nothing, recompute, value_guard)

__all__ = ["Recorder", "Traced", "GuardFailed", "ValueChanged"]


_WRITERS = {np.ndarray.__setitem__, np.ndarray.fill, np.ndarray.put, np.ndarray.sort,
            np.copyto, np.put, np.place, np.putmask, np.put_along_axis}


def _owner(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _arrays(values):
    for v in values:
        if isinstance(v, np.ndarray):
            yield v
        elif type(v) is tuple or type(v) is list:
            yield from _arrays(v)


def _name(fn):
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"{owner.__name__}.{fn.__name__}"
    return getattr(fn, "__name__", type(fn).__name__)


def _takes_out(fn):
    if isinstance(fn, np.ufunc):
        return True
    owner = getattr(fn, "__self__", None)
    return isinstance(owner, np.ufunc) and fn.__name__ in ("reduce", "accumulate")


class Recorder:
    """Collects the steps of one call and a description of each, to compare recordings."""

    def __init__(self, code=None):
        self.code = code         # the compiled function's code (see returns.py)
        self.steps = []
        self.descs = []
        self.suspended = 0
        self.reasons = []
        self.differs = False     # a rerun of the steps did not reproduce eager's values
        self.escapes = {}        # id(Python value) -> (value, plain array it came from)
        self._numbers = {}       # id(traced array) -> its number, in order of appearance
        self._keep = []          # keeps numbered arrays alive so ids stay unique
        self._owners = {}        # id -> array owning memory that traced arrays live in
        self._private = {}       # the owners this call made (results, draws, copies)
        self._verify = []        # per step: how to rerun it when checking, None: never
        self._segment = (0, {})  # first step since the last effect, private state then
        self._outside = {}       # memory the call did not make, as it was then
        self.returned = {}       # id(value) -> how a replay computes a returned value again
        self.values = []         # the bytes behind each guarded value, in order
        self.value_names = []    # where each was taken out ("item() of kernel 3")
        self.irreversible = False  # a step so far changes state a new recording cannot undo
        self.generators = set()  # the chainrule generators drawn from or seeded so far
        self.rollback = set()    # generators to restore when a value guard records again
        self._passed = {}        # id(value) -> its guard's step, while its use is unknown
        self._late = {}          # id(value) -> where: guarded values no replay can recover
        self._results = set()    # ids of the arrays kernels made, each a step's own output

    def trace(self, arr, private=True, numbered=True):
        """`arr` as a traced array; its memory is remembered, so a plain view of it made
        later (np.asarray of a traced array) is recognised as traced too."""
        owner = _owner(arr)
        self._owners.setdefault(id(owner), owner)
        if private:
            self._private.setdefault(id(owner), owner)
        traced = _view(arr, Traced)
        if numbered:
            self.number(traced)
        return traced

    def used(self, traced):
        """Whether a kernel read or wrote `traced` (it was numbered when described)."""
        return id(traced) in self._numbers

    def _add(self, step, verify=True):
        self.steps.append(step)
        self._verify.append(step if verify is True else verify)

    # ---- checking that the steps reproduce what eager computed -----------------------
    # Steps between two effects (an optimizer call, a write into a parameter) write only
    # memory this call made, so they can run again: from the private state at the start
    # of the segment, they must leave every private buffer bit for bit as eager left it.
    # A NumPy call on a plain alias of a traced array (np.asarray(a) *= 2) is invisible
    # to the trace; this is where its absence shows.
    def checkpoint(self):
        start, state = self._segment
        self._check_outside(start)
        reruns = self._verify[start:]
        if reruns and not self.reasons:
            eager = {k: o.copy() for k, o in self._private.items()}
            for k, saved in state.items():
                np.copyto(self._private[k], saved)
            try:
                for rerun in reruns:
                    rerun()
            except Exception as err:  # noqa: BLE001 (any failure means: do not replay)
                self.differs = True
                self.unsupported(f"rerunning kernels {start}-{len(self.steps) - 1} failed: {err}")
            for k, owner in self._private.items():
                if not self.reasons and owner.tobytes() != eager[k].tobytes():
                    self.differs = True
                    self.unsupported(
                        f"kernels {start}-{len(self.steps) - 1} do not reproduce an array "
                        f"of shape {owner.shape}: a NumPy call ran outside the trace")
                np.copyto(owner, eager[k])

    def effect_done(self):
        self._segment = (len(self.steps), {k: o.copy() for k, o in self._private.items()})
        self._outside = {k: o.copy() for k, o in self._owners.items() if k not in self._private}

    def _check_outside(self, start):
        """Between two effects, parameters and other memory the call did not make cannot
        change: if one did, a NumPy call the trace does not see wrote into it."""
        for k, before in self._outside.items():
            if not self.reasons and self._owners[k].tobytes() != before.tobytes():
                self.differs = True
                self.unsupported(f"an array of shape {before.shape} that the call did not "
                                 f"make changed during kernels {start}-{len(self.steps) - 1}: "
                                 "a NumPy call ran outside the trace")

    def writes_outside(self, fn, args, kwargs):
        """Whether this call writes into memory the call did not make (a parameter)."""
        out = kwargs.get("out") if kwargs else None
        if out is None and args and (fn in _WRITERS or getattr(fn, "__name__", "") == "at"):
            out = args[0]
        for target in _arrays(out if type(out) is tuple else (out,)):
            owner = _owner(target)
            if id(owner) not in self._owners:  # made by this call outside the trace
                self._constant(owner)
            elif id(owner) not in self._private:
                return True
        return False

    # ---- describing arguments (two recordings of the same code must match) ------------
    def number(self, traced):
        key = id(traced)
        n = self._numbers.get(key)
        if n is None:
            n = self._numbers[key] = len(self._numbers)
            self._keep.append(traced)
        return n

    def describe(self, x):
        if type(x) is Traced:
            if id(x) not in self._numbers and id(_owner(x)) not in self._owners:
                # made by an ndarray method the trace does not follow (its memory is
                # nobody's buffer): a replay could not recompute it
                self.unsupported(f"an array of shape {x.shape} was made by a NumPy "
                                 "method the recording does not follow")
            return ("t", self.number(x), x.shape, x.dtype.str, x.strides)
        if isinstance(x, np.ndarray):
            return ("c", x.shape, x.dtype.str, x.tobytes())
        if type(x) is tuple or type(x) is list:
            return tuple(self.describe(v) for v in x)
        if isinstance(x, float) and id(x) in self.escapes:
            return ("escaped", repr(x))
        if isinstance(x, (bool, int, float, complex, str, np.generic)):
            return ("s", type(x).__name__, repr(x))
        if isinstance(x, slice):
            return ("slice", self.describe(x.start), self.describe(x.stop), self.describe(x.step))
        if x is None or x is Ellipsis or isinstance(x, (np.dtype, type)):
            return ("o", repr(x))
        return ("object", type(x).__name__, id(x))

    def _note(self, *desc):
        self.descs.append(desc)

    # ---- what the traced array type reports ------------------------------------------
    def kernel(self, fn, args, kwargs, pargs, pkw, result, rerun=True):
        self._note(_name(fn), self.describe(tuple(args)),
                   tuple((k, self.describe(v)) for k, v in kwargs.items()))
        if "out" in kwargs or result is None:  # writes into memory the replay reuses
            self._add(bound(fn, pargs, pkw), rerun or None)
            if "out" in kwargs:
                out = kwargs["out"]
                return out[0] if type(out) is tuple and len(out) == 1 else out
            return None
        single = not isinstance(result, (tuple, list))
        outs = [result] if single else list(result)
        inputs = list(_arrays(pargs)) + list(_arrays(pkw.values()))
        fresh, wrapped = [], []
        for i, r in enumerate(outs):
            if isinstance(r, np.generic):
                r = np.asarray(r)
            if isinstance(r, np.ndarray):
                if not (r.base is not None and any(np.may_share_memory(r, a) for a in inputs)):
                    fresh.append((None if single else i, r))
                    if r.base is None:
                        self._results.add(id(r))
                r = self.trace(r)
            wrapped.append(r)
        if fresh:
            if single and _takes_out(fn):
                self._add(bound(fn, pargs, {**pkw, "out": fresh[0][1]}))
            else:
                self._add(recompute(fn, pargs, pkw, fresh))
        return wrapped[0] if single else type(result)(wrapped)

    def guard(self, traced, value):
        self._note("branch", self.describe(traced), value)
        self._add(guard(_view(traced, np.ndarray), value, len(self.descs) - 1))

    def escape(self, traced, value, method, args):
        """A Python value leaves a tensor. Returned as it is, each replay computes it
        again; used any other way, it is guarded: a replay whose value differs stops before
        using it (and records again when nothing it did so far needs undoing)."""
        self._note("value", self.describe(traced))
        plain = _view(traced, np.ndarray)
        self.escapes[id(value)] = (value, plain)
        fate = returns.returned_directly(self.code)
        if fate == "returned":
            self.returned[id(value)] = functools.partial(method, plain, *args)
            return
        seen = plain.tobytes()
        where = f"{method.__name__}() of kernel {len(self.descs) - 2}"
        self.values.append(seen)
        self.value_names.append(where)
        again = not self.irreversible
        if again:
            self.rollback |= self.generators
        else:  # a replay meeting another value here could neither go back nor go on
            self._late[id(value)] = where
        self._add(value_guard(plain, seen, where, again))
        if fate == "argument":  # dropped if the call is one a replay runs (opaque)
            self._passed[id(value)] = len(self.steps) - 1

    def adopt(self, arr):
        """An array about to become a tensor's data: traced memory stays traced; an array
        made outside the trace (np.zeros in a rule, a copy) is a constant of this call,
        restored to its recorded value at this point of every replay."""
        if self.suspended or type(arr) is not np.ndarray:
            return arr
        if id(_owner(arr)) in self._owners:
            return _view(arr, Traced)
        self._constant(arr)
        return self.trace(arr)

    def buffer(self, shape, dtype):
        """An array of this call that its next kernels fill whole (with out=), so it needs
        no step of its own (threads.py's parts of a large product)."""
        arr = np.empty(shape, dtype)
        self._results.add(id(arr))
        return self.trace(arr)

    def _constant(self, arr):
        """An array made outside the trace (np.zeros in a rule): restored to its recorded
        value at this point of every replay, then private memory of the recording."""
        self._note("constant", arr.shape, arr.dtype.str, arr.tobytes())
        snapshot = arr.copy()
        self._add(functools.partial(np.copyto, arr, snapshot))
        self.trace(arr, numbered=False)

    def draws(self, generator):
        return Draws(self, generator)

    def fresh(self, arr):
        """Whether `arr` is a whole array a kernel of this call made (eager would own it)."""
        return (type(arr) is Traced and id(arr.base) in self._results
                and arr.shape == arr.base.shape and arr.dtype == arr.base.dtype)

    def set_grad(self, leaf, g, create_graph, owned=False):
        """backward's `.grad` assignment, as a step (see engine._set_grad). A gradient
        eager would take without a copy (`owned`) stays in its kernel's buffer."""
        if create_graph:
            self.unsupported("backward(create_graph=True)")
            return False
        from ..tensors.tensor import Tensor
        g = g._data if isinstance(g, Tensor) else g
        self.irreversible = True
        if leaf.grad is None:
            if owned and self.fresh(g) and g.dtype == leaf._data.dtype:
                buf, traced = g.base, g
            else:
                buf = np.empty(leaf._data.shape, leaf._data.dtype)
                traced = self.trace(buf)
                np.copyto(buf, _plain(g), casting="unsafe")
                self.kernel(np.copyto, (traced, g), {"casting": "unsafe"}, (buf, _plain(g)),
                            {"casting": "unsafe"}, None)
            leaf.grad = Tensor._wrap(traced)
            self._note("grad", id(leaf), buf is g.base)
            self._add(assign_grad(leaf, buf, Tensor))
        else:  # accumulate into whatever .grad holds when the replay gets here
            self._note("accumulate grad", self.describe(leaf.grad._data), self.describe(g))
            self.checkpoint()
            target = _plain(leaf.grad._data)
            np.add(target, _plain(g), out=target, casting="unsafe")
            leaf.grad._version[0] += 1
            self._add(accumulate_grad(leaf, _plain(g)), None)
            self.effect_done()
        return True

    def opaque(self, fn, args, kwargs, idempotent=False):
        self._note("call", getattr(fn, "__qualname__", repr(fn)))
        self.checkpoint()
        if not idempotent:
            self.irreversible = True
        if args and getattr(args[0], "_rng", None) is not None:  # Generator.manual_seed
            self.generators.add(args[0])
        for a in args:  # a value taken from a tensor for this call: read fresh instead
            step = self._passed.pop(id(a), None) if self._escaped(a) else None
            if step is not None:
                self._late.pop(id(a), None)
                self.steps[step] = self._verify[step] = nothing
                i = self.values.index(self.escapes[id(a)][1].tobytes())
                del self.values[i], self.value_names[i]
        self.suspended += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.suspended -= 1
        self._add(self._opaque_step(fn, args, kwargs), None)
        self.effect_done()
        return result

    def _opaque_step(self, fn, args, kwargs):
        """Replay `fn(*args)` with values taken out of tensors and traced tensors read
        fresh."""
        from ..tensors.tensor import Tensor
        fresh = {}
        for i, a in enumerate(args):
            if self._escaped(a):
                fresh[i] = self.escapes[id(a)][1].item
            elif isinstance(a, Tensor) and type(a._data) is Traced:
                fresh[i] = functools.partial(Tensor._wrap, _view(a._data, np.ndarray))
        return call_step(fn, args, kwargs, fresh)

    def _escaped(self, a):
        """`a` was taken out of a tensor (small ints and bools are shared objects: any
        literal could be one, so they are not told apart)."""
        t = type(a)
        return ((t is float or (t is int and not -5 <= a <= 256))
                and id(a) in self.escapes)

    def finish(self):
        """The call returned: a value taken out after a step no replay can undo, and used
        by Python code, makes the function run eagerly."""
        for where in self._late.values():
            self.unsupported(f"the value of {where} is used by Python code after a step a "
                             "replay cannot undo (an optimizer step, a gradient): return it "
                             "as it is (`return loss, loss.item()`) or take it out before")

    def unsupported(self, reason):
        if reason not in self.reasons:
            self.reasons.append(reason)
