"""PyTorch's `torch.nn.modules` path, for code that reaches the global hook functions
through it (`nn.modules.module.register_module_forward_hook`)."""
from . import module

__all__ = ["module"]
