"""Pillow is optional (the `image` extra): imported only when an image file is read or
written, with an install hint when it is missing."""


def require_pillow(what):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow to read and write image files; install it with "
                          "`pip install chainrule[image]` (or `pip install pillow`)") from None
    return Image
