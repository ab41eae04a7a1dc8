"""nn.functional.unfold (im2col) and fold (col2im): an image's sliding blocks as columns
of (N, C·KH·KW, L) and back. Each is the other's adjoint, so each one's gradient rule is
the other op."""
import numpy as np

from ..autograd.function import Op
from ..tensors.tensor import Tensor
from ..tensors.type_info import SCALAR_NAMES
from .conv_args import check_tensor
from .conv_kernels import col2im, im2col, out_spatial
from .core import apply


def _unfold(x, khw, geom, out_hw, x_hw=None):
    if x.ndim == 3:  # unbatched (C, H, W)
        return _unfold(x[None], khw, geom, out_hw)[0]
    cols = im2col(x, khw, geom, out_hw)
    return cols.copy() if np.may_share_memory(cols, x) else cols  # a 1x1 block is a view


def _fold(cols, khw, geom, x_hw):
    if cols.ndim == 2:  # unbatched (C·KH·KW, L)
        return _fold(cols[None], khw, geom, x_hw)[0]
    n, rows, length = cols.shape
    c = rows // (khw[0] * khw[1])
    blocks = cols.reshape(n, c, *khw, *out_spatial(x_hw, khw, geom))
    return col2im(blocks, (n, c, *x_hw), khw, geom)


def _to_unfold(g, khw, geom, x_hw):
    out_hw = out_spatial(x_hw, khw, geom)
    return apply(IM2COL, (g,), (khw, geom, out_hw, x_hw)) if isinstance(g, Tensor) else \
        _unfold(g, khw, geom, out_hw)


def _to_fold(g, khw, geom, x_hw):
    return apply(COL2IM, (g,), (khw, geom, x_hw)) if isinstance(g, Tensor) else \
        _fold(g, khw, geom, x_hw)


# the rules read only the gradient and the sizes: no input is kept for backward
IM2COL = Op("Im2ColBackward0", _unfold,
            lambda g, o, x, khw, geom, out_hw, x_hw: _to_fold(g, khw, geom, x_hw),
            saves_inputs=False)
COL2IM = Op("Col2ImBackward0", _fold,
            lambda g, o, cols, khw, geom, x_hw: _to_unfold(g, khw, geom, x_hw),
            saves_inputs=False)


def _pair(value, name, opname):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        if len(value) != 2:
            raise RuntimeError(f"{opname}: It is expected {name} equals to 2, but got size "
                               f"{len(value)}")
        return tuple(value)
    raise TypeError(f"{opname}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _blocks_args(kernel_size, dilation, padding, stride, opname):
    """(kernel, geometry) after PyTorch's checks of the four block arguments."""
    k = _pair(kernel_size, "kernel_size", opname)
    d = _pair(dilation, "dilation", opname)
    p = _pair(padding, "padding", opname)
    s = _pair(stride, "stride", opname)
    for what, (a, b), ok in (("kernel size", k, min(k) > 0), ("stride", s, min(s) > 0),
                             ("dilation", d, min(d) > 0)):
        if not ok:
            raise RuntimeError(f"{opname}: {what} should be greater than zero, but got "
                               f"{what.split()[0]}_height: {a} {what.split()[0]}_width: {b}")
    if min(p) < 0:
        raise RuntimeError(f"{opname}: padding should be non-negative, but got pad_height: "
                           f"{p[0]} pad_width: {p[1]}")
    return k, (s[0], s[1], p[0], p[0], p[1], p[1], d[0], d[1], 1)


def _blocks_text(k, geom):
    return (f"kernel_size={k}, dilation={geom[6:8]}, padding={(geom[2], geom[4])}, "
            f"stride={geom[:2]}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an (N, C, H, W) or (C, H, W) image as columns (N, C·KH·KW, L)."""
    check_tensor(input, "input", 1, "unfold")
    k, geom = _blocks_args(kernel_size, dilation, padding, stride, "unfold")
    if input.ndim < 3:
        raise IndexError(f"unfold: expected a 3-D (unbatched) or 4-D input, got size "
                         f"{list(input.shape)} (Dimension out of range)")
    if input.ndim > 4 or 0 in input.shape[-3:]:
        raise RuntimeError("unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch "
                           "size and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    if input._data.dtype.kind in "iuc":
        raise NotImplementedError(f"unfold: not implemented for "
                                  f"'{SCALAR_NAMES[input._data.dtype.name]}'")
    out_hw = out_spatial(input.shape[-2:], k, geom)
    if min(out_hw) < 1:
        raise RuntimeError(f"unfold: Given input with spatial size {tuple(input.shape[-2:])}, "
                           f"{_blocks_text(k, geom)}, calculated shape of the array of sliding "
                           f"blocks as {out_hw}, but its components must be at least one.")
    return apply(IM2COL, (input,), (k, geom, out_hw, tuple(input.shape[-2:])))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C·KH·KW, L) summed back into an (N, C, H, W) image of output_size."""
    check_tensor(input, "input", 1, "fold")
    size = _pair(output_size, "output_size", "fold")
    k, geom = _blocks_args(kernel_size, dilation, padding, stride, "fold")
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("fold: Expected 2D or 3D (batch mode) tensor for input with possibly "
                           "0 batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"fold: not implemented for "
                                  f"'{SCALAR_NAMES[input._data.dtype.name]}'")
    rows, length = input.shape[-2:]
    if rows % (k[0] * k[1]):
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={rows} and "
                           f"kernel_size={k}.")
    blocks = out_spatial(size, k, geom)
    if min(blocks) < 1 or blocks[0] * blocks[1] != length:
        raise RuntimeError(f"fold: Given output_size={size}, {_blocks_text(k, geom)}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)="
                           f"{length}.")
    return apply(COL2IM, (input,), (k, geom, size))
