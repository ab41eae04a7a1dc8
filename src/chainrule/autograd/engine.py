"""The backward pass: walk the recorded graph in reverse topological order (iteratively,
so a chain of 100,000 ops is fine), call each Node's gradient rules, reduce every
gradient to its input's shape once, and accumulate into leaf `.grad`."""
import numpy as np

from . import grad_mode
from .function import Node

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time.")


def sum_to_shape(g, shape):
    """Undo broadcasting: sum `g` down to `shape` (works on arrays and tensors)."""
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if extra or g.shape != shape:
        g = np.reshape(g, shape)
    return g


def _check_saved(node):
    for counter, expected, i in node.saved:
        if counter[0] != expected:
            arr = node.out if i < 0 else node.args[i]
            what = "output 0" if i < 0 else f"input {i}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{arr.dtype} {tuple(arr.shape)}] ({what} of "
                f"{node.op.name}) is at version {counter[0]}; expected version {expected} "
                "instead. Use .clone() before modifying it in place.")


def _graph_args(node, Tensor):
    """Saved inputs (and out) as tensors connected to the graph, for create_graph."""
    args = []
    for a, e in zip(node.args, node.edges):
        if type(e) is Node:
            t = Tensor._wrap(a)
            t.grad_fn = e
            t.requires_grad = True
            args.append(t)
        elif e is not None:
            args.append(e)
        else:
            args.append(Tensor._wrap(a) if isinstance(a, np.ndarray) else a)
    return args


def _dependencies(roots):
    deps = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        for e in node.edges:
            if type(e) is Node:
                deps[e] = deps.get(e, 0) + 1
                if e not in seen:
                    seen.add(e)
                    stack.append(e)
    return deps


def run_backward(tensors, grad_tensors, retain_graph, create_graph, capture=None):
    """Propagate `grad_tensors` from `tensors`. With `capture` (a list of tensors), their
    gradients are returned instead of accumulated into `.grad` (autograd.grad)."""
    from ..tensor import Tensor
    grads = {}
    leaf_grads = {}
    roots = []
    for t, g in zip(tensors, grad_tensors):
        fn = t.grad_fn
        if fn is None:
            leaf_grads[id(t)] = (t, g)
            continue
        if fn.saved is None:
            raise RuntimeError(_FREED)
        grads[fn] = grads[fn] + g if fn in grads else g
        roots.append(fn)
    want = {}
    if capture is not None:
        for i, t in enumerate(capture):
            want[t.grad_fn if t.grad_fn is not None else id(t)] = i
    results = [None] * len(capture) if capture is not None else None
    deps = _dependencies(list(dict.fromkeys(roots)))
    ready = [n for n in dict.fromkeys(roots) if n not in deps]
    prev_mode = grad_mode._state[0]
    grad_mode._state[0] = bool(create_graph)
    try:
        while ready:
            node = ready.pop()
            g = grads.pop(node)
            if node in want:
                results[want[node]] = g
            if node.retain is not None:
                owner = node.retain()
                if owner is not None:
                    _set_grad(owner, g, Tensor, create_graph)
            _run_node(node, g, grads, deps, ready, leaf_grads, Tensor, create_graph)
            if not retain_graph:
                node.args = None
                node.out = None
                node.saved = None
    finally:
        grad_mode._state[0] = prev_mode
    for key, (leaf, g) in leaf_grads.items():
        if key in want:
            results[want[key]] = g
        elif capture is None:
            _set_grad(leaf, g, Tensor, create_graph)
    return results


def _run_node(node, g, grads, deps, ready, leaf_grads, Tensor, create_graph):
    if node.saved is None:
        raise RuntimeError(_FREED)
    op = node.op
    if node.saved:
        _check_saved(node)
    if create_graph:
        if type(g) is not Tensor:
            g = Tensor._wrap(g)
        args = _graph_args(node, Tensor) if op.saves_inputs else [None] * len(node.edges)
        out = None
        if op.uses_out:
            # the output as a tensor produced by this very node: d(out)/d(inputs) flows back
            out = Tensor._wrap(node.out)
            out.grad_fn, out.requires_grad = node, True
    else:
        args = node.args if op.saves_inputs else [None] * len(node.edges)
        out = node.out
    params = node.params
    for i, e in enumerate(node.edges):
        if e is None:
            continue
        gi = op.grads[i](g, out, *args, *params)
        if type(e) is Node:
            shape, dtype = e.shape, e.dtype
        else:
            shape, dtype = e._data.shape, e._data.dtype
        if gi.shape != shape:
            gi = sum_to_shape(gi, shape)
        if gi.dtype != dtype:
            gi = gi.astype(dtype) if type(gi) is not Tensor else gi.to(dtype)
        if type(e) is Node:
            if e in grads:
                grads[e] = grads[e] + gi
            else:
                grads[e] = gi
            left = deps[e] - 1
            deps[e] = left
            if left == 0:
                ready.append(e)
        else:
            key = id(e)
            if key in leaf_grads:
                leaf_grads[key] = (e, leaf_grads[key][1] + gi)
            else:
                leaf_grads[key] = (e, gi)


def _set_grad(t, g, Tensor, create_graph):
    """Accumulate into `t.grad`: in place when possible (as PyTorch does), a new tensor
    with a graph when create_graph is set."""
    if type(g) is Tensor:
        if not create_graph:
            g = g._data
    if t.grad is None:
        if type(g) is Tensor:
            t.grad = g
        else:
            # never alias an array the graph or the caller may still hold
            t.grad = Tensor._wrap(np.array(g, dtype=t._data.dtype, copy=True))
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + g
    else:
        np.add(t.grad._data, g, out=t.grad._data, casting="unsafe")
        t.grad._version[0] += 1
