"""Module hooks: forward pre-hooks, forward hooks, full backward (pre-)hooks.

`Module.__call__` tests one flag, `_has_hooks`, and only a module with hooks comes here,
so models without hooks run exactly as before. Backward hooks put a node boundary
around the module (an identity custom Function over its tensor inputs and another over
its outputs): the output boundary sees grad_output, the input boundary grad_input, and
the user's hook runs there, as PyTorch's BackwardHook does.
"""
import warnings
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

from ..autograd import grad_mode
from ..autograd.custom_function import Function
from ..tensors.tensor import Tensor
from ..utils.hooks import RemovableHandle
from . import tables

_METHODS = {"_forward_pre_hooks": "register_forward_pre_hook",
            "_forward_hooks": "register_forward_hook",
            "_backward_hooks": "register_full_backward_hook",
            "_backward_pre_hooks": "register_full_backward_pre_hook"}


# hooks for every module (nn.modules.module.register_module_*_hook) run before a module's own
GLOBAL = SimpleNamespace()


def hooks_of(module, kind):
    """[(hook, with_kwargs)] of one kind: the global ones, then the module's own."""
    found = []
    for owner in (GLOBAL, module):
        d = owner.__dict__
        flags = d.get(kind + "_with_kwargs", ())
        found += [(hook, hid in flags) for hid, hook in d.get(kind, {}).items()]
    return found


def hook_dict(module, name):
    """The module's hooks of one kind, created on first use (id -> hook, in order)."""
    d = module.__dict__
    hooks = d.get(name)
    if hooks is None:
        hooks = d[name] = OrderedDict()
    return hooks


def register(module, kind, hook, prepend=False, with_kwargs=False):
    if not callable(hook):
        raise TypeError(f"{_METHODS[kind]}: expected a callable, got {type(hook).__name__}")
    hooks = hook_dict(module, kind)
    kwargs_flags = hook_dict(module, kind + "_with_kwargs")
    handle = RemovableHandle(hooks, extra_dict=kwargs_flags)
    hooks[handle.id] = hook
    if with_kwargs:
        kwargs_flags[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    module.__dict__["_has_hooks"] = True
    tables.changed()
    return handle


def call_with_hooks(module, args, kwargs):
    """What Module.__call__ does once a hook was registered on the module."""
    for hook, with_kwargs in hooks_of(module, "_forward_pre_hooks"):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    boundary = None
    if grad_mode.is_grad_enabled() and (hooks_of(module, "_backward_hooks")
                                or hooks_of(module, "_backward_pre_hooks")):
        boundary = _BackwardBoundary(module)
        args = boundary.wrap_inputs(args)
    result = module.forward(*args, **kwargs)
    for hook, with_kwargs in hooks_of(module, "_forward_hooks"):
        out = hook(module, args, kwargs, result) if with_kwargs else hook(module, args, result)
        if out is not None:
            result = out
    if boundary is not None:
        result = boundary.wrap_outputs(result)
    return result


class BackwardHookFunction(Function):
    """Identity over some tensors; its backward hands their gradients to `callback`,
    whose answer (possibly replaced gradients) flows on."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


class _BackwardBoundary:
    """One forward call of a module with backward hooks: grad_output is caught at the
    output boundary, grad_input at the input boundary, where the hooks run."""

    def __init__(self, module):
        self.module = module
        self.n_args = 0
        self.input_pos = None  # positions of the tensor args wrapped, None if none
        self.input_needs = ()
        self.grad_outputs = None

    def wrap_inputs(self, args):
        self.n_args = len(args)
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not any(args[i].requires_grad for i in pos):
            return args
        self.input_pos = pos
        self.input_needs = [args[i].requires_grad for i in pos]
        self.input_meta = [(args[i]._data.shape, args[i]._data.dtype) for i in pos]
        wrapped = BackwardHookFunction.apply(self._at_inputs, *[args[i] for i in pos])
        args = list(args)
        for i, t in zip(pos, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        if not any(outs[i].requires_grad for i in pos):
            return result
        self.n_outputs = len(outs)
        self.output_pos = pos
        wrapped = BackwardHookFunction.apply(self._at_outputs, *[outs[i] for i in pos])
        outs = list(outs)
        for i, t in zip(pos, wrapped):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def _pack(self, grads, positions, n):
        packed = [None] * n
        for i, g in zip(positions, grads):
            packed[i] = g
        return tuple(packed)

    def _at_outputs(self, grads):
        m = self.module
        grad_outputs = self._pack(grads, self.output_pos, self.n_outputs)
        for hook, _ in hooks_of(m, "_backward_pre_hooks"):
            result = hook(m, grad_outputs)
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(result)}, but expected "
                                       f"{len(grad_outputs)}")
                grad_outputs = result
        self.grad_outputs = grad_outputs
        if self.input_pos is None:
            self._hooks_without_inputs(m)
        return tuple(grad_outputs[i] for i in self.output_pos)

    def _hooks_without_inputs(self, m):
        hooks = [hook for hook, _ in hooks_of(m, "_backward_hooks")]
        if not hooks:
            return
        warnings.warn("Full backward hook is firing when gradients are computed with respect "
                      "to module outputs since no inputs require gradients.", UserWarning,
                      stacklevel=2)
        grad_inputs = (None,) * self.n_args
        for hook in hooks:
            result = hook(m, grad_inputs, self.grad_outputs)
            if result is not None and not all(r is None for r in result):
                raise RuntimeError("Backward hook for Modules where no input requires "
                                   "gradient should always return None or None for all "
                                   "gradients.")

    def _at_inputs(self, grads):
        m = self.module
        # a tensor input that does not require grad is reported with a zero gradient
        grads = [g if g is not None or needs else Tensor._wrap(np.zeros(*meta))
                 for g, needs, meta in zip(grads, self.input_needs, self.input_meta)]
        grad_inputs = self._pack(grads, self.input_pos, self.n_args)
        for hook, _ in hooks_of(m, "_backward_hooks"):
            result = hook(m, grad_inputs, self.grad_outputs)
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(grad_inputs):
                    raise RuntimeError("Backward hook returned an invalid number of "
                                       f"grad_input, got {len(result)}, but expected "
                                       f"{len(grad_inputs)}")
                grad_inputs = result
        return tuple(grad_inputs[i] for i in self.input_pos)
