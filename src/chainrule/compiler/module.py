"""compile(model): a module's calls replayed, the backward of training calls included.

A call that needs no gradient (evaluation, inference) is a CompiledFunction of the module.
A training call is recorded as the module's forward followed by autograd.grad of its output
with respect to the parameters, for a gradient buffer: the kernels before that point are
the forward, the rest the backward. A replayed call runs the forward kernels and returns an
output whose grad_fn, when backward reaches it, copies the incoming gradient into the
buffer and runs the backward kernels; the engine accumulates the results into `.grad` as
for any node. The buffers hold one call's activations: the backward of a call made before
a later call of the same signature raises instead of reading overwritten values."""
import numpy as np

from ..runtime import recording_hooks
from ..autograd import grad, grad_mode
from ..autograd.custom_function import Function
from ..nn.module import Module
from ..tensors.tensor import Tensor
from .compiled import CompiledFunction, run_steps


class _Training(CompiledFunction):
    """Records forward + backward of `module(*args)`; a replay runs the forward only."""

    def __init__(self, module, check, dynamic):
        super().__init__(self._forward_backward, check=check, dynamic=dynamic)
        self.module = self.run_eagerly = module
        self.__name__ = type(module).__name__
        self.last = None         # the recording the latest call used

    def _forward_backward(self, *args):
        recorder = recording_hooks.ACTIVE[0]
        out = self.module(*args)
        if not isinstance(out, Tensor) or not out.requires_grad:
            recorder.unsupported("the module's output is not one tensor that requires grad")
            return out
        params = [p for p in self.module.parameters() if p.requires_grad]
        gbuf = np.ones(out._data.shape, out._data.dtype)
        recorder.backward_from = len(recorder.steps)
        grads = grad(out, params, grad_outputs=Tensor._wrap(recorder.trace(gbuf)),
                     retain_graph=True, allow_unused=True)
        recorder.backward_plan = (params, gbuf, [
            None if g is None else np.ndarray.view(g._data, np.ndarray) for g in grads])
        return out

    def _record(self, *args):
        result, recording = super()._record(*args)
        recording.generation = 0
        self.last = recording
        return result, recording

    def _replay(self, entry, args, kwargs):
        out = super()._replay(entry, args, kwargs)
        entry.generation += 1
        self.last = entry
        return out

    @staticmethod
    def _replayed_steps(entry):  # the forward: the backward runs when backward gets here
        return entry.recorder.steps[:entry.recorder.backward_from]


class _Holder:
    __slots__ = ("array",)


class Compiled(Function):
    """The grad_fn of a replayed training call: runs the recorded backward kernels."""

    @staticmethod
    def forward(ctx, holder, recording, *params):
        ctx.recording, ctx.generation = recording, recording.generation
        return Tensor._wrap(holder.array)

    @staticmethod
    def backward(ctx, g):
        recording = ctx.recording
        if recording.generation != ctx.generation:
            raise RuntimeError("compile(model): this output's backward comes after a later "
                               "call of the model with the same shapes, whose activations "
                               "replaced its own; call backward first, or compile the "
                               "whole training step")
        recorder = recording.recorder
        params, gbuf, grads = recorder.backward_plan
        np.copyto(gbuf, g._data)
        run_steps(recorder.steps[recorder.backward_from:], "backward")
        return (None, None, *[None if a is None else Tensor._wrap(a.copy()) for a in grads])


def compile_module(module, check=False, dynamic=False, fused=False):
    """fused: inference replays run elementwise runs as numba loops (a training call's
    forward and backward stay NumPy calls; Adam's loop is switched on either way)."""
    inference = CompiledFunction(module.__call__, check=check, dynamic=dynamic, fused=fused)
    training = _Training(module, check, dynamic)

    def forward(*args, **kwargs):
        needs_grad = grad_mode.is_grad_enabled() and (
            any(p.requires_grad for p in module.parameters())
            or any(isinstance(a, Tensor) and a.requires_grad for a in args))
        if not needs_grad:
            return inference(*args, **kwargs)
        if kwargs or recording_hooks.ACTIVE[0] is not None:
            return module(*args, **kwargs)  # keyword calls, or inside a compiled step
        training.last = None
        out = training(*args)
        recording = training.last
        if training._eager is not None or recording is None or not recording.verified:
            return out  # eager's own output and graph (its buffers are never reused)
        holder = _Holder()
        holder.array = out._data
        return Compiled.apply(holder, recording, *recording.recorder.backward_plan[0])
    return _CompiledModule(module, forward)


class _CompiledModule(Module):
    """What compile(model) returns: the same parameters and state (keys unchanged), the
    call routed through the compiled function. `_orig_mod` is the module, as in PyTorch."""

    def __init__(self, module, forward):
        super().__init__()
        self._orig_mod = module
        object.__setattr__(self, "_compiled_forward", forward)

    def forward(self, *args, **kwargs):
        return self._compiled_forward(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        return self._compiled_forward(*args, **kwargs)

    def state_dict(self, *args, **kwargs):
        return self._orig_mod.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self._orig_mod.load_state_dict(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
