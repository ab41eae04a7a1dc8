"""UCI handwritten digits: 1,797 images of 8x8 pixels valued 0..16, 10 classes.

Source: "Optical Recognition of Handwritten Digits", UCI Machine Learning Repository,
E. Alpaydin and C. Kaynak (1998), https://doi.org/10.24432/C50P49, licensed under
Creative Commons Attribution 4.0 (CC BY 4.0). The copy shipped here is the test part
that scikit-learn distributes (`sklearn.datasets.load_digits`), stored unchanged in
its original order as uint8 in `vision/data/digits.npz` (read with allow_pickle=False).

Fixed train/test split (stored in the same file as `train_index` / `test_index`): for
each class c = 0..9 in turn, the indices of that class (original order) are shuffled by
one `numpy.random.default_rng(0)` generator and the first round(n_c / 5) go to the test
set. That gives 1,438 train / 359 test images, every class about 80/20."""
import os

import numpy as np

from ...tensors.tensor import Tensor
from .image_dataset import ImageDataset

DATA_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "digits.npz")
N_IMAGES = 1797


def load_digits_arrays(path=DATA_FILE):
    """(images uint8 N x 8 x 8, labels int64, train_index, test_index) from the package."""
    with np.load(path, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"].astype(np.int64)
        train_index, test_index = f["train_index"].astype(np.intp), f["test_index"].astype(np.intp)
    if images.shape != (N_IMAGES, 8, 8) or images.dtype != np.uint8 or labels.shape != (N_IMAGES,):
        raise ValueError(f"{path}: unexpected digits data (images {images.shape} "
                         f"{images.dtype}, labels {labels.shape})")
    return images, labels, train_index, test_index


class Digits(ImageDataset):
    """The UCI digits as a dataset: `data` uint8 N x 8 x 8 (values 0..16), `targets` int64.

    `root` is accepted for torchvision-style signatures and ignored: the data ships with
    chainrule. Note the pixel range is 0..16, not 0..255: `ToTensor` would scale by 255,
    so use e.g. `Lambda(lambda x: x / 16)` or `Normalize` to rescale."""
    classes = tuple(str(d) for d in range(10))

    def __init__(self, root=None, train=True, transform=None, target_transform=None):
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images, labels, train_index, test_index = load_digits_arrays()
        keep = train_index if self.train else test_index
        self.data = Tensor._wrap(np.ascontiguousarray(images[keep]))
        self.targets = Tensor._wrap(labels[keep])

    def __repr__(self):
        return (f"Dataset Digits\n    Number of datapoints: {len(self)}\n"
                f"    Split: {'Train' if self.train else 'Test'}")
