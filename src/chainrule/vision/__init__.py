"""chainrule.vision: torchvision's datasets and transforms for NumPy images; Pillow is
needed only to read and write image files.

    from chainrule.vision import datasets, transforms
    from chainrule.vision.utils import save_image, make_grid   # image files need Pillow
    from chainrule.vision.io import read_image
"""
from . import datasets, idx, io, transforms, utils

__all__ = ["datasets", "transforms", "idx", "io", "utils"]
