"""Second-order case of scaled_dot_product_attention (a bool mask, one row masked out)."""


def _attention(M, F, L, q, k, v):
    mask = M.tensor([[True, False, True], [True, True, True], [False, False, False],
                     [True, True, False]])
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask) * q[..., :2]


CASES = {"scaled_dot_product_attention": (
    _attention, [("any", (2, 4, 3)), ("any", (2, 3, 3)), ("any", (2, 3, 2))])}
