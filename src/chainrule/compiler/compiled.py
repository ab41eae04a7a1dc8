"""A compiled function: per call signature, record twice, compare, then replay.

The first call with a signature runs eagerly and is recorded. The second runs eagerly and
is recorded again; the two recordings must agree kernel for kernel (the same NumPy calls
on the same buffers, constants of equal value, the same branches). A value computed
outside the trace, or a step counter folded into a constant, would differ between the
two, so it is caught here instead of replaying a stale number: the function then runs
eagerly, with one warning that names the kernel. From the third call on, the recording
is replayed.

Every Python value a recording read is guarded (state_guards.py: closure cells, globals,
module attributes, the module tree, optimizer hyperparameters; trace.py: each value taken
out of a tensor). When one changed, the call records again; a signature keeps a few
recordings, one per set of values, and a function that keeps recording again runs
eagerly, with one warning."""
import functools
import warnings

import numpy as np

from ..runtime import recording_hooks
from ..tensors import dtypes
from ..autograd import grad_mode, tensor_hooks
from ..autograd.anomaly import _enabled as anomaly_enabled
from ..nn.module import Module
from ..tensors.tensor import Tensor
from . import discover, fuse, groups, state_guards
from .state_guards import _ITEM
from .trace import GuardFailed, Recorder, Traced, ValueChanged

_CACHE_SIZE = 8          # signatures kept per function, as JAX keeps a few
_DYNAMIC_CACHE_SIZE = 64
_VARIANTS = 4            # recordings kept per signature, for different Python values
_RECORD_AGAIN_LIMIT = 8  # recordings forced by changed values before running eagerly


class _RecordAgain(Exception):
    """A replay met a changed value before doing anything a new recording cannot undo."""


class BranchChanged(RuntimeError):
    """A replay met a branch on a tensor's value that went the other way when recorded."""


class _Recording:
    __slots__ = ("recorder", "inputs", "output", "verified", "grads", "generation", "state",
                 "replay_steps")

    def __init__(self, recorder, inputs, output, grads, state):
        self.recorder, self.inputs, self.output = recorder, inputs, output
        self.grads = grads       # (tensor, the .grad array the kernels read and write)
        self.state = state       # the guards on the Python values it read
        self.verified = False
        self.replay_steps = None  # the steps a replay runs (fused when asked: fuse.py)

    def current(self):
        """False when a `.grad` the kernels use was replaced since (outside the replay)."""
        return all(t.grad is not None and t.grad._data is a for t, a in self.grads)


def _first_difference(a, b):
    for i, (da, db) in enumerate(zip(a.descs, b.descs)):
        if da != db:
            return f"kernel {i} ({da[0]}) differs between two recordings"
    if len(a.descs) != len(b.descs):
        i = min(len(a.descs), len(b.descs))
        longer = a if len(a.descs) > i else b
        return f"kernel {i} ({longer.descs[i][0]}) ran in one recording and not the other"
    return None


def _value_difference(a, b):
    for i, (va, vb) in enumerate(zip(a.values, b.values)):
        if va != vb:
            return f"the value of {a.value_names[i]} differs between two calls"
    return "a different number of values were taken out of tensors in two calls"


def _unpartial(fn):
    """functools.partial(f, *bound, **kw) as a function calling f, so that the objects it
    binds (a model, an optimizer) are found and guarded as closure values are."""
    if not isinstance(fn, functools.partial):
        return fn
    inner, bound, keywords = fn.func, fn.args, fn.keywords

    def call(*args, **kwargs):
        return inner(*bound, *args, **{**keywords, **kwargs})
    call.__name__ = call.__qualname__ = getattr(inner, "__name__", "partial")
    return call


def _arg_key(a):
    if isinstance(a, Tensor):
        return ("T", a._data.shape, a._data.dtype, a.requires_grad)
    if a is None or isinstance(a, (bool, int, float, str)):
        return (type(a).__name__, a)
    return ("id", id(a))


class CompiledFunction:
    def __init__(self, fn, check=False, dynamic=False, fused=False):
        self.fn = _unpartial(fn)  # what discovery and guards read is the code's own
        self.fused = fused       # replay elementwise runs and Adam as numba loops
        self.run_eagerly = fn    # what a call that is not replayed runs
        self.check = check
        self.cache_size = _DYNAMIC_CACHE_SIZE if dynamic else _CACHE_SIZE
        self._cache = {}
        self._eager = None       # why the function runs eagerly from now on
        self._again = 0          # recordings made because a guarded value changed
        self._changing = None    # the Python value the previous recording itself changed
        self._reached = None     # what the last call found (discover.Reached)
        self.__name__ = getattr(self.fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def __repr__(self):
        return f"chainrule.compile({self.__name__})"

    def __call__(self, *args, **kwargs):
        if recording_hooks.ACTIVE[0] is not None or self._eager is not None:
            return self.run_eagerly(*args, **kwargs)  # nested in a recording, or given up
        reached = self._reached = discover.find(self._reached, self.fn, args, kwargs)
        roots, modules, optimizers, tensors = reached.for_arguments(args, kwargs)
        training, hooked = reached.module_state()
        reason = self._unsupported(args, kwargs, hooked)  # checked before replays too:
        if reason:                                         # a hook may come later
            return self._give_up(reason, args, kwargs)
        key = self._signature(args, kwargs, roots, training, tensors)
        entry, changed = None, None
        for candidate in list(self._cache.get(key, ())):
            if not candidate.current():
                continue
            failing = candidate.state.failing()
            if failing is not None:
                changed = failing
            elif not candidate.verified:
                entry = entry or candidate  # this call's recording may verify it
            else:
                try:
                    return self._replay(candidate, args, kwargs)
                except _RecordAgain as err:
                    changed = str(err)
        if entry is None and changed is not None and self._records_again(changed):
            return self.run_eagerly(*args, **kwargs)
        if self.fused:  # the optimizers' updates as numba loops too (optim/fused.py)
            for opt in optimizers:
                opt._fused_loops = True
        state = state_guards.build(self.fn, modules)
        if state.reason:
            return self._refuse(state.reason, args, kwargs)
        result, recording = self._record(args, kwargs, tensors, optimizers, state)
        if recording.recorder.reasons:
            if self.check and recording.recorder.differs:
                raise RuntimeError(f"chainrule.compile(check=True): {self.__name__}: "
                                   f"{recording.recorder.reasons[0]}")
            self._give_up(recording.recorder.reasons[0])
            return result
        if self._changed_by_the_call(state):
            return result
        if entry is not None and entry.recorder.values != recording.recorder.values:
            why = _value_difference(entry.recorder, recording.recorder)
            if self.check:
                raise RuntimeError(f"chainrule.compile(check=True): {self.__name__}: {why}: "
                                   "the function depends on tensor values, so a replay "
                                   "would have to record again")
            self._records_again(why)
            entry = None  # another set of values: kept beside the first
        if entry is not None:
            difference = _first_difference(entry.recorder, recording.recorder)
            if difference:
                if self.check:
                    raise RuntimeError(
                        f"chainrule.compile(check=True): {self.__name__}: {difference}: the "
                        "function's kernels depend on tensor values, so a replay would not "
                        "match eager execution")
                self._give_up(difference + " (a value the recording cannot follow)")
                return result
            recording.verified = True
            self._cache[key].remove(entry)
        if self._eager is None:
            self._keep(key, recording)
        return result

    def _records_again(self, why):
        """Count a recording forced by a changed value; past the limit the function runs
        eagerly (True)."""
        self._again += 1
        if self._again <= _RECORD_AGAIN_LIMIT:
            return False
        self._give_up(f"it records again on every call, the values it reads keep changing "
                      f"(last: {why})")
        return True

    def _keep(self, key, recording):
        entries = self._cache.get(key)
        if entries is None:
            if len(self._cache) >= self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            entries = self._cache[key] = []
        if len(entries) >= _VARIANTS:
            entries.pop(0)
        entries.append(recording)

    def _changed_by_the_call(self, state):
        """The call changed a Python value it read (`state["calls"] += 1`): a replay would
        not. Twice in a row: the function runs eagerly."""
        changed = state.failing()
        if changed is not None and self._changing is not None:
            self._give_up(f"it changes Python state it reads ({changed}), which a replay "
                          "would not")
        self._changing = changed
        return changed is not None

    def _refuse(self, reason, args, kwargs):
        if self.check:
            raise RuntimeError(f"chainrule.compile(check=True): {self.__name__}: {reason}")
        return self._give_up(reason, args, kwargs)

    # ---- deciding --------------------------------------------------------------------
    @staticmethod
    def _signature(args, kwargs, roots, training, tensors):
        return (grad_mode.is_grad_enabled(), dtypes.get_default_dtype(),
                tuple(map(_arg_key, args)),
                tuple([(k, _arg_key(v)) for k, v in kwargs.items()]) if kwargs else (),
                tuple(map(id, roots)), training,
                tuple([(id(t._data), t.requires_grad, t.grad is None) for t in tensors]))

    @staticmethod
    def _unsupported(args, kwargs, m):
        """Why the call cannot be recorded or replayed (None: it can); `m`: the first
        reached module with hooks (discover.Reached.module_state)."""
        if tensor_hooks.any_registered():
            return "tensor hooks are registered (they run Python during backward)"
        if anomaly_enabled[0]:
            return "anomaly detection is on (it checks every node's values)"
        if m is not None:
            who = f"module {type(m).__name__}'s" if isinstance(m, Module) else "global module"
            return f"{who} hooks are registered (they run Python on every call)"
        if any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values())):
            return "an argument requires grad (its .grad would be set by replays)"
        return None

    def _give_up(self, reason, args=None, kwargs=None):
        self._eager = reason
        self._cache.clear()
        warnings.warn(f"chainrule.compile: {self.__name__} runs eagerly: {reason}",
                      RuntimeWarning, stacklevel=3)
        if args is not None:
            return self.run_eagerly(*args, **kwargs)
        return None

    # ---- recording -------------------------------------------------------------------
    def _record(self, args, kwargs, tensors, optimizers, state):
        target = getattr(self.fn, "__func__", self.fn)
        recorder = Recorder(getattr(target, "__code__", None))
        swapped = [(t, t._data) for t in tensors if type(t._data) is np.ndarray]
        grads = [(t, t.grad, t.grad._data) for t in tensors
                 if t.grad is not None and type(t.grad._data) is np.ndarray]
        inputs, wrappers = {}, {}
        call_args = list(args)
        call_kwargs = dict(kwargs)
        for where, value in [*enumerate(args), *kwargs.items()]:
            if isinstance(value, Tensor):
                buf = np.array(value._data, copy=True)
                inputs[where] = buf
                traced = wrappers[where] = Tensor._wrap(recorder.trace(buf))
                if isinstance(where, int):
                    call_args[where] = traced
                else:
                    call_kwargs[where] = traced
        for t, data in swapped:
            t._data = recorder.trace(data, private=False)
        for _, grad, data in grads:  # numbered only if a kernel uses it
            grad._data = recorder.trace(data, private=False, numbered=False)
        recorder.effect_done()  # the first stretch of kernels starts from these arrays
        watched = groups.watch(optimizers)
        recording_hooks.ACTIVE[0] = recorder
        try:
            result = self.fn(*call_args, **call_kwargs)
            recorder.finish()
            output = self._output_plan(result, recorder)
            recorder.checkpoint()
        finally:
            recording_hooks.ACTIVE[0] = None
            state.checks += [(_ITEM, *read) for read in groups.unwatch(watched, recorder)]
            for t, data in swapped:
                t._data = data
            used = [(t, data) for t, grad, data in grads if recorder.used(grad._data)]
            for _, grad, data in grads:
                grad._data = data
            for t in tensors:  # a .grad backward made: its buffer itself, as replays set it
                if t.grad is not None and type(t.grad._data) is Traced:
                    t.grad._data = t.grad._data.base
            self._write_back(args, kwargs, inputs, wrappers, recorder)
        return self._give_back(result), _Recording(recorder, inputs, output, used, state)

    @staticmethod
    def _write_back(args, kwargs, inputs, wrappers, recorder):
        """The call wrote into an argument (x.add_(1)): give the caller's tensor the
        values eager execution leaves, and do not replay (the caller's memory changes)."""
        for where, wrapper in wrappers.items():
            if wrapper._version[0]:
                original = args[where] if isinstance(where, int) else kwargs[where]
                np.copyto(original._data, inputs[where])
                original._version[0] += 1
                recorder.unsupported("it modifies an argument in place")

    @staticmethod
    def _output_plan(result, recorder):
        """How a replay rebuilds the return value: fresh tensors from buffers, escaped
        Python numbers read again, anything else as it was."""
        if isinstance(result, Tensor) and type(result._data) is Traced:
            plain = np.ndarray.view(result._data, np.ndarray)
            return lambda: Tensor._wrap(plain.copy())
        if type(result) is Traced:  # t.numpy(): the caller gets an array of its own
            plain = np.ndarray.view(result, np.ndarray)
            return plain.copy
        if isinstance(result, (bool, int)) and -5 <= result <= 256 and id(result) in recorder.escapes:
            # a small int or a bool is one shared object: a literal or a tensor's value?
            recorder.unsupported("it returns a small int or bool taken from a tensor "
                                 "(return the tensor instead)")
            return lambda: result
        if id(result) in recorder.returned:  # `return loss.item()`: computed again
            return recorder.returned[id(result)]
        if type(result) in (tuple, list):
            parts = [CompiledFunction._output_plan(r, recorder) for r in result]
            kind = type(result)
            return lambda: kind(p() for p in parts)
        if isinstance(result, dict):
            parts = {k: CompiledFunction._output_plan(v, recorder) for k, v in result.items()}
            return lambda: {k: p() for k, p in parts.items()}
        return lambda: result

    @staticmethod
    def _give_back(result):
        """The recording call's own return value, in arrays of its own: the recording's
        buffers are refilled by later replays."""
        if isinstance(result, Tensor) and type(result._data) is Traced:
            result._data = np.array(result._data, copy=True, subok=False)
        elif type(result) is Traced:
            return np.array(result, copy=True, subok=False)
        elif type(result) in (tuple, list):
            for r in result:
                CompiledFunction._give_back(r)
        elif isinstance(result, dict):
            for r in result.values():
                CompiledFunction._give_back(r)
        return result

    # ---- replaying -------------------------------------------------------------------
    def _replay(self, entry, args, kwargs):
        for where, buf in entry.inputs.items():
            value = args[where] if isinstance(where, int) else kwargs[where]
            np.copyto(buf, value._data)
        rollback = entry.recorder.rollback
        saved = [(g, g._rng, g._rng.bit_generator.state, g._seed) for g in rollback]
        try:
            run_steps(self._replayed_steps(entry), self.__name__, again=True)
        except _RecordAgain:
            for g, rng, bits, seed in saved:  # draws made before the guard, undone
                g._rng, g._seed = rng, seed
                rng.bit_generator.state = bits
            raise
        return entry.output()

    def _replayed_steps(self, entry):
        if entry.replay_steps is None:
            steps = entry.recorder.steps
            entry.replay_steps = fuse.fuse(steps) if self.fused else steps
        return entry.replay_steps


def run_steps(steps, name, again=False):
    """Run replay steps; a guard that fails is the user's BranchChanged, or (again=True,
    a changed value met before anything a new recording cannot undo) _RecordAgain."""
    try:
        for step in steps:
            step()
    except ValueChanged as err:
        if again and err.again:
            raise _RecordAgain(str(err)) from None
        raise BranchChanged(f"chainrule.compile: {name}: {err}, after the replay changed "
                            "state it cannot undo (an optimizer step, a gradient); take "
                            "the value out before that, or do not compile the function") from None
    except GuardFailed as err:
        raise BranchChanged(f"chainrule.compile: {name}: {err}; the function branches on "
                            "tensor values, which a replay cannot follow: do not compile "
                            "it, or move the branch outside") from None
