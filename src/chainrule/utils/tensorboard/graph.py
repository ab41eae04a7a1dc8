"""A model's graph as TensorBoard's GraphDef: every op recorded while the model runs on a
dummy batch becomes a node named inside the scope of the module that ran it
(`Sequential/Linear[0]/Addmm_3`), so TensorBoard's graph view folds and unfolds by module,
as it does for PyTorch's traced graphs."""
import re

from ...viz import model_trace
from ...tensors.tensor import Tensor

__all__ = ["graph_def"]

_BACKWARD = re.compile(r"Backward\d*$")


def _scopes(net, calls):
    """Scope path of each module call: `Sequential/Linear[0]`, as PyTorch's traces name
    them (class name, then the attribute name in brackets)."""
    out = {}
    for c in calls:
        parts, prefix = [type(net).__name__], []
        for piece in c.name.split(".") if c.name else []:
            prefix.append(piece)
            parts.append(f"{type(net.get_submodule('.'.join(prefix))).__name__}[{piece}]")
        out[id(c)] = "/".join(parts)
    return out


def _claim(calls, scopes):
    """Each recorded op goes to the innermost module call that ran it: calls claim the ops
    between their inputs and outputs in the order they returned, innermost first."""
    owner = {}
    for c in sorted(calls, key=lambda c: c.end):
        stop = {id(t.grad_fn) for t in model_trace.tensors_in(c.inputs) if t.grad_fn is not None}
        stack = [t.grad_fn for t in model_trace.tensors_in(c.outputs) if t.grad_fn is not None]
        seen = set()
        while stack:
            fn = stack.pop()
            if id(fn) in seen or id(fn) in stop:
                continue
            seen.add(id(fn))
            owner.setdefault(id(fn), (fn, scopes[id(c)]))
            stack.extend(n for n in model_trace.graph_inputs(fn) if not isinstance(n, Tensor))
    return owner


def _shape_attr(pb, shapes):
    dims = [pb["TensorShapeProto"](dim=[pb["TensorShapeProto"].Dim(size=int(d)) for d in s])
            for s in shapes]
    return {"_output_shapes": pb["AttrValue"](list=pb["AttrValue"].ListValue(shape=dims))}


def _protos():
    from tensorboardX.proto import (attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2,
                                    versions_pb2)
    return dict(GraphDef=graph_pb2.GraphDef, NodeDef=node_def_pb2.NodeDef,
                AttrValue=attr_value_pb2.AttrValue,
                TensorShapeProto=tensor_shape_pb2.TensorShapeProto,
                VersionDef=versions_pb2.VersionDef)


def graph_def(net, inputs):
    """GraphDef (tensorboardX's protobuf class) of `net(*inputs)`."""
    pb = _protos()
    inputs = tuple(t.detach().requires_grad_() if t.dtype.is_floating_point else t
                   for t in inputs)
    calls, output = model_trace.trace(net, inputs, "add_graph", grad=True)
    scopes = _scopes(net, calls)
    owner = _claim(calls, scopes)
    names, nodes = {}, []

    def add(key, name, op, ins, shapes):
        names[key] = name
        nodes.append(pb["NodeDef"](name=name, op=op, input=ins, attr=_shape_attr(pb, shapes)))

    for i, t in enumerate(inputs):
        add(id(t), f"input/input.{i}", "IO Node", [], [t.shape])
    root = type(net).__name__
    for pname, p in net.named_parameters():
        mod, _, attr = pname.rpartition(".")
        scope = next((s for c, s in ((c, scopes[id(c)]) for c in calls) if c.name == mod), root)
        add(id(p), f"{scope}/{attr}", "Parameter", [], [p.shape])
    for k, (fn, scope) in enumerate(sorted(owner.values(), key=lambda v: v[0].seq)):
        op = _BACKWARD.sub("", type(fn).__name__)
        ins = [names[id(src)] for src in model_trace.graph_inputs(fn) if id(src) in names]
        add(id(fn), f"{scope}/{op}_{k}", op, ins, [fn.shape])
    for i, t in enumerate(model_trace.tensors_in(output)):
        src = t.grad_fn if t.grad_fn is not None else t
        add(("out", i), f"output/output.{i}", "IO Node",
            [names[id(src)]] if id(src) in names else [], [t.shape])
    return pb["GraphDef"](node=nodes, versions=pb["VersionDef"](producer=22))
