"""The ordered tables a Module keeps its parameters, buffers and submodules in: an
OrderedDict that counts every change in STRUCTURE, so chainrule.compile can tell that no
module's tables changed since it last looked without reading them all (its front runs on
every replayed call, and reading every table is most of its cost)."""
from collections import OrderedDict

STRUCTURE = [0]  # changes to any module's tables (or a table replaced) in this process


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
