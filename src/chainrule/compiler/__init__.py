"""`chainrule.compile`: record a call's NumPy kernels once, replay them on later calls.

    step = chainrule.compile(train_step)   # forward, loss, backward, optimizer.step()
    model = chainrule.compile(model)       # replays evaluation / inference calls

`torch.compile` names the same function when code does `import chainrule as torch`;
`backend=`, `fullgraph=` and `options=` are accepted and ignored (their meaning does not
carry over). `mode="max-autotune"` spends longer compiling for faster replays, as in
PyTorch: with numba installed (the `fast` extra) a replay runs runs of elementwise steps
and Adam's update as compiled loops with eager's bits (fuse.py, optim/fused.py). See
compiled.py for how a call is recorded, checked and replayed."""
from ..nn.module import Module
from ..optim import fused as _numba_loops
from .compiled import CompiledFunction
from .module import compile_module

__all__ = ["compile", "CompiledFunction"]

# PyTorch's modes; the two max-autotune ones fuse (chainrule has no CUDA graphs)
_MODES = {None: False, "default": False, "reduce-overhead": False, "max-autotune": True,
          "max-autotune-no-cudagraphs": True}


def check_mode(mode):
    """Refuse a mode PyTorch does not name, listing the ones it does."""
    if not isinstance(mode, (str, type(None))) or mode not in _MODES:
        raise RuntimeError(f"compile: unrecognized mode={mode!r}, should be one of: "
                           + ", ".join(m for m in _MODES if m))


def _fuses(mode):
    check_mode(mode)
    return _MODES[mode] and _numba_loops.available(f"compile(mode={mode!r})")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False, check=False):
    """Compile a function or module (also usable as `@compile` / `@compile(check=True)`).

    check=True: when the second recording of a signature differs from the first (the
    kernels depend on tensor values), raise naming the first kernel that differs instead
    of warning and running eagerly. dynamic=True keeps more shapes recorded (each shape
    still records its own kernel list). mode="max-autotune" fuses (see above)."""
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable, check=check)
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"compile: expected a function or an nn.Module, got "
                        f"{type(model).__name__}")
    fused = _fuses(mode)
    if isinstance(model, Module):
        return compile_module(model, check=check, dynamic=bool(dynamic), fused=fused)
    return CompiledFunction(model, check=check, dynamic=bool(dynamic), fused=fused)
