"""What a compiled function reads besides its arguments: the modules, optimizers and
tensors it reaches through its closure, default values, the globals its code names, and
`self`.

Their arrays must be traced while recording (a kernel that reads only a parameter, like
`(w ** 2).sum()`, would otherwise be missed), and their identity is part of the call's
signature (a new model bound to the same global name records again).

Finding them walks the object graph, which costs more than a small replayed step, so the
answer is kept with the containers the walk looked into (closure cells, globals, lists,
dicts, module tables, parameter groups): while each still holds the same objects, the same
walk would give the same answer. Module tables count their own changes (nn/tables.py), so
while no table anywhere changed they are not read again; a table replaced through
`module.__dict__` directly, bypassing Module, is not seen."""
import types

from ..nn.hooks import GLOBAL as _GLOBAL_HOOKS, _METHODS as _HOOK_KINDS
from ..nn.module import Module
from ..nn.tables import STRUCTURE, Table
from ..optim.optimizer import Optimizer
from ..tensors.tensor import Tensor
from . import identity_check

_DEPTH = 3  # how far to follow plain functions called by the compiled one
_EMPTY = object()


# ---- what the walk reads, as (reader, holder): reader(holder) lists the objects read ----
def _function_parts(fn):
    return (getattr(fn, "__code__", None), getattr(fn, "__defaults__", None),
            getattr(fn, "__kwdefaults__", None), getattr(fn, "__closure__", None))


def _cells(closure):
    out = []
    for cell in closure:
        try:
            out.append(cell.cell_contents)
        except ValueError:  # an empty cell
            out.append(_EMPTY)
    return out


def _named(holder_names):
    holder, names = holder_names
    return [holder.get(n, _EMPTY) for n in names]


def _attributes_named(module_names):
    module, names = module_names
    return [getattr(module, n, None) for n in names]


def _dict_values(d):
    return d.values()


def _object_dict(obj):
    return [v for v in (getattr(obj, "__dict__", None),) if v is not None] + list(
        vars(obj).values())


def _module_tables(m):
    d = m.__dict__
    return [d["_modules"], d["_parameters"], d["_buffers"], *d["_modules"].values(),
            *d["_parameters"].values(), *d["_buffers"].values()]


def _counts(m):
    """Whether every table of `m` counts its changes (a module made without
    Module.__init__, or given a plain dict, does not)."""
    d = m.__dict__
    return all(type(d[k]) is Table for k in ("_modules", "_parameters", "_buffers"))


def _group_params(opt):
    groups = opt.param_groups
    return [groups, *groups, *(g["params"] for g in groups),
            *(p for g in groups for p in g["params"])]


def _snapshot(watch):
    objects = []
    for reader, holder in watch:
        objects.extend(reader(holder))
    return objects


def _ids(watch):
    ids = []
    for reader, holder in watch:
        ids.extend(map(id, reader(holder)))
    return ids


_PARTS = {"function": _function_parts, "cells": _cells, "named": _named, "empty": _EMPTY,
          "dict_values": _dict_values, "group_params": _group_params}


class Reached:
    """One walk's answer: (roots, modules, optimizers, tensors) and what it read."""
    __slots__ = ("roots", "modules", "optimizers", "all_tensors", "watch", "objects", "ids",
                 "tensors", "walked", "rest", "rest_ids", "structure", "state", "state_at",
                 "rest_objects", "rest_held", "held")

    def __init__(self, walked, roots, modules, optimizers, all_tensors, watch):
        self.walked = walked            # the arguments walked (not tensors or scalars)
        self.roots, self.modules, self.optimizers = roots, modules, optimizers
        self.all_tensors = all_tensors  # id -> tensor, arguments included
        self.tensors = None             # the last call's, arguments taken out
        self.watch = watch
        self.objects = _snapshot(watch)  # kept alive, so their ids stay theirs
        self.ids = [id(o) for o in self.objects]
        # what is read besides module tables that count their changes (nn/tables.py):
        # while STRUCTURE has not moved, those tables hold what they held
        counted = [(r, h) for r, h in watch if r is _module_tables and _counts(h)]
        self.rest = [w for w in watch if w not in counted]
        self.rest_objects = [list(reader(holder)) for reader, holder in self.rest]
        self.rest_ids = [id(o) for read in self.rest_objects for o in read]
        self.structure = STRUCTURE[0]
        self.state = self.state_at = None
        self.rest_held = None  # the rest's test written out (identity_check.py), once reused
        self.held = 0

    def module_state(self):
        """(the modules' training flags, the first module with hooks or None), read
        again only after some module's state changed: both are set through what
        nn/tables.py counts (__setattr__, train(), registering a hook)."""
        if self.state_at != STRUCTURE[0]:
            self.state = (tuple([m.training for m in self.modules]), hooked(self.modules))
            self.state_at = STRUCTURE[0]
        return self.state

    def holds(self, args, kwargs):
        """Whether a walk for this call would read the same objects again."""
        walked = _walked(args, kwargs)
        if not (len(walked) == len(self.walked) and all(map(_is, walked, self.walked))):
            return False
        if self.structure == STRUCTURE[0]:
            if self.rest_held is not None:
                return self.rest_held()
            self.held += 1
            if self.held == 2:  # reused: worth writing the test out (a walk redone on
                self.rest_held = identity_check.build(  # every call never gets here)
                    self.rest, self.rest_objects, _PARTS)
            return _ids(self.rest) == self.rest_ids
        if _ids(self.watch) != self.ids:
            return False
        self.structure = STRUCTURE[0]  # changed elsewhere, not in what this call reads
        return True

    def for_arguments(self, args, kwargs):
        """(roots, modules, optimizers, tensors) with the call's tensor arguments taken
        out of the tensors (they are copied in)."""
        found = self.all_tensors
        passed = (*args, *kwargs.values())
        if any(id(a) in found for a in passed):
            tensors = dict(found)
            for a in passed:
                tensors.pop(id(a), None)
            return self.roots, self.modules, self.optimizers, list(tensors.values())
        if self.tensors is None:
            self.tensors = list(found.values())
        return self.roots, self.modules, self.optimizers, self.tensors


class _Walk:
    def __init__(self):
        self.watch = []
        self.seen = set()   # functions whose code was read

    def code_objects(self, fn, depth):
        """[(value, depth)] for what `fn`'s code can read: named globals, defaults,
        closure."""
        code = getattr(fn, "__code__", None)
        if code is None or id(fn) in self.seen or depth > _DEPTH:
            return []
        self.seen.add(id(fn))
        self.watch.append((_function_parts, fn))
        globals_ = getattr(fn, "__globals__", {})
        self.watch.append((_named, (globals_, code.co_names)))
        values = [globals_[name] for name in code.co_names if name in globals_]
        values += getattr(fn, "__defaults__", None) or ()
        kwdefaults = getattr(fn, "__kwdefaults__", None) or {}
        self.watch.append((_dict_values, kwdefaults))
        values += kwdefaults.values()
        closure = getattr(fn, "__closure__", None) or ()
        self.watch.append((_cells, closure))
        values += [v for v in _cells(closure) if v is not _EMPTY]
        found = [(value, depth) for value in values]
        for value in values:
            if type(value) is types.ModuleType and not value.__name__.startswith(
                    ("chainrule", "numpy")):  # `mymodule.W`: the attributes the code names
                self.watch.append((_attributes_named, (value, code.co_names)))
                for attr in code.co_names:
                    item = getattr(value, attr, None)
                    if isinstance(item, (Tensor, Module, Optimizer)):
                        found.append((item, depth))
        return found

    def submodules(self, module, found):
        todo = [module]
        while todo:
            m = todo.pop()
            if id(m) not in found:
                found[id(m)] = m
                self.watch.append((_module_tables, m))
                todo.extend(c for c in m._modules.values() if c is not None)


def _is(a, b):
    return a is b


_SCALARS = (bool, int, float, complex, str, type(None))


def _walked(args, kwargs):
    """The arguments a walk looks into: tensors are copied in, scalars hold nothing."""
    return [a for a in (*args, *kwargs.values())
            if type(a) not in _SCALARS and not isinstance(a, Tensor)]


def find(reached, fn, args, kwargs):
    """`reached` when it still holds for this call, else a new walk."""
    if reached is not None and reached.holds(args, kwargs):
        return reached
    return reachable(fn, args, kwargs)


def reachable(fn, args, kwargs):
    """The objects a call of `fn` may read, as a Reached; tensors passed as arguments are
    not among its tensors (they are copied in)."""
    walk = _Walk()
    modules, optimizers, tensors = {}, {}, {}
    walked = _walked(args, kwargs)
    todo = [(a, 0) for a in walked]
    target = getattr(fn, "__func__", fn)
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        todo.append((owner, 0))
        if hasattr(owner, "__dict__"):
            walk.watch.append((_object_dict, owner))
        todo.extend((v, 1) for v in getattr(owner, "__dict__", {}).values())
    named = walk.code_objects(target, 0)
    roots = [owner] + [obj for obj, _ in named]  # what the code names, not the arguments
    todo.extend(named)
    visited = set()
    while todo:
        obj, depth = todo.pop()
        if id(obj) in visited:
            continue
        visited.add(id(obj))
        if isinstance(obj, Module):
            walk.submodules(obj, modules)
        elif isinstance(obj, Optimizer):
            optimizers[id(obj)] = obj
        elif isinstance(obj, Tensor):
            tensors[id(obj)] = obj
        elif isinstance(obj, (list, tuple)) and depth < _DEPTH:
            walk.watch.append((iter, obj))
            todo.extend((v, depth + 1) for v in obj)
        elif isinstance(obj, dict) and depth < _DEPTH:
            walk.watch.append((_dict_values, obj))
            todo.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, (types.FunctionType, types.MethodType)):
            todo.extend(walk.code_objects(getattr(obj, "__func__", obj), depth + 1))
            if isinstance(obj, types.MethodType) and depth < _DEPTH:
                todo.append((obj.__self__, depth + 1))
        elif depth < 2 and hasattr(obj, "__dict__") and not isinstance(
                obj, (type, types.ModuleType)):  # an object's attributes (self.model)
            walk.watch.append((_object_dict, obj))
            todo.extend((v, depth + 1) for v in vars(obj).values())
    for m in modules.values():  # the dicts directly: this runs on every call
        for t in m._parameters.values():
            if t is not None:
                tensors[id(t)] = t
        for t in m._buffers.values():
            if t is not None:
                tensors[id(t)] = t
    for opt in optimizers.values():
        walk.watch.append((_group_params, opt))
        for group in opt.param_groups:
            for p in group["params"]:
                tensors[id(p)] = p
    return Reached(walked, roots, list(modules.values()), list(optimizers.values()), tensors,
                   walk.watch)


def hooked(modules):
    """The first module with hooks registered (the namespace of global module hooks
    when those exist), or None: hooks run Python on every call."""
    for m in (_GLOBAL_HOOKS, *modules):  # hooks for every module, then each one's own
        d = m.__dict__  # not getattr: a missing attribute goes through Module.__getattr__
        if not d.get("_has_hooks"):  # what Module.__call__ tests before running any hook
            continue
        for kind in _HOOK_KINDS:
            if d.get(kind):
                return m
    return None
