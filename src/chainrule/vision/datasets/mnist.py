"""MNIST and Fashion-MNIST from their official IDX files.

Files are looked up in torchvision's layout (`root/<Name>/raw/<file>`) and in a flat
folder (`root/<file>`), gzip-compressed (`.gz`) or not. With `download=True`, missing
files are fetched from the official mirrors into `root/<Name>/raw/` and checked against
their published MD5.

Batch protocol: `dataset.__getitems__(indices)` returns `(images, labels)` for a whole
list of indices, both tensors with a leading batch axis; the transform's `batch` method
(when it has one) runs once on the NHW uint8 array. A data loader can call it instead of
`__getitem__` per index and skip collation."""
import os

import numpy as np

from ...tensors.tensor import Tensor
from ..idx import read_idx
from . import download as _download
from .image_dataset import ImageDataset


class _IDXDataset(ImageDataset):
    mirrors = ()
    resources = ()  # (file name, md5) of the gzip files, train images/labels then test
    classes = ()

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        images_file, labels_file = self._files()
        images, labels = read_idx(self._find(images_file)), read_idx(self._find(labels_file))
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{self._find(images_file)}: expected uint8 images N x H x W, "
                             f"got dtype {images.dtype} and shape {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"{self._find(labels_file)}: expected {images.shape[0]} labels "
                             f"(one per image), got shape {labels.shape}")
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels.astype(np.int64))

    # ---- files ----------------------------------------------------------------------
    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _candidates(self, name):
        for folder in (self.raw_folder, self.root):
            for suffix in ("", ".gz"):
                yield os.path.join(folder, name + suffix)

    def _find(self, name):
        for path in self._candidates(name):
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(
            f"{type(self).__name__}: {name}[.gz] not found in {self.raw_folder} or "
            f"{self.root}. Pass download=True, or {self._manual_hint()}")

    def _manual_hint(self):
        names = ", ".join(n for n, _ in self.resources)
        mirrors = " or ".join(self.mirrors)
        return (f"download {names} from {mirrors} by hand and put them in {self.raw_folder} "
                f"(or directly in {self.root}).")

    def download(self):
        """Fetch the files this split needs that are not already present."""
        for gz_name, md5 in self.resources:
            if any(os.path.isfile(p) for p in self._candidates(gz_name[:-3])):
                continue
            _download.download([m + gz_name for m in self.mirrors],
                               os.path.join(self.raw_folder, gz_name), md5,
                               manual_hint="If this machine is offline, "
                               + self._manual_hint())

    # ---- access ---------------------------------------------------------------------
    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class MNIST(_IDXDataset):
    """LeCun, Cortes and Burges' handwritten digits: 60,000 train / 10,000 test, 28x28."""
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    resources_train = (("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                       ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"))
    resources_test = (("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                      ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"))
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine")

    @property
    def resources(self):
        return self.resources_train if self.train else self.resources_test


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (MIT licence): 60,000 train / 10,000 test, 28x28."""
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources_train = (("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                       ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"))
    resources_test = (("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                      ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"))
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
