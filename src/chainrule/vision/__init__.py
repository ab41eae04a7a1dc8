"""chainrule.vision: torchvision's datasets and transforms for NumPy images (no PIL).

    from chainrule.vision import datasets, transforms
"""
from . import datasets, idx, transforms

__all__ = ["datasets", "transforms", "idx"]
