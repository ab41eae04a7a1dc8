"""torchvision.io.read_image: an image file as a uint8 tensor of shape (C, H, W).
Needs Pillow, the optional `image` extra."""
import enum

import numpy as np

from ..tensors.tensor import Tensor
from ._pillow import require_pillow


class ImageReadMode(enum.Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4  # alias, as in torchvision


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
              ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def _unchanged(img):
    """Keep the file's channels: grey, grey+alpha, RGB or RGBA; palettes are expanded."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode == "PA":
        return img.convert("RGBA")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raise RuntimeError(f"read_image: {img.mode} images (more than 8 bits per channel) are "
                           "not supported; chainrule reads 8-bit images as uint8")
    return img.convert("RGB")  # CMYK, YCbCr, ...


def read_image(path, mode=ImageReadMode.UNCHANGED):
    """The image at `path` as a uint8 tensor (C, H, W); `mode` converts it to grey, grey
    with alpha, RGB or RGBA (ImageReadMode), UNCHANGED keeps the file's channels."""
    if isinstance(mode, str):
        try:
            mode = ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"read_image: unknown mode {mode!r}; expected one of "
                             f"{[m.name for m in ImageReadMode]}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"read_image: mode must be an ImageReadMode, got {type(mode).__name__}")
    Image = require_pillow("read_image")
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise FileNotFoundError(f"read_image: no such file: {path!r}") from None
    except OSError as err:  # Pillow's UnidentifiedImageError is an OSError
        raise RuntimeError(f"read_image: could not decode {path!r} as an image: {err}") from None
    img = _unchanged(img) if mode is ImageReadMode.UNCHANGED else img.convert(_PIL_MODES[mode])
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return Tensor._wrap(np.ascontiguousarray(arr.transpose(2, 0, 1)))
