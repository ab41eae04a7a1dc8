"""torchvision.utils: `make_grid` tiles a batch of images into one image, `save_image`
writes a tensor (or a batch, as a grid) to an image file. Saving needs Pillow, the
optional `image` extra."""
import math

import numpy as np

from ..tensors.creation import full
from ..ops.shape import cat, stack
from ..tensors.tensor import Tensor
from ._pillow import require_pillow


def _as_batch(tensor):
    """A (B, C, H, W) tensor from a tensor, a list of tensors, or one image."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise RuntimeError(f"make_grid: all images must have the same shape, got "
                               f"{sorted(shapes)}")
        tensor = stack(list(tensor))
    elif not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: tensor or list of tensors expected, got "
                        f"{type(tensor).__name__}")
    if tensor.ndim == 2:  # one H×W image
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:  # one C×H×W image
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or "
                         f"(H, W), got {tensor.ndim} dimensions")
    if tensor.shape[1] == 1:  # single-channel images are shown as grey RGB
        tensor = cat([tensor, tensor, tensor], 1)
    return tensor


def _rescale(img, value_range):
    if value_range is not None:
        low, high = value_range
    else:
        low, high = float(img.min()), float(img.max())
    return (img.clamp(low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Images in rows of `nrow`, `padding` pixels of `pad_value` between and around them.
    With `normalize`, values are mapped to [0, 1] using `value_range` (or the min and max,
    per image with `scale_each`). A batch of one image is returned without padding.
    Built from tensor operations, so gradients flow back to the images."""
    batch = _as_batch(tensor)
    if value_range is not None and (not isinstance(value_range, tuple) or len(value_range) != 2):
        raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified")
    if normalize:
        if not batch.is_floating_point():
            batch = batch.float()
        if scale_each:
            batch = stack([_rescale(img, value_range) for img in batch.unbind(0)])
        else:
            batch = _rescale(batch, value_range)
    b, c, h, w = batch.shape
    if b == 1:
        return batch[0]
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    cell_h, cell_w = h + padding, w + padding
    grid = full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value,
                dtype=batch.dtype)
    for k in range(b):
        y, x = divmod(k, cols)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = batch[k]
    return grid


def save_image(tensor, fp, format=None, **kwargs):
    """Write `tensor` (values in [0, 1]; a batch becomes a grid, see make_grid's keywords)
    to `fp`, a path or a binary file object; `format` overrides the file name's extension."""
    Image = require_pillow("save_image")
    grid = make_grid(tensor, **kwargs).detach().numpy()
    dt = grid.dtype.type if grid.dtype.kind == "f" else np.float32
    # to 0..255 rounding half up in the image's own precision, as torchvision does
    pixels = np.clip(grid.astype(dt) * dt(255) + dt(0.5), 0, 255).astype(np.uint8)
    pixels = pixels.transpose(1, 2, 0)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    Image.fromarray(pixels).save(fp, format=format)
