"""What a compiled function reads besides its arguments: the modules, optimizers and
tensors it reaches through its closure, default values, the globals its code names, and
`self`.

Their arrays must be traced while recording (a kernel that reads only a parameter, like
`(w ** 2).sum()`, would otherwise be missed), and their identity is part of the call's
signature (a new model bound to the same global name records again)."""
import types

from ..nn.hooks import GLOBAL as _GLOBAL_HOOKS, _METHODS as _HOOK_KINDS
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensors.tensor import Tensor

_DEPTH = 3  # how far to follow plain functions called by the compiled one


def _code_objects(fn, depth, seen):
    """[(value, depth)] for what `fn`'s code can read: named globals, defaults, closure."""
    code = getattr(fn, "__code__", None)
    if code is None or id(fn) in seen or depth > _DEPTH:
        return []
    seen.add(id(fn))
    globals_ = getattr(fn, "__globals__", {})
    values = [globals_[name] for name in code.co_names if name in globals_]
    values += getattr(fn, "__defaults__", None) or ()
    values += (getattr(fn, "__kwdefaults__", None) or {}).values()
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    found = [(value, depth) for value in values]
    for value in values:
        if type(value) is types.ModuleType and not value.__name__.startswith(
                ("chainrule", "numpy")):  # `mymodule.W`: the attributes the code names
            for attr in code.co_names:
                item = getattr(value, attr, None)
                if isinstance(item, (Tensor, Module, Optimizer)):
                    found.append((item, depth))
    return found


def _submodules(module, found):
    todo = [module]
    while todo:
        m = todo.pop()
        if id(m) not in found:
            found[id(m)] = m
            todo.extend(c for c in m._modules.values() if c is not None)


def reachable(fn, args, kwargs):
    """The objects a call of `fn` may read: (named roots, modules, optimizers, tensors);
    tensors passed as arguments are not among the tensors (they are copied in)."""
    modules, optimizers, tensors = {}, {}, {}
    todo = [(a, 0) for a in (*args, *kwargs.values())]
    target = getattr(fn, "__func__", fn)
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        todo.append((owner, 0))
        todo.extend((v, 1) for v in getattr(owner, "__dict__", {}).values())
    seen = set()
    named = _code_objects(target, 0, seen)
    roots = [owner] + [obj for obj, _ in named]  # what the code names, not the arguments
    todo.extend(named)
    visited = set()
    while todo:
        obj, depth = todo.pop()
        if id(obj) in visited:
            continue
        visited.add(id(obj))
        if isinstance(obj, Module):
            _submodules(obj, modules)
        elif isinstance(obj, Optimizer):
            optimizers[id(obj)] = obj
        elif isinstance(obj, Tensor):
            tensors[id(obj)] = obj
        elif isinstance(obj, (list, tuple)) and depth < _DEPTH:
            todo.extend((v, depth + 1) for v in obj)
        elif isinstance(obj, dict) and depth < _DEPTH:
            todo.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, (types.FunctionType, types.MethodType)):
            todo.extend(_code_objects(getattr(obj, "__func__", obj), depth + 1, seen))
            if isinstance(obj, types.MethodType) and depth < _DEPTH:
                todo.append((obj.__self__, depth + 1))
        elif depth < 2 and hasattr(obj, "__dict__") and not isinstance(
                obj, (type, types.ModuleType)):  # an object's attributes (self.model)
            todo.extend((v, depth + 1) for v in vars(obj).values())
    for m in modules.values():  # the dicts directly: this runs on every call
        for t in m._parameters.values():
            if t is not None:
                tensors[id(t)] = t
        for t in m._buffers.values():
            if t is not None:
                tensors[id(t)] = t
    for opt in optimizers.values():
        for group in opt.param_groups:
            for p in group["params"]:
                tensors[id(p)] = p
    for a in (*args, *kwargs.values()):
        tensors.pop(id(a), None)
    return roots, list(modules.values()), list(optimizers.values()), list(tensors.values())


def hooked(modules):
    """The first module with hooks registered (the namespace of global module hooks
    when those exist), or None: hooks run Python on every call."""
    for m in (_GLOBAL_HOOKS, *modules):  # hooks for every module, then each one's own
        d = m.__dict__  # not getattr: a missing attribute goes through Module.__getattr__
        for kind in _HOOK_KINDS:
            if d.get(kind):
                return m
    return None
