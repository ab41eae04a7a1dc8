"""User-defined differentiable operations: `chainrule.autograd.Function`.

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    y = Cube.apply(x)

`apply` runs `forward` without recording and then records one Node for the call, like
any built-in op (see function.record): the engine, create_graph, anomaly mode and
retain_graph treat it the same way. The Node's parameter is the ctx; its gradient rule
for input i calls the user's `backward` once per incoming gradient and hands out the
i-th result. A forward returning several tensors records one Node for the call plus one
small Node per output that routes that output's gradient into a slot of the call's
incoming gradient (`_OutputGrads`), so `backward` receives all of them at once.
"""
import numpy as np

from ..runtime import recording_hooks
from . import grad_mode
from .function import IndexedRule, Op, record, tensor_class

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time.")
_ONCE = "trying to differentiate twice a function that was marked with @once_differentiable"


class FunctionCtx:
    """What forward/setup_context share with backward; any attribute may be set on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.to_save = ()
        self._dirty = self._non_diff = ()
        self._versions = None
        self._node = None
        self._cache = None

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        raise NotImplementedError("save_for_forward: forward-mode AD (jvp) of custom "
                                  "Functions is not supported in chainrule")

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """The saved tensors, after checking none was freed or changed in place since."""
        if self._node is not None and self._node.saved is None:
            raise RuntimeError(_FREED)
        for k, (t, version) in enumerate(self._versions or ()):
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{t._data.dtype} {tuple(t._data.shape)}] "
                    f"(saved tensor {k} of {self._name}) is at version {t._version[0]}; "
                    f"expected version {version} instead. Use .clone() before modifying it "
                    "in place.")
        return self.to_save

    saved_variables = saved_tensors

    # ---- called by the gradient rules of the recorded nodes ------------------------
    def _grad_for(self, i, g):
        """Gradient for input i: run backward once per incoming gradient `g`."""
        cache = self._cache
        if cache is None or cache[0] is not g:
            cache = self._cache = (g, self._run_backward(g))
        if i == self._last_edge:
            self._cache = None  # the next backward (retain_graph) runs backward again
        return cache[1][i]

    def _run_backward(self, g):
        Tensor = tensor_class()
        create = type(g) is Tensor  # the engine passes tensors under create_graph
        raw = g._data if create and isinstance(g._data, _OutputGrads) else g
        slots = raw.slots if isinstance(raw, _OutputGrads) else [raw]
        grads = []
        for k, s in enumerate(slots):
            if s is None and self.materialize_grads and self._meta[k] is not None:
                shape, dtype = self._meta[k]
                s = np.zeros(shape, dtype=dtype)
            grads.append(s if s is None or type(s) is Tensor else Tensor._wrap(s))
        result = self._cls.backward(self, *grads)
        return self._check_grads(result, create)

    def _check_grads(self, result, create):
        """torch's checks on what backward returned, then arrays (or tensors under
        create_graph) for the engine."""
        Tensor = tensor_class()
        result = result if isinstance(result, tuple) else (result,)
        n = len(self._inputs)
        if len(result) > n and all(r is None for r in result[n:]):
            result = result[:n]  # extra trailing Nones are allowed
        if len(result) != n:
            raise RuntimeError(f"function {self._name} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(result)})")
        out = []
        for i, (r, x) in enumerate(zip(result, self._inputs)):
            if r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
            if not isinstance(x, Tensor):
                raise RuntimeError(
                    f"function {self._name} returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Variable")
            shape = x._data.shape
            try:
                ok = np.broadcast_shapes(shape, r._data.shape) == r._data.shape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {self._name} returned an invalid gradient at "
                                   f"index {i} - got {list(r._data.shape)} but expected shape "
                                   f"compatible with {list(shape)}")
            # a view: the engine must copy before making it a leaf's .grad, since the user
            # may still hold the tensor (a saved one, say) that backward returned
            out.append(r if create else r._data.view())
        return out


class _OutputGrads:
    """The incoming gradient of a multi-output call: one slot per forward output.
    `shape`/`dtype` are None like the call's Node, so the engine neither reshapes nor
    casts it, and `+` adds slot by slot."""
    __slots__ = ("slots",)
    shape = dtype = None

    def __init__(self, slots):
        self.slots = slots

    def __add__(self, other):
        return _OutputGrads([b if a is None else a if b is None else a + b
                             for a, b in zip(self.slots, other.slots)])


def _call_rule(i):
    def rule(g, out, *rest):
        return rest[-1]._grad_for(i, g)  # rest ends with the node's parameter, the ctx
    return rule


class _CallRules(IndexedRule):
    """op.grads for a custom Function: the rule for input i (any number of inputs),
    built on first use and kept."""
    __slots__ = ("rules",)

    def __init__(self):
        self.rules = []

    def __getitem__(self, i):
        while len(self.rules) <= i:
            self.rules.append(_call_rule(len(self.rules)))
        return self.rules[i]


def _select_rule(g, out, _none, k, ctx):
    """An output's gradient goes into slot k of the call's incoming gradient."""
    slots = [None] * len(ctx._meta)
    slots[k] = g
    return _OutputGrads(slots)


def _ops(cls):
    """The Ops a Function subclass records (one per class, named as torch names it)."""
    ops = cls.__dict__.get("_chainrule_ops")
    if ops is None:
        name = cls.__name__ + "Backward"
        ops = (Op(name, None, _CallRules(), saves_inputs=False),
               Op(name, None, _select_rule, saves_inputs=False))
        setattr(cls, "_chainrule_ops", ops)
    return ops


class Function:
    """Base class of custom differentiable operations; use `MyFunction.apply(...)`."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: MyFunction.apply(x))")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("jvp: forward-mode AD of custom Functions is not supported "
                                  "in chainrule")

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = tensor_class()
        recording_hooks.unsupported(f"custom autograd.Function {cls.__name__}: its Python runs "
                             "on every call")
        track = grad_mode.is_grad_enabled()
        needs = tuple(track and isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with grad_mode.no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args, **kwargs)
            else:  # new style: forward without ctx, then setup_context
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
        if any(needs):
            output = _connect(cls, ctx, args, output, Tensor)
        ctx._versions = [(t, t._version[0]) if isinstance(t, Tensor) else (None, 0)
                         for t in ctx.to_save]
        return output


def _connect(cls, ctx, args, output, Tensor):
    """Record the call's Node(s) and give each differentiable output its history."""
    from ..tensors import views
    call_op, select_op = _ops(cls)
    ctx._cls, ctx._name, ctx._inputs = cls, call_op.name, args
    ctx._last_edge = max(i for i, n in enumerate(ctx.needs_input_grad) if n)
    for t in ctx._dirty:
        if t.requires_grad and t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an "
                               "in-place operation.")
    multi = isinstance(output, tuple)
    outs = list(output) if multi else [output]
    ctx._meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                 for o in outs]
    arrays = [a._data if isinstance(a, Tensor) else None for a in args]  # anomaly mode's view
    if multi:
        anchor = Tensor._wrap(np.empty(0))
        node = record(call_op, args, arrays, (ctx,), anchor).grad_fn
        node.shape = node.dtype = None  # its gradient is an _OutputGrads
    else:
        node = None
    had_history = [isinstance(o, Tensor) and o.requires_grad for o in outs]
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        dirty = any(o is t for t in ctx._dirty)
        non_diff = any(o is t for t in ctx._non_diff)
        # a tensor that existed before forward (an input, a parameter) keeps its own
        # history: the output is an alias carrying the call's history
        if dirty or had_history[k] or any(o is a for a in args):
            o = outs[k] = Tensor._wrap(o._data, base=o)
        if o._data.dtype.kind != "f" or non_diff:
            continue
        if multi:
            record(select_op, (anchor,), (None,), (k, ctx), o)
        else:
            node = record(call_op, args, arrays, (ctx,), o).grad_fn
        if dirty:
            original = output[k] if multi else output
            views.record_inplace(original, o)
            outs[k] = original
    ctx._node = node
    return tuple(outs) if multi else outs[0]


def once_differentiable(backward):
    """Decorate a backward that is not itself differentiable: it runs without recording,
    and differentiating its result (create_graph) raises torch's error."""
    def wrapper(ctx, *grads):
        Tensor = tensor_class()
        with grad_mode.no_grad():
            result = backward(ctx, *grads)
        sources = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
        if not grad_mode.is_grad_enabled() or not sources:
            return result
        op = Op("Error", None, _raise_once, saves_inputs=False)
        multi = isinstance(result, tuple)
        marked = []
        for r in (result if multi else (result,)):
            if isinstance(r, Tensor):
                r = record(op, sources[:1], (None,), (), Tensor._wrap(r._data))
            marked.append(r)
        return tuple(marked) if multi else marked[0]
    wrapper.__name__ = getattr(backward, "__name__", "backward")
    wrapper.__doc__ = getattr(backward, "__doc__", None)
    return wrapper


def _raise_once(*args):
    raise RuntimeError(_ONCE)
