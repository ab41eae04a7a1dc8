"""nn.functional.scaled_dot_product_attention: softmax(q kᵀ · scale + mask) v, composed of
chainrule's differentiable ops (the products through matmul), so gradients of every
order follow. As PyTorch: a bool mask marks the keys a query may attend to, a float mask
is added; is_causal lets query i attend to keys 0..i; a query with no key to attend to
gets zeros (not NaN); enable_gqa shares each key/value head among a group of query heads."""
import math

import numpy as np

from ..ops.linalg import matmul
from ..ops.softmax import softmax
from ..tensors.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


def _check(query, key, value, attn_mask, is_causal):
    q, k, v = (t._data for t in (query, key, value))
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to be "
                           f"at least 2-D, got {q.ndim}-D, {k.ndim}-D and {v.ndim}-D")
    if not q.dtype == k.dtype == v.dtype or q.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value of one "
                           f"floating dtype, got {query.dtype}, {key.dtype} and {value.dtype}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {tuple(q.shape)}, key "
                           f"{tuple(k.shape)} and value {tuple(v.shape)} must share the "
                           "embedding size (query, key) and the sequence length (key, value)")
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("scaled_dot_product_attention: an explicit attn_mask should not "
                               "be set when is_causal=True")
        kind = attn_mask._data.dtype
        if not (kind == np.bool_ or kind.kind == "f"):
            raise RuntimeError(f"scaled_dot_product_attention: expected attn_mask of dtype bool "
                               f"or float, got {attn_mask.dtype}")


def _grouped(query, key, value):
    """enable_gqa: each key/value head serves `query heads / key heads` query heads."""
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError(f"scaled_dot_product_attention: the number of heads in key ({hk}) "
                           f"and value ({hv}) must divide the number in query ({hq})")
    return key.repeat_interleave(hq // hk, dim=-3), value.repeat_interleave(hq // hv, dim=-3)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    _check(query, key, value, attn_mask, is_causal)
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        key, value = _grouped(query, key, value)
    n_query, n_key = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = Tensor._wrap(np.tril(np.ones((n_query, n_key), dtype=bool)))
    attending = None
    if attn_mask is not None and attn_mask._data.dtype == np.bool_:
        # a row with no key left keeps its scores and gets zero weights afterwards, so
        # neither the output nor the gradient meets the NaN of softmax over -inf only
        attending = attn_mask.any(-1, keepdim=True)
        scores = scores.masked_fill(attending & ~attn_mask, -math.inf)
    elif attn_mask is not None:
        scores = scores + attn_mask
    weights = softmax(scores, -1)
    if attending is not None:
        weights = weights.masked_fill(~attending, 0.0)
    if dropout_p > 0.0:
        from .functional import dropout  # functional imports this module
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)
