"""Channel-wise dropout (nn.functional.dropout1d / dropout2d): whole channels are zeroed
with probability p and the rest scaled by 1/(1-p), one draw per (sample, channel) from
chainrule's generator; the gradient is multiplied by the same mask."""
import warnings

import numpy as np

from .. import random as _random
from ..ops.core import apply1

__all__ = ["dropout1d", "dropout2d"]


def _channel_mask(x, batched, p):
    """A mask of shape (N, C, 1, ...) ((C, 1, ...) unbatched) broadcasting over x."""
    arr = x._data
    lead = 2 if batched else 1
    shape = arr.shape[:lead] + (1,) * (arr.ndim - lead)
    if p == 1:
        return np.zeros(shape, dtype=arr.dtype)
    kind = np.float32 if arr.dtype == np.float32 else np.float64
    keep = _random._rng(None).random(shape, dtype=kind) >= p
    mask = keep.astype(arr.dtype)
    mask *= arr.dtype.type(1.0 / (1.0 - p))
    return mask


def _feature_dropout(x, p, training, inplace, batched, fn):
    from .functional import DROPOUT, _check_p  # functional imports this module
    _check_p(p)
    if not training or p == 0:
        return x
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}: result type Float can't be cast to the desired output type "
                           f"{x.dtype} (dropout needs a floating-point input)")
    mask = _channel_mask(x, batched, p)
    if inplace:
        return x._inplace(lambda old: apply1(DROPOUT, old, mask), opname=f"{fn}_")
    return apply1(DROPOUT, x, mask)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input of shape {tuple(input.shape)}. Note that dropout1d exists "
                           "to provide channel-wise dropout on inputs with 1 spatial dimension, "
                           "a channel dimension, and an optional batch dimension (i.e. 2D or "
                           "3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                           f"input, got input of shape {tuple(input.shape)}")
    return _feature_dropout(input, p, training, inplace, True, "dropout2d")
