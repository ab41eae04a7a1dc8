"""How an operation is recorded: an `Op` (forward and one gradient rule per input) and the
`Node` left in the graph when a tensor that requires grad goes through it.

Gradient rules are plain functions `rule(g, out, *inputs, *params)`. In ordinary backward
they receive NumPy arrays; with `create_graph=True` they receive tensors (NumPy functions
dispatch to chainrule ops through `Tensor.__array_function__`), so the same rule also
builds the graph of the gradient. A rule never deals with broadcasting: the engine sums
each gradient down to its input's shape once, centrally.
"""
import itertools

from .anomaly import _enabled as _anomaly


class GraphLostError(RuntimeError):
    """A NumPy function without a chainrule op met a tensor that requires grad: computing
    it on plain arrays would silently cut the graph (wrong second derivatives)."""


class Op:
    __slots__ = ("name", "forward", "grads", "saves_inputs", "uses_out", "node_cls",
                 "scalar_slot")

    def __init__(self, name, forward, *grads, saves_inputs=True, uses_out=False,
                 scalar_slot=None):
        self.name = name
        # the input that is always a Python number here (`2 - x`, `x ** 2`): PyTorch's
        # overload takes it as an argument, so next_functions has no entry for it
        self.scalar_slot = scalar_slot
        self.forward = forward
        # one rule per input, or one IndexedRule serving any number of inputs (cat, stack)
        self.grads = grads[0] if len(grads) == 1 and isinstance(grads[0], IndexedRule) \
            else grads
        self.saves_inputs = saves_inputs  # False: rules read only g, out and params
        self.uses_out = uses_out
        self.node_cls = node_class(name)

    def renamed(self, name, scalar_slot=None):
        """The same op under another of PyTorch's names (`x.sum()` is SumBackward0,
        `x.sum(0)` SumBackward1): one forward and set of rules, two node types."""
        grads = (self.grads,) if isinstance(self.grads, IndexedRule) else self.grads
        return Op(name, self.forward, *grads, saves_inputs=self.saves_inputs,
                  uses_out=self.uses_out, scalar_slot=scalar_slot)

    def __repr__(self):
        return f"<Op {self.name}>"


class Node:
    """One recorded application of an Op. `edges[i]` is where input i's gradient goes:
    the input's own Node, the leaf Tensor itself, or None (constant / no grad).
    `seq` grows with creation, so higher `seq` runs first in backward."""
    __slots__ = ("op", "edges", "args", "params", "out", "saved", "shape", "dtype",
                 "retain", "seq", "__weakref__")

    def name(self):
        return self.op.name

    def __repr__(self):
        return f"<{self.op.name} object at {id(self):#x}>"

    @property
    def next_functions(self):
        slot = self.op.scalar_slot
        return tuple((e if isinstance(e, Node) else None, 0) for i, e in enumerate(self.edges)
                     if i != slot)


_NODE_CLASSES = {}


def node_class(name):
    """The Node subclass named as PyTorch names the op's backward (`SumBackward0`), so
    `type(y.grad_fn).__name__` reads as in PyTorch; one class per name."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (Node,), {"__slots__": (), "__module__": __name__})
    return cls


def tensor_class():
    """chainrule.Tensor, for the autograd modules that build tensors. tensor.py imports
    autograd, so autograd cannot import tensor.py while loading; it looks the class up on
    first use and keeps it (a function-level import costs a microsecond per call)."""
    if not _TENSOR:
        from ..tensors.tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]


_TENSOR = []


class TensorBase:
    """What every chainrule Tensor is to autograd's core. tensor.py imports this module
    and derives Tensor from this class, so `record` can tell tensors from constants
    without importing tensor.py: imports flow one way, tensor -> autograd.function.
    (The engine, which must build tensors, gets the class from `tensor_class()`.)"""
    __slots__ = ()


_next_seq = itertools.count().__next__
_NONES = [(None,) * n for n in range(64)]
_new_node = Node.__new__


def record(op, inputs, arrays, params, out_tensor):
    """Attach a Node to `out_tensor`; called by ops only when some input requires grad."""
    node = _new_node(op.node_cls)
    node.op = op
    node.seq = _next_seq()
    edges = []
    saved = []
    saves = op.saves_inputs
    i = 0
    for t in inputs:
        if isinstance(t, TensorBase) and t.requires_grad:
            edges.append(t.grad_fn or t)
            if saves:
                counter = t._version
                saved.append((counter, counter[0], i))
        else:
            edges.append(None)
            if saves and isinstance(t, TensorBase):
                # saved for another input's rule (x in w * x): checked like PyTorch does
                counter = t._version
                saved.append((counter, counter[0], i))
        i += 1
    node.args = arrays if saves else (_NONES[i] if i < 64 else (None,) * i)  # one per input
    node.edges = edges
    node.params = params
    out = out_tensor._data
    if op.uses_out:
        node.out = out
        saved.append((out_tensor._version, 0, -1))
    else:
        node.out = None
    node.saved = saved
    node.shape = out.shape
    node.dtype = out.dtype
    node.retain = None
    out_tensor.grad_fn = node
    out_tensor.requires_grad = True
    if _anomaly[0]:
        from .anomaly import check_forward
        check_forward(node, arrays, params, out)
    return out_tensor


class IndexedRule:
    """Gradient rules for ops with a variable number of inputs (cat, stack):
    `IndexedRule(f)[i]` is the rule for input i, `f(i, g, out, *inputs, *params)`."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __getitem__(self, i):
        fn = self.fn
        return lambda g, out, *args: fn(i, g, out, *args)


# torch's import path: torch.autograd.function.Function / once_differentiable
from .custom_function import Function, FunctionCtx, once_differentiable  # noqa: E402
