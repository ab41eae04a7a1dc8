"""Datasets with torchvision's names: MNIST, FashionMNIST (official IDX files) and
Digits (the small UCI digits set, shipped with chainrule)."""
from ..idx import IDXError, read_idx as load_idx, write_idx
from .digits import Digits
from .download import DownloadError
from .mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "Digits", "load_idx", "write_idx", "IDXError",
           "DownloadError"]
