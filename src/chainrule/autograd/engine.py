"""The backward pass: walk the recorded graph in reverse topological order (iteratively,
so a chain of 100,000 ops is fine), call each Node's gradient rules, reduce every
gradient to its input's shape once, and accumulate into leaf `.grad`."""
import heapq

import numpy as np

from ..runtime import recording_hooks
from . import grad_mode
from .anomaly import _enabled as _anomaly, check_backward
from . import tensor_hooks
from .function import GraphLostError, Node, tensor_class

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
        # float16 sums accumulate in float32, as PyTorch's (NumPy adds along an outer axis
        # in float16: 30000 + 30000 overflowed there)
        wide = isinstance(g, np.ndarray) and g.dtype == np.float16
        # only leading axes to drop (a bias's gradient): the sum has the shape itself, a
        # whole array backward can keep as .grad without a copy (the same additions)
        keep = axes != tuple(range(extra))
        g = np.add.reduce(g, axis=axes, keepdims=keep, dtype=np.float32 if wide else None)
        g = g.astype(np.float16) if wide else g
    if g.shape != shape:
        g = g.reshape(shape)
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
        if isinstance(e, Node):
            t = Tensor._wrap(a)
            t.grad_fn = e
            t.requires_grad = True
            args.append(t)
        elif e is not None:
            args.append(e)  # a leaf: the tensor itself
        else:
            args.append(Tensor._wrap(a) if isinstance(a, np.ndarray) else a)
    return args


def _fit(g, shape):
    """Bring a rule's gradient to its input's shape: sum broadcast dimensions away, or
    expand a reduced gradient (sum/mean rules return it in keepdim form)."""
    if g.ndim > len(shape) or any(a != b and b == 1 for a, b in zip(g.shape[::-1], shape[::-1])):
        g = sum_to_shape(g, shape)
    if g.shape != shape:
        if isinstance(g, np.ndarray):
            out = np.empty_like(g, shape=shape, order="C")
            out[...] = g
            return out
        g = np.broadcast_to(g, shape)
    return g


def run_backward(tensors, grad_tensors, retain_graph, create_graph, capture=None):
    """Propagate `grad_tensors` from `tensors`. With `capture` (a list of tensors), their
    gradients are returned instead of accumulated into `.grad` (autograd.grad).
    Nodes run in decreasing creation order (a max-heap on `seq`): every consumer of a
    node was created after it, so its gradient is complete when it is popped."""
    Tensor = tensor_class()
    grads = {}
    leaf_grads = {}
    heap = []
    for t, g in zip(tensors, grad_tensors):
        fn = t.grad_fn
        if fn is None:
            leaf_grads[id(t)] = (t, g, False)
            continue
        if fn.saved is None:
            raise RuntimeError(_FREED)
        if fn in grads:
            grads[fn] = grads[fn] + g
        else:
            grads[fn] = g
            heapq.heappush(heap, (-fn.seq, fn))
    want = {}  # node or id(leaf) -> the positions asking for it (an input may repeat)
    if capture is not None:
        for i, t in enumerate(capture):
            want.setdefault(t.grad_fn if t.grad_fn is not None else id(t), []).append(i)
    results = [None] * len(capture) if capture is not None else None
    prev_mode = grad_mode._state[0]
    grad_mode._state[0] = bool(create_graph)
    pop, push = heapq.heappop, heapq.heappush
    anomaly = _anomaly[0]  # read once per backward, not per node
    hooked = tensor_hooks._on[0]
    try:
        while heap:
            node = pop(heap)[1]
            g = grads.pop(node)
            if hooked:
                g = tensor_hooks.run_node(node, g, Tensor)
            if want and node in want:
                for i in want[node]:
                    results[i] = g
            if node.retain is not None:
                owner = node.retain()
                if owner is not None:
                    _set_grad(owner, g, Tensor, create_graph)
            saved = node.saved
            if saved is None:
                raise RuntimeError(_FREED)
            for counter, expected, _ in saved:
                if counter[0] != expected:
                    _check_saved(node)  # raises, naming the op and the tensor
            op = node.op
            if create_graph:
                g, out, args = _graph_inputs(node, g, Tensor)
            else:
                out = node.out
                args = node.args
            rules = op.grads
            inputs = (*args, *node.params)
            for i, e in enumerate(node.edges):
                if e is None:
                    continue
                try:
                    gi = rules[i](g, out, *inputs)
                except GraphLostError as err:  # name the op whose rule lost the graph
                    raise GraphLostError(f"{op.name} (create_graph=True): {err}") from None
                if gi is None:
                    continue  # a custom Function's backward may return None
                if anomaly:
                    check_backward(node, i, gi, g)
                if isinstance(e, Node):
                    if gi.shape != e.shape:
                        gi = _fit(gi, e.shape)
                    if gi.dtype is not e.dtype and gi.dtype != e.dtype:
                        gi = gi.astype(e.dtype)
                    if e in grads:
                        grads[e] = grads[e] + gi
                    else:
                        grads[e] = gi
                        push(heap, (-e.seq, e))
                else:
                    data = e._data
                    if gi.shape != data.shape:
                        gi = _fit(gi, data.shape)
                    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                        gi = gi.astype(data.dtype)
                    key = id(e)
                    if key in leaf_grads:
                        leaf_grads[key] = (e, leaf_grads[key][1] + gi, True)
                    else:
                        # a fresh array from a rule can become .grad without a copy;
                        # the incoming gradient itself or a view of it cannot
                        owned = gi is not g and (gi.base is None if type(gi) is np.ndarray
                                                 else recording_hooks.fresh(gi))
                        leaf_grads[key] = (e, gi, owned)
            if not retain_graph:
                node.args = node.out = node.saved = None
    finally:
        grad_mode._state[0] = prev_mode
    for key, (leaf, g, owned) in leaf_grads.items():
        if hooked:
            g, ran = tensor_hooks.run_leaf(leaf, g, Tensor)
            owned = owned and not ran
        if key in want:
            for i in want[key]:
                results[i] = g
        elif capture is None:
            _set_grad(leaf, g, Tensor, create_graph, owned)
            if hooked:
                tensor_hooks.run_post(leaf)
    return results


def _graph_inputs(node, g, Tensor):
    """create_graph: the incoming gradient, the output and the saved inputs as tensors
    connected to the graph, so the rules' NumPy calls record their own nodes."""
    if type(g) is not Tensor:
        g = Tensor._wrap(g)
    args = _graph_args(node, Tensor) if node.op.saves_inputs else [None] * len(node.edges)
    out = None
    if node.op.uses_out:
        out = Tensor._wrap(node.out)
        out.grad_fn, out.requires_grad = node, True
    return g, out, args


def _set_grad(t, g, Tensor, create_graph, owned=False):
    """Accumulate into `t.grad`: in place when possible (as PyTorch does), a new tensor
    with a graph when create_graph is set."""
    if t.grad is not None and t.grad._data.shape != t._data.shape:
        raise RuntimeError(f"backward: a tensor of shape {tuple(t._data.shape)} has a .grad "
                           f"of shape {tuple(t.grad._data.shape)} to accumulate into; a .grad "
                           "must have its tensor's shape (PyTorch refuses such an assignment)")
    recorder = recording_hooks.ACTIVE[0]
    if recorder is not None:  # a compile recording replays this assignment
        return recorder.set_grad(t, g, create_graph, owned)
    if type(g) is Tensor:
        if not create_graph:
            g = g._data
    if t.grad is None:
        if type(g) is Tensor:
            t.grad = g
        else:
            # never alias an array the graph or the caller may still hold
            t.grad = Tensor._wrap(g if owned and g.dtype == t._data.dtype
                                  else np.array(g, dtype=t._data.dtype, copy=True))
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + g
    else:
        np.add(t.grad._data, g, out=t.grad._data, casting="unsafe")
        t.grad._version[0] += 1
