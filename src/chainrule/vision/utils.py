"""torchvision.utils: `make_grid` tiles a batch of images into one image, `save_image`
writes a tensor (or a batch, as a grid) to an image file. Saving needs Pillow, the
optional `image` extra."""
import math

import numpy as np

from ..tensor import Tensor
from ._pillow import require_pillow


def _as_batch(tensor):
    """A (B, C, H, W) float array from a tensor, a list of tensors, or one image."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise RuntimeError(f"make_grid: all images must have the same shape, got "
                               f"{sorted(shapes)}")
        arr = np.stack([t._data for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = tensor._data
    else:
        raise TypeError(f"make_grid: tensor or list of tensors expected, got "
                        f"{type(tensor).__name__}")
    if arr.ndim == 2:  # one H×W image
        arr = arr[None]
    if arr.ndim == 3:  # one C×H×W image
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or "
                         f"(H, W), got {arr.ndim} dimensions")
    if arr.shape[1] == 1:  # single-channel images are shown as grey RGB
        arr = np.concatenate([arr, arr, arr], axis=1)
    return arr


def _rescale(img, value_range):
    low, high = value_range if value_range is not None else (img.min(), img.max())
    img = np.clip(img, low, high)
    return (img - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Images in rows of `nrow`, `padding` pixels of `pad_value` between and around them.
    With `normalize`, values are mapped to [0, 1] using `value_range` (or the min and max,
    per image with `scale_each`). A batch of one image is returned without padding."""
    arr = _as_batch(tensor)
    if value_range is not None and (not isinstance(value_range, tuple) or len(value_range) != 2):
        raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified")
    if normalize:
        arr = arr.astype(np.result_type(arr.dtype, np.float32))
        if scale_each:
            arr = np.stack([_rescale(img, value_range) for img in arr])
        else:
            arr = _rescale(arr, value_range)
    b, c, h, w = arr.shape
    if b == 1:
        return Tensor._wrap(np.array(arr[0]))
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value,
                   dtype=arr.dtype)
    for k in range(b):
        y, x = divmod(k, cols)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = arr[k]
    return Tensor._wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write `tensor` (values in [0, 1]; a batch becomes a grid, see make_grid's keywords)
    to `fp`, a path or a binary file object; `format` overrides the file name's extension."""
    Image = require_pillow("save_image")
    grid = make_grid(tensor, **kwargs)._data
    # to 0..255 rounding half up, as torchvision does
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    Image.fromarray(pixels).save(fp, format=format)
