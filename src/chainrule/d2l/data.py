"""d2l's data helpers: synthetic regression data, in-memory loaders, Fashion-MNIST, and
the shipped UCI digits as an offline stand-in for Fashion-MNIST."""
import os

import numpy as np

from .. import random
from ..tensors import creation
from ..ops.linalg import matmul
from ..tensors.tensor import Tensor
from ..utils import data
from ..vision import datasets, transforms

__all__ = ["synthetic_data", "load_array", "get_fashion_mnist_labels",
           "get_dataloader_workers", "load_data_fashion_mnist", "fashion_mnist_available",
           "load_data_digits", "get_digits_labels", "DEFAULT_DATA_ROOT"]

DEFAULT_DATA_ROOT = os.path.join("..", "data")  # d2l's notebooks keep data one level up

FASHION_MNIST_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                        "sneaker", "bag", "ankle boot")


def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise, X ~ N(0, 1), noise ~ N(0, 0.01); y is a column (n, 1)."""
    X = random.normal(0, 1, (num_examples, len(w)))
    y = matmul(X, w) + b
    y += random.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    """A DataLoader over tensors in memory, shuffled when is_train."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def get_fashion_mnist_labels(labels):
    """Text labels of Fashion-MNIST class indices (ints or a tensor)."""
    if isinstance(labels, Tensor):
        labels = labels.tolist()
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]


def get_digits_labels(labels):
    if isinstance(labels, Tensor):
        labels = labels.tolist()
    return [str(int(i)) for i in labels]


def get_dataloader_workers():
    # the loaders read whole batches with vectorised NumPy, so worker processes
    # would only add start-up time
    return 0


def _fashion_files(train):
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def fashion_mnist_available(root=None):
    """Whether all four Fashion-MNIST files are on disk (gzipped or not) under `root` (by
    default d2l's ../data or chainrule's data folder), in torchvision's layout
    (root/FashionMNIST/raw) or directly in `root`."""
    return any(_complete(r) for r in _fashion_roots(root))


def _complete(root):
    folders = (os.path.join(root, "FashionMNIST", "raw"), root)
    for name in _fashion_files(True) + _fashion_files(False):
        if not any(os.path.isfile(os.path.join(f, name + ext))
                   for f in folders for ext in ("", ".gz")):
            return False
    return True


def _fashion_transform(resize):
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    return transforms.Compose(trans)


def _fashion_roots(root):
    """Where to look: `root` when given; else d2l's ../data, then the folder that
    `chainrule datasets download fashion-mnist` fills ($CHAINRULE_DATA or ~/.cache)."""
    if root is not None:
        return [root]
    from ..cli.data_sources import default_data_dir
    return [DEFAULT_DATA_ROOT, default_data_dir()]


def load_data_fashion_mnist(batch_size, resize=None, root=None, download=True):
    """(train_iter, test_iter) over Fashion-MNIST, images as float32 (1, H, W) in [0, 1].

    Looks in `root`, or by default in d2l's ../data and then in chainrule's data folder
    (where `chainrule datasets download fashion-mnist` puts it). Missing files are
    downloaded into the first of those when `download`; if that is impossible (offline),
    the error names the files and the folders to put them in."""
    trans = _fashion_transform(resize)
    roots = _fashion_roots(root)
    root = next((r for r in roots if _complete(r)), None)
    if root is None:
        if not download:
            raise FileNotFoundError(_missing_message(roots, "download=False"))
        root = roots[0]
        try:
            datasets.FashionMNIST(root=root, train=True, download=True)
            datasets.FashionMNIST(root=root, train=False, download=True)
        except datasets.DownloadError as err:
            reason = " ".join(line.strip() for line in str(err).splitlines()[:2])
            raise FileNotFoundError(_missing_message(roots, reason)) from err
    mnist_train = datasets.FashionMNIST(root=root, train=True, transform=trans)
    mnist_test = datasets.FashionMNIST(root=root, train=False, transform=trans)
    workers = get_dataloader_workers()
    return (data.DataLoader(mnist_train, batch_size, shuffle=True, num_workers=workers),
            data.DataLoader(mnist_test, batch_size, shuffle=False, num_workers=workers))


def _missing_message(roots, reason):
    files = [n + ".gz" for n in _fashion_files(True) + _fashion_files(False)]
    folders = " or ".join(os.path.abspath(os.path.join(r, "FashionMNIST", "raw")) for r in roots)
    return (f"Fashion-MNIST is not on disk and was not downloaded ({reason}). Run "
            "`chainrule datasets download fashion-mnist`, or put "
            f"{', '.join(files)} (from the Fashion-MNIST release, gzipped or not) in "
            f"{folders}, or pass root= pointing to a folder that has them. "
            "d2l.load_data_digits works offline.")


def _digits_tensors(train, resize):
    ds = datasets.Digits(train=train)
    images = ds.data.numpy().astype(np.float32) / np.float32(16)  # pixels are 0..16
    if resize:
        images = transforms.Resize(resize).batch(images)
    X = creation.tensor(np.ascontiguousarray(images[:, None, :, :]))
    return X, ds.targets.clone()


def load_data_digits(batch_size, resize=None):
    """(train_iter, test_iter) over the UCI digits shipped with chainrule (1,438 / 359
    images, 8x8), scaled to [0, 1]: the offline stand-in for load_data_fashion_mnist.
    `resize=28` gives Fashion-MNIST's image size, so the same 784-input nets apply."""
    train = _digits_tensors(True, resize)
    test = _digits_tensors(False, resize)
    loaders = load_array(train, batch_size), load_array(test, batch_size, is_train=False)
    for loader in loaders:
        loader.text_labels = get_digits_labels  # so predict_ch3 titles digits, not clothes
    return loaders
