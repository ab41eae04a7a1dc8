"""The ordered tables a Module keeps its parameters, buffers and submodules in, and the
count of changes to any module's state.

STRUCTURE counts every change to a module's tables (a Table counts its own) and to its
attributes (Module.__setattr__, __delattr__, train(), hooks, and `set_plainly` for the
internal writes that bypass __setattr__). chainrule.compile reads the module state a
recording depends on again only when the count moved: its front runs on every replayed
call, and reading every module's tables and attributes was most of its cost. A write
into `module.__dict__` itself, bypassing Module, is not counted."""
from collections import OrderedDict

STRUCTURE = [0]


def changed():
    STRUCTURE[0] += 1


def set_plainly(obj, name, value):
    """object.__setattr__ (no registration as a parameter or submodule), counted."""
    STRUCTURE[0] += 1
    object.__setattr__(obj, name, value)


def _counted(name):
    change = getattr(OrderedDict, name)

    def method(self, *args, **kwargs):
        STRUCTURE[0] += 1
        return change(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


class Table(OrderedDict):
    __slots__ = ()


for _name in ("__setitem__", "__delitem__", "__ior__", "pop", "popitem", "clear", "update",
              "setdefault", "move_to_end"):
    setattr(Table, _name, _counted(_name))
