"""`chainrule.compile`: record a call's NumPy kernels once, replay them on later calls.

    step = chainrule.compile(train_step)   # forward, loss, backward, optimizer.step()
    model = chainrule.compile(model)       # replays evaluation / inference calls

`torch.compile` names the same function when code does `import chainrule as torch`;
`mode=`, `backend=`, `fullgraph=` and `options=` are accepted and ignored (their meaning
does not carry over). See compiled.py for how a call is recorded, checked and replayed."""
from ..nn.module import Module
from .compiled import CompiledFunction
from .module import compile_module

__all__ = ["compile", "CompiledFunction"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False, check=False):
    """Compile a function or module (also usable as `@compile` / `@compile(check=True)`).

    check=True: when the second recording of a signature differs from the first (the
    kernels depend on tensor values), raise naming the first kernel that differs instead
    of warning and running eagerly. dynamic=True keeps more shapes recorded (each shape
    still records its own kernel list)."""
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable, check=check)
    if disable:
        return model
    if isinstance(model, Module):
        return compile_module(model, check=check, dynamic=bool(dynamic))
    if not callable(model):
        raise TypeError(f"compile: expected a function or an nn.Module, got "
                        f"{type(model).__name__}")
    return CompiledFunction(model, check=check, dynamic=bool(dynamic))
