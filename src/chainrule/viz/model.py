"""plot_model: a model's layers as a DOT graph in the spirit of Keras's `plot_model`, one
box per layer call with its name, type, input/output shapes and parameter count, and the
edges of the data flow found in the autograd graph of a dummy batch."""
import os

from . import model_trace
from ..runtime.atomic_files import atomic_write
from ..tensors.tensor import Tensor
from .dot import Digraph

__all__ = ["plot_model"]


def _shape_text(shapes):
    return ", ".join(str(s) for s in shapes) if shapes else "-"


def _label(call, show_shapes, show_layer_names, show_params):
    head = f"{call.name} ({call.kind})" if show_layer_names else call.kind
    lines = [head]
    if show_shapes:
        lines.append(f"in: {_shape_text(call.input_shapes)}  "
                     f"out: {_shape_text(call.output_shapes)}")
    if show_params:
        n = sum(p.numel() for p in call.module.parameters()) if call.first else 0
        lines.append(f"params: {n:,}" + ("" if call.first else " (reused)"))
    return "\n".join(lines)


def _sources(t, producers, fn_producers):
    """The graph nodes whose output reaches tensor `t` without passing another layer: the
    producer of `t` itself, else the nearest layers (or inputs) up its backward graph."""
    if id(t) in producers:
        return [producers[id(t)]]
    found, seen, stack = [], set(), [t.grad_fn] if t.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if id(fn) in fn_producers:
            found.append(fn_producers[id(fn)])
            continue
        for src in model_trace.graph_inputs(fn):
            if not isinstance(src, Tensor):
                stack.append(src)
            elif id(src) in producers:  # a model input (a leaf tensor)
                found.append(producers[id(src)])
    return sorted(set(found), key=found.index)


def plot_model(net, input_size=None, to_file=None, show_shapes=True, show_layer_names=True,
               show_params=True, rankdir="TB", dtypes=None, input_data=None):
    """Draw `net` run on a zero batch of `input_size` (batch dimension included, e.g.
    (1, 784)); returns a `Digraph` and, with `to_file='model.png'`, renders it there (the
    format from the extension). Layers are the modules without children."""
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"plot_model: rankdir must be 'TB', 'LR', 'BT' or 'RL', got "
                         f"{rankdir!r}")
    inputs = model_trace.make_inputs("plot_model", input_size, dtypes, input_data,
                                     requires_grad=True)
    calls, _ = model_trace.trace(net, inputs, "plot_model", grad=True)
    dot = Digraph(name=type(net).__name__, graph_attr=dict(rankdir=rankdir),
                  node_attr=dict(shape="box", style="filled", fontname="monospace",
                                 fontsize="10", fillcolor="white"))
    producers, fn_producers = {}, {}
    for i, t in enumerate(inputs):
        key = f"input{i}"
        dot.node(key, f"input{i}\n{list(t.shape)} {t.dtype}" if show_shapes else f"input{i}",
                 fillcolor="lightyellow")
        producers[id(t)] = key
    previous = "input0" if inputs else None
    for k, call in enumerate(c for c in calls if c.is_leaf):
        key = f"layer{k}"
        dot.node(key, _label(call, show_shapes, show_layer_names, show_params))
        srcs = [s for t in model_trace.tensors_in(call.inputs)
                for s in _sources(t, producers, fn_producers)]
        for src in (sorted(set(srcs), key=srcs.index) or [previous] if previous else []):
            dot.edge(src, key)
        for t in model_trace.tensors_in(call.outputs):
            producers[id(t)] = key
            if t.grad_fn is not None:
                fn_producers[id(t.grad_fn)] = key
        previous = key
    if to_file is not None:
        fmt = os.path.splitext(os.fspath(to_file))[1].lstrip(".").lower() or "png"
        image = dot.pipe(fmt)  # rendered first: a missing Graphviz leaves no empty file
        atomic_write(to_file, lambda f: f.write(image))
    return dot
