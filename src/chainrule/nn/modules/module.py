"""Hooks for every Module (PyTorch's `torch.nn.modules.module.register_module_*`). They run
before each module's own hooks. Registering one sends every module through the hook path
of Module.__call__ from then on."""
from .. import hooks
from ..module import Module

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]


def _register(kind, hook, with_kwargs=False):
    handle = hooks.register(hooks.GLOBAL, kind, hook, with_kwargs=with_kwargs)
    Module._has_hooks = True
    return handle


def register_module_forward_pre_hook(hook):
    return _register("_forward_pre_hooks", hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    return _register("_forward_hooks", hook, with_kwargs)


def register_module_full_backward_pre_hook(hook):
    return _register("_backward_pre_hooks", hook)


def register_module_full_backward_hook(hook):
    return _register("_backward_hooks", hook)
