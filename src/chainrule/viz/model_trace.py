"""One run of a model on a dummy batch with a forward pre-hook and a forward hook on every
module, recording each module call in order. `summary`, `viz.plot_model` and
`SummaryWriter.add_graph` all read a model's structure from this trace. The run also
materialises lazy modules (a dry run on a zero batch of `input_size`, as torchinfo does)."""
import numbers

from ..tensors import dtypes as _dtypes
from ..autograd import grad_mode
from ..tensors.creation import zeros
from ..tensors.tensor import Tensor

__all__ = ["LayerCall", "make_inputs", "trace", "graph_inputs", "tensors_in"]


class LayerCall:
    """One call of one module: its dotted name ('' for the model), depth (0 for the
    model), inputs and outputs, and whether it is the module's first call."""

    def __init__(self, name, module, depth, inputs, first):
        self.name, self.module, self.depth, self.inputs = name, module, depth, inputs
        self.first = first
        self.outputs = None
        self.end = None  # position among the calls in the order they returned
        self.is_leaf = not any(True for _ in module.children())

    @property
    def kind(self):
        return type(self.module).__name__

    @property
    def output_shapes(self):
        return [list(t.shape) for t in tensors_in(self.outputs)]

    @property
    def input_shapes(self):
        return [list(t.shape) for t in tensors_in(self.inputs)]


def graph_inputs(fn):
    """The inputs of a backward node that carry gradient: input Nodes and leaf tensors.
    next_functions gives the Nodes; a leaf sits in the same slot of `edges` (the tensor
    itself), which next_functions reports as None."""
    for (nxt, _), edge in zip(fn.next_functions, fn.edges):
        if nxt is not None:
            yield nxt
        elif isinstance(edge, Tensor):
            yield edge


def tensors_in(value):
    """The tensors inside a module's inputs or outputs (nested tuples, lists, dicts)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(v)]
    return []


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in s)


def make_inputs(what, input_size=None, dtypes=None, input_data=None, requires_grad=False):
    """The batch to run: `input_data` as given (a tensor or a tuple of tensors), or zeros of
    `input_size` (one shape, or a list of shapes for several inputs) in `dtypes`."""
    if input_data is not None:
        data = tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)
        if not data or not all(isinstance(t, Tensor) for t in data):
            raise TypeError(f"{what}: input_data must be a tensor or a tuple of tensors")
        return data
    if input_size is None:
        raise ValueError(f"{what}: pass input_size (the shape of a batch, e.g. (1, 784)) or "
                         "input_data")
    shapes = [tuple(input_size)] if _is_shape(input_size) else input_size
    if not isinstance(shapes, (tuple, list)) or not shapes or not all(map(_is_shape, shapes)):
        raise ValueError(f"{what}: input_size must be a shape such as (1, 784) (batch "
                         "dimension included) or a list of shapes, one per input; got "
                         f"{input_size!r}")
    if dtypes is None:
        dtypes = [_dtypes.get_default_dtype()] * len(shapes)
    if not isinstance(dtypes, (tuple, list)) or len(dtypes) != len(shapes) or not all(
            isinstance(d, _dtypes.dtype) for d in dtypes):
        raise ValueError(f"{what}: dtypes must be a list of chainrule dtypes, one per input "
                         f"({len(shapes)}), got {dtypes!r}")
    inputs = []
    for shape, dt in zip(shapes, dtypes):
        t = zeros(*shape, dtype=dt)
        inputs.append(t.requires_grad_() if requires_grad and dt.is_floating_point else t)
    return tuple(inputs)


def trace(net, inputs, what, grad=False):
    """Run `net(*inputs)` in eval mode, recording every module call; the modules' training
    flags and hooks are as before afterwards. Returns (calls, output)."""
    from ..nn.module import Module
    if not isinstance(net, Module):
        raise TypeError(f"{what}: expected a chainrule.nn.Module, got {type(net).__name__}")
    calls, ended, handles, seen = [], [], [], set()
    names = {id(m): n for n, m in net.named_modules()}
    modes = [(m, m.training) for m in net.modules()]
    stack = []

    def pre(module, args):
        call = LayerCall(names.get(id(module), "?"), module, len(stack), args,
                         id(module) not in seen)
        seen.add(id(module))
        calls.append(call)
        stack.append(call)

    def post(module, args, result):
        call = stack.pop()
        call.outputs, call.end = result, len(ended)
        ended.append(call)

    try:
        for m in net.modules():
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
        net.eval()
        with grad_mode.set_grad_enabled(grad):
            try:
                output = net(*inputs)
            except Exception as e:
                shapes = [tuple(t.shape) for t in inputs]
                raise RuntimeError(f"{what}: running the model on a batch of shape(s) "
                                   f"{shapes} failed: {type(e).__name__}: {e}") from e
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.train(mode)
    return calls, output
