"""Guards on the Python values a recording read (Dynamo's guards, in miniature).

A recording bakes in every Python value the call used: a loss scale in a closure list, a
global, `Dropout.p`, a flag on the user's own module, the module tree itself. Before a
replay each of them must still be what it was when the call was recorded; when one is
not, the call records again. Built once per recording, checked on every call: a flat list
of (kind, holder, key, expected) entries, most of which pass on an identity test.

What is read is found as discover.py finds tensors: the function's closure cells, the
globals its code (and the code of the functions it calls, and of user-defined modules'
forward) names, default values, every reached module's attributes, and the attributes
of other objects that the code names. Values that no guard can follow (Python's or
NumPy's global random generators, iterators, large NumPy arrays) make the call run
eagerly instead (`reason`)."""
import math
import random as _pyrandom
import types

import numpy as np

from ..nn.hooks import _METHODS as _HOOK_DICTS
from ..nn.module import Module
from ..nn.tables import STRUCTURE, Table
from ..optim.optimizer import Optimizer
from ..tensors.tensor import Tensor

_MISSING = object()
_DEPTH = 4                 # how far into containers and objects values are followed
_MAX_CHECKS = 4000         # more than this: not guarded entry by entry (runs eagerly)
_ARRAY_BYTES = 1 << 16     # NumPy arrays up to this size are compared by content

_CELL, _ITEM, _INDEX, _LEN, _SET, _ARRAY = range(6)
_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_MODULE_INTERNALS = {"_parameters", "_buffers", "_modules", "_non_persistent", *_HOOK_DICTS,
                     *(k + "_with_kwargs" for k in _HOOK_DICTS), "_has_hooks"}
_LIBRARIES = ("chainrule", "numpy", "builtins", "math", "typing", "functools", "collections")


def same_value(a, b):
    """Equal as a replay needs it: same type, same value, -0.0 apart from 0.0, NaN equal
    to NaN; containers and other objects only when they are the same object."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is float:
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if ta is tuple:
        return len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, np.generic):
        return a.tobytes() == b.tobytes()
    if ta in _SCALARS:
        return a == b
    return False


def _rng_kind(v):
    """A name for a random generator no recording can replay, or None."""
    if v is _pyrandom or isinstance(v, _pyrandom.Random):
        return "Python's random module"
    if isinstance(v, types.BuiltinMethodType) and isinstance(v.__self__, _pyrandom.Random):
        return f"Python's random module (random.{v.__name__})"
    if v is np.random or isinstance(v, (np.random.RandomState, np.random.Generator)):
        return "a NumPy random generator"
    if isinstance(v, types.BuiltinMethodType) and isinstance(
            v.__self__, (np.random.RandomState, np.random.Generator)):
        return f"a NumPy random generator (np.random.{v.__name__})"
    return None


class StateGuards:
    """The checks of one recording. Those on module state (a module's attributes and
    tables) run only when some module's state changed since they last all held
    (nn/tables.py counts every change); the rest run on every call."""
    __slots__ = ("checks", "reason", "module_dicts", "counted", "rest", "counted_at")

    def __init__(self, checks, reason, module_dicts=()):
        self.checks, self.reason = checks, reason  # more may be added (groups.unwatch)
        self.module_dicts = set(module_dicts)  # ids of the reached modules' __dict__s
        self.counted = self.rest = None
        self.counted_at = STRUCTURE[0]  # taken before the recording call runs

    def _split(self):
        def counted(check):
            kind, holder = check[0], check[1]
            return kind in (_LEN, _ITEM) and (type(holder) is Table
                                              or id(holder) in self.module_dicts)
        self.counted = [c for c in self.checks if counted(c)]
        self.rest = [c for c in self.checks if not counted(c)]

    def failing(self):
        """Where the first value that changed was read, or None when all hold."""
        if self.counted is None or len(self.counted) + len(self.rest) != len(self.checks):
            self._split()
            self.counted_at = None  # checks added since: read them all once
        if self.counted_at != STRUCTURE[0]:
            where = _first_change(self.counted)
            if where is not None:
                return where
            self.counted_at = STRUCTURE[0]
        return _first_change(self.rest)

    def holds(self):
        return self.failing() is None


class _Builder:
    def __init__(self, names):
        self.names = names       # attribute names the code uses
        self.checks = []
        self.seen = set()
        self.reason = None
        self.codes = set()
        self.code_objects = []

    def add(self, kind, holder, key, value, where, depth):
        self.checks.append((kind, holder, key, value, where))
        self.walk(value, where, depth)

    def refuse(self, why):
        if self.reason is None:
            self.reason = why

    # ---- code: globals it names, closure cells, defaults ------------------------------
    def code(self, fn, where, depth):
        code = getattr(fn, "__code__", None)
        if code is None or id(code) in self.codes or depth > _DEPTH:
            return
        if (getattr(fn, "__module__", None) or "").startswith(_LIBRARIES):
            return  # chainrule's own functions: what they read is traced or guarded here
        self.codes.add(id(code))
        self.code_objects.append(code)
        g = getattr(fn, "__globals__", {})
        name = getattr(fn, "__qualname__", "?")
        for n in _all_names(code):
            if n in g:
                self.add(_ITEM, g, n, g[n], f"global {n!r} of {name}", depth)
        cells = getattr(fn, "__closure__", None) or ()
        for var, cell in zip(code.co_freevars, cells):
            try:
                value = cell.cell_contents
            except ValueError:
                value = _MISSING
            self.add(_CELL, cell, None, value, f"closure variable {var!r} of {name}", depth)
        defaults = getattr(fn, "__defaults__", None) or ()
        for i, value in enumerate(defaults):
            self.walk(value, f"default {i} of {name}", depth)
        for value in (getattr(fn, "__kwdefaults__", None) or {}).values():
            self.walk(value, f"a keyword default of {name}", depth)

    # ---- values ---------------------------------------------------------------------
    def walk(self, v, where, depth):
        t = type(v)
        if t in _SCALARS or v is _MISSING or isinstance(v, (np.generic, type)):
            return
        if id(v) in self.seen or depth > _DEPTH:
            return
        self.seen.add(id(v))
        if len(self.checks) > _MAX_CHECKS:
            self.refuse(f"it reads more than {_MAX_CHECKS} Python values (near {where})")
            return
        if isinstance(v, (Tensor, Module, Optimizer)):
            return  # tensors are traced; modules and optimizers are guarded on their own
        rng = _rng_kind(v)
        if rng:
            self.refuse(f"it draws from {rng} ({where}), which a replay cannot repeat")
        elif t is list:
            self.checks.append((_LEN, v, None, len(v), f"the length of {where}"))
            for i, item in enumerate(v):
                self.add(_INDEX, v, i, item, f"{where}[{i}]", depth + 1)
        elif isinstance(v, dict):
            self.checks.append((_LEN, v, None, len(v), f"the length of {where}"))
            for k, item in list(v.items()):
                self.add(_ITEM, v, k, item, f"{where}[{k!r}]", depth + 1)
        elif t is tuple:
            for i, item in enumerate(v):
                self.walk(item, f"{where}[{i}]", depth + 1)
        elif t in (set, frozenset):
            self.checks.append((_SET, v, None, frozenset(v), where))
        elif isinstance(v, np.ndarray):
            if v.nbytes > _ARRAY_BYTES:
                self.refuse(f"it reads a NumPy array of {v.nbytes} bytes ({where}) that no "
                            "guard compares cheaply (pass it as a tensor argument)")
            else:
                self.checks.append((_ARRAY, v, None, (v.shape, v.tobytes()), where))
        elif isinstance(v, (types.FunctionType, types.MethodType)):
            self.code(getattr(v, "__func__", v), where, depth + 1)
            if isinstance(v, types.MethodType):
                self.walk(v.__self__, where, depth + 1)
        elif t is types.ModuleType:
            if not v.__name__.startswith(_LIBRARIES):  # `config.SCALE`: what the code names
                d = vars(v)
                for n in self.names:
                    if n in d:
                        self.add(_ITEM, d, n, d[n], f"{v.__name__}.{n}", depth + 1)
        elif hasattr(type(v), "__next__"):
            self.refuse(f"it reads an iterator ({where}), whose state a replay cannot follow")
        elif isinstance(getattr(v, "__dict__", None), dict):
            self.attributes(v, where, depth)

    def attributes(self, obj, where, depth):
        """An object's attributes that the code names, and its methods the code calls."""
        d = obj.__dict__
        cls = type(obj)
        user_class = not cls.__module__.startswith("chainrule")
        for n in self.names:
            if n in d:
                self.add(_ITEM, d, n, d[n], f"{where}.{n}", depth + 1)
            elif user_class and isinstance(getattr(cls, n, None), types.FunctionType):
                self.code(getattr(cls, n), f"{where}.{n}", depth + 1)

    def module(self, m, where):
        d = m.__dict__
        self.checks.append((_LEN, d, None, len(d), f"the attributes of {where}"))
        for table in ("_parameters", "_buffers", "_modules"):
            entries = d[table]
            self.checks.append((_LEN, entries, None, len(entries), f"{where}.{table[1:]}"))
            for k, v in entries.items():
                self.checks.append((_ITEM, entries, k, v, f"{where}.{k}"))
        for k, v in d.items():
            if k not in _MODULE_INTERNALS:
                self.add(_ITEM, d, k, v, f"{where}.{k}", 1)
        if not type(m).__module__.startswith("chainrule"):
            self.code(type(m).forward, f"{type(m).__name__}.forward", 1)


def _first_change(checks):
    for kind, holder, key, expected, where in checks:
        if kind is _ITEM:
            value = holder.get(key, _MISSING)
        elif kind is _CELL:
            try:
                value = holder.cell_contents
            except ValueError:
                value = _MISSING
        elif kind is _INDEX:
            value = holder[key] if key < len(holder) else _MISSING
        elif kind is _LEN:
            value = len(holder)
        elif kind is _SET:
            if frozenset(holder) == expected:
                continue
            return where
        elif holder.shape == expected[0] and holder.tobytes() == expected[1]:
            continue
        else:
            return where
        if value is expected or same_value(value, expected):
            continue
        return where
    return None


def _all_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # comprehensions, inner functions
            names |= _all_names(const)
    return names


def build(fn, modules):
    """The guards of one recording, taken before the call runs. The attribute names the
    code uses grow as more code is found (a method of the user's object): walk again
    until they stop growing."""
    owner = getattr(fn, "__self__", None)
    target = getattr(fn, "__func__", fn)
    code = getattr(target, "__code__", None)
    names = _all_names(code) if code is not None else set()
    named = {id(m): n for n, m in _module_names(modules)}
    for _ in range(4):
        b = _Builder(names)
        b.code(target, getattr(target, "__qualname__", "the function"), 0)
        if owner is not None:
            b.walk(owner, type(owner).__name__, 0)
        for m in modules:
            b.module(m, named.get(id(m), type(m).__name__))
        found = set(names)
        for c in b.code_objects:
            found |= _all_names(c)
        if found == names:
            break
        names = found
    return StateGuards(b.checks, b.reason, [id(m.__dict__) for m in modules])


def _module_names(modules):
    """Readable names for reached modules: `Sequential[2]` for a child of a Sequential."""
    for m in modules:
        for k, child in m._modules.items():
            if child is not None:
                yield f"{type(m).__name__}.{k} ({type(child).__name__})", child
