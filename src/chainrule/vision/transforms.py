"""Image transforms with torchvision's names, on NumPy arrays and tensors (no PIL).

A single image is a uint8 NumPy array HW or HWC (the role a PIL image plays in
torchvision) or, after `ToTensor`, a float tensor CHW. Every transform is callable on one
image; transforms that can also work on a whole batch at once (NHW/NHWC arrays, NCHW
tensors) have a `batch(images)` method. Datasets' `__getitems__` uses `batch` when the
transform has one, so a DataLoader never builds one object per image."""
import numbers

import numpy as np

from ..tensors.tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "Resize", "InterpolationMode"]


def _describe(x):
    if isinstance(x, (np.ndarray, Tensor)):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {x.dtype}"
    return type(x).__name__


def _as_array(x, name):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{name}: expected a NumPy array or a chainrule tensor, got {_describe(x)}"
                    " (PIL images are not supported: convert with np.asarray(img))")


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __getattr__(self, name):
        # `batch` exists only when every member can work on batches, so callers can test
        # hasattr(transform, "batch")
        if name == "batch" and self.__dict__.get("transforms") is not None and \
                all(hasattr(t, "batch") for t in self.transforms):
            return self._batch
        raise AttributeError(f"'Compose' object has no attribute {name!r}")

    def _batch(self, imgs):
        for t in self.transforms:
            imgs = t.batch(imgs)
        return imgs

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


def _to_float_chw(arr, layout):
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32)
        out *= np.float32(1 / 255)
    elif arr.dtype.kind == "f":
        out = arr.astype(np.float32)  # torchvision leaves float input unscaled
    else:
        raise TypeError(f"ToTensor: expected uint8 (or float) pixels, got dtype {arr.dtype}")
    if layout.endswith("HWC"):
        out = np.moveaxis(out, -1, -3)
    else:  # HW: add the channel axis
        out = np.expand_dims(out, -3)
    return Tensor._wrap(np.ascontiguousarray(out))


class ToTensor:
    """uint8 HW/HWC -> float32 CHW in [0, 1]; `batch`: NHW/NHWC -> NCHW."""

    def __call__(self, pic):
        arr = _as_array(pic, "ToTensor")
        if arr.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected one image HW or HWC, got {_describe(pic)}"
                             " (use .batch(images) for NHW/NHWC batches)")
        return _to_float_chw(arr, "HW" if arr.ndim == 2 else "HWC")

    def batch(self, pics):
        arr = _as_array(pics, "ToTensor.batch")
        if arr.ndim not in (3, 4):
            raise ValueError(f"ToTensor.batch: expected a batch NHW or NHWC, got "
                             f"{_describe(pics)}")
        return _to_float_chw(arr, "NHW" if arr.ndim == 3 else "NHWC")

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a float CHW image (or NCHW batch)."""

    def __init__(self, mean, std, inplace=False):
        self.mean = [float(m) for m in (mean if isinstance(mean, (list, tuple)) else [mean])]
        self.std = [float(s) for s in (std if isinstance(std, (list, tuple)) else [std])]
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has "
                             f"{len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros, got {self.std}")
        self.inplace = inplace

    def _apply(self, x, min_ndim, name):
        arr = _as_array(x, name)
        if arr.dtype.kind != "f":
            raise TypeError(f"{name}: expected a float tensor (apply ToTensor first), got "
                            f"{_describe(x)}")
        if arr.ndim < min_ndim:
            raise ValueError(f"{name}: expected at least {min_ndim} dims "
                             f"({'CHW' if min_ndim == 3 else 'NCHW'}), got {_describe(x)}")
        channels = arr.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"{name}: {len(self.mean)} means/stds given for an image with "
                             f"{channels} channels")
        shape = (-1, 1, 1)
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(shape)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(shape)
        if self.inplace and isinstance(x, Tensor):
            arr -= mean
            arr /= std
            x._version[0] += 1
            return x
        return Tensor._wrap((arr - mean) / std)

    def __call__(self, tensor):
        return self._apply(tensor, 3, "Normalize")

    def batch(self, tensors):
        return self._apply(tensors, 4, "Normalize.batch")

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Wrap a function as a transform. `batched=True` says `fn` also accepts a whole batch
    (then `__getitems__` calls it once per batch)."""

    def __init__(self, lambd, batched=False):
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd
        if batched:
            self.batch = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


class InterpolationMode:
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _source_positions(n_in, n_out, mode):
    scale = n_in / n_out
    if mode == "nearest":  # PyTorch's 'nearest': floor(dst * scale)
        return np.minimum(np.floor(np.arange(n_out) * scale).astype(np.intp), n_in - 1), None
    # bilinear with half-pixel centres (align_corners=False)
    src = np.clip((np.arange(n_out) + 0.5) * scale - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(np.intp)
    hi = np.minimum(lo + 1, n_in - 1)
    return (lo, hi), (src - lo).astype(np.float32)


def _resize_axis(arr, axis, n_out, mode):
    n_in = arr.shape[axis]
    if n_in == n_out:
        return arr
    idx, w = _source_positions(n_in, n_out, mode)
    if w is None:
        return np.take(arr, idx, axis=axis)
    lo, hi = idx
    shape = [1] * arr.ndim
    shape[axis] = n_out
    w = w.reshape(shape)
    a, b = np.take(arr, lo, axis=axis), np.take(arr, hi, axis=axis)
    return a + (b - a) * w


def resize_array(arr, size, hw_axes, mode="bilinear"):
    """Resize `arr` along the two axes `hw_axes` to `size` (h, w); keeps the dtype."""
    h_axis, w_axis = hw_axes
    out = arr if mode == "nearest" else arr.astype(np.float32)
    out = _resize_axis(out, h_axis, size[0], mode)
    out = _resize_axis(out, w_axis, size[1], mode)
    if mode == "nearest":
        return out
    if arr.dtype.kind in "ui":
        info = np.iinfo(arr.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(arr.dtype)


class Resize:
    """Resize images. `size` (h, w), or an int: the shorter side becomes `size` and the
    aspect ratio is kept (torchvision's rule). Interpolation 'bilinear' (default; plain
    bilinear without antialiasing) or 'nearest'.

    NumPy input is HW/HWC (batches NHW/NHWC); tensor input is [..., H, W] as torchvision's
    tensor path."""

    def __init__(self, size, interpolation="bilinear"):
        if isinstance(size, numbers.Integral):
            size = int(size)
        elif isinstance(size, (list, tuple)) and len(size) in (1, 2) and \
                all(isinstance(s, numbers.Integral) for s in size):
            size = tuple(int(s) for s in size) * (2 if len(size) == 1 else 1)
        else:
            raise TypeError(f"Resize: size must be an int or a (h, w) pair, got {size!r}")
        if min(size if isinstance(size, tuple) else (size,)) <= 0:
            raise ValueError(f"Resize: sizes must be positive, got {size!r}")
        mode = str(interpolation).lower().rsplit(".", 1)[-1]
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"Resize: interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.size, self.interpolation = size, mode

    def _target(self, h, w):
        if isinstance(self.size, tuple):
            return self.size
        short, long_ = (h, w) if h <= w else (w, h)
        new_long = int(self.size * long_ / short)
        return (self.size, new_long) if h <= w else (new_long, self.size)

    def _apply(self, img, single_ndims, name):
        arr = _as_array(img, name)
        if isinstance(img, Tensor):
            if arr.ndim < 2:
                raise ValueError(f"{name}: expected a tensor [..., H, W], got {_describe(img)}")
            axes = (arr.ndim - 2, arr.ndim - 1)
        else:
            if arr.ndim not in single_ndims:
                layouts = "HW or HWC" if single_ndims == (2, 3) else "NHW or NHWC"
                raise ValueError(f"{name}: expected an array {layouts}, got {_describe(img)}")
            axes = (0, 1) if single_ndims == (2, 3) else (1, 2)
        if arr.dtype.kind not in "uif":
            raise TypeError(f"{name}: cannot resize pixels of dtype {arr.dtype}")
        size = self._target(arr.shape[axes[0]], arr.shape[axes[1]])
        out = resize_array(arr, size, axes, self.interpolation)
        return Tensor._wrap(out) if isinstance(img, Tensor) else out

    def __call__(self, img):
        return self._apply(img, (2, 3), "Resize")

    def batch(self, imgs):
        return self._apply(imgs, (3, 4), "Resize.batch")

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation})"
