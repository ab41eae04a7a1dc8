"""Utilities with torch.utils' layout; `data` holds datasets and the DataLoader, `hooks`
the RemovableHandle that hook registration returns."""
from . import data, hooks

__all__ = ["data", "hooks"]
