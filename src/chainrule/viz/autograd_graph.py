"""make_dot: the backward graph of a tensor as a DOT drawing, with torchviz's conventions
(backward nodes grey, leaf tensors that require grad blue with their parameter names and
shapes, saved tensors orange, outputs green)."""
from ..autograd.custom_function import FunctionCtx
from .model_trace import graph_inputs
from ..tensors.tensor import Tensor
from .dot import Digraph

__all__ = ["make_dot"]

NODE_ATTR = dict(style="filled", shape="box", align="left", fontsize="10", ranksep="0.1",
                 height="0.2", fontname="monospace")
GREY, BLUE, ORANGE, GREEN, VIEW_BASE = ("lightgrey", "lightblue", "orange",
                                        "darkolivegreen1", "darkolivegreen3")


def size_to_str(shape):
    return "(" + ", ".join(str(int(v)) for v in shape) + ")"


def _check_outputs(var):
    outs = list(var) if isinstance(var, (tuple, list)) else [var]
    if not outs or not all(isinstance(t, Tensor) for t in outs):
        raise TypeError("make_dot: var must be a tensor or a tuple/list of tensors, got "
                        f"{type(var).__name__}")
    return outs


def _check_params(params):
    if params is None:
        return {}
    if not hasattr(params, "items"):
        raise TypeError("make_dot: params must be a dict of name -> tensor, such as "
                        f"dict(net.named_parameters()); got {type(params).__name__}")
    for name, p in params.items():
        if not isinstance(p, Tensor):
            raise TypeError(f"make_dot: params[{name!r}] must be a tensor, got "
                            f"{type(p).__name__}")
    return {id(p): name for name, p in params.items()}


def _node_label(fn, show_attrs, max_attr_chars):
    name = type(fn).__name__
    values = [v for v in (fn.params or ()) if _is_plain(v)] if show_attrs else []
    if not values:
        return name
    lines = [f"param{i}: {v!r}" for i, v in enumerate(values)]
    lines = [s if len(s) <= max_attr_chars else s[:max_attr_chars - 3] + "..." for s in lines]
    width = max(len(name), *(len(s) for s in lines))
    return "\n".join([name, "-" * width] + lines)


def _is_plain(v):
    """Arguments worth printing: numbers, strings, shapes, flags (not arrays or contexts)."""
    if isinstance(v, (tuple, list)):
        return all(map(_is_plain, v))
    return v is None or isinstance(v, (bool, int, float, complex, str))


def _saved(fn):
    """(label, array) of what the node keeps for its gradient rules; empty once freed."""
    if getattr(fn, "saved", None) is None:
        return []
    out = []
    for p in fn.params or ():
        if isinstance(p, FunctionCtx):  # a custom Function: what it saved for backward
            out += [(f"saved_tensors[{k}]", t._data) for k, t in enumerate(p.saved_tensors)
                    if isinstance(t, Tensor)]
    for _, _, i in fn.saved:
        arr = fn.out if i < 0 else fn.args[i]
        if arr is not None:
            out.append(("result" if i < 0 else f"input{i}", arr))
    return out


class _Builder:
    def __init__(self, names, show_attrs, show_saved, max_attr_chars):
        self.names, self.show_attrs, self.show_saved = names, show_attrs, show_saved
        self.max_attr_chars = max_attr_chars
        self.dot = Digraph(node_attr=NODE_ATTR, graph_attr=dict(size="12,12"))
        self.seen = set()

    def var_label(self, t, name=None):
        if name is None:
            name = self.names.get(id(t), "")
        return f"{name}\n {size_to_str(t.shape)}"

    def add_output(self, t, color=GREEN):
        if id(t) in self.seen:
            return
        self.seen.add(id(t))
        self.dot.node(str(id(t)), self.var_label(t), fillcolor=color)
        if t.grad_fn is not None:
            self.add_fn(t.grad_fn)
            self.dot.edge(str(id(t.grad_fn)), str(id(t)))
        elif t.requires_grad:  # an output that is itself a leaf: its AccumulateGrad
            self.dot.edge(self.add_leaf(t), str(id(t)))
        base = t._base
        if base is not None:
            self.add_output(base, VIEW_BASE)
            self.dot.edge(str(id(base)), str(id(t)), style="dotted")

    def add_leaf(self, t):
        """A leaf that requires grad: blue tensor -> grey AccumulateGrad, as in PyTorch's
        graph, where the leaf is reached through its AccumulateGrad node."""
        acc = f"acc{id(t)}"  # no colon: DOT reads "a:b" in an edge as node a, port b
        if acc not in self.seen:
            self.seen.add(acc)
            self.dot.node(acc, "AccumulateGrad", fillcolor=GREY)
            if id(t) not in self.seen:
                self.seen.add(id(t))
                self.dot.node(str(id(t)), self.var_label(t), fillcolor=BLUE)
            self.dot.edge(str(id(t)), acc)
        return acc

    def add_fn(self, fn):
        stack = [fn]
        while stack:  # iterative: deep graphs (long RNN unrolls) must not hit recursion limits
            fn = stack.pop()
            if id(fn) in self.seen:
                continue
            self.seen.add(id(fn))
            self.dot.node(str(id(fn)), _node_label(fn, self.show_attrs, self.max_attr_chars),
                          fillcolor=GREY)
            if self.show_saved:
                for label, arr in _saved(fn):
                    key = f"saved{id(fn)}_{label}"
                    self.dot.node(key, f"{label}\n {size_to_str(arr.shape)}", fillcolor=ORANGE)
                    self.dot.edge(str(id(fn)), key, dir="none")
            for src in graph_inputs(fn):
                if isinstance(src, Tensor):
                    self.dot.edge(self.add_leaf(src), str(id(fn)))
                else:
                    self.dot.edge(str(id(src)), str(id(fn)))
                    stack.append(src)

    def finish(self):
        # grow the canvas with the graph, as torchviz does, so big graphs stay legible
        size = max(12.0, len(self.dot.body) * 0.15)
        self.dot.graph_attr["size"] = f"{size:g},{size:g}"
        return self.dot


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The backward graph that produced `var` (a tensor or a tuple of tensors) as a
    `Digraph`: `.source` is DOT text, `.render(name, format='svg')` and `.pipe('png')` run
    Graphviz's `dot`, and notebooks display it inline. Pass
    `params=dict(net.named_parameters())` to name the blue leaf tensors;
    `show_saved=True` adds the tensors each node keeps for backward (orange),
    `show_attrs=True` the node's non-tensor arguments."""
    outs = _check_outputs(var)
    names = _check_params(params)
    if not isinstance(max_attr_chars, int) or max_attr_chars < 4:
        raise ValueError(f"make_dot: max_attr_chars must be an integer >= 4, got "
                         f"{max_attr_chars!r}")
    builder = _Builder(names, bool(show_attrs), bool(show_saved), max_attr_chars)
    for t in outs:
        builder.add_output(t)
    return builder.finish()
