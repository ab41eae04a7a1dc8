"""nn.functional.scaled_dot_product_attention against PyTorch: outputs and the gradients
of query, key and value (masks, causal, grouped heads, scale, float16/float64, empty
batches), dropout's scaling, and the exceptions PyTorch raises for bad input."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

SHAPES = [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]


def _attend(m, shapes, dtype="float64", mask=None, seed=0, **kw):
    rng = np.random.default_rng(seed)
    inputs = [m.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in shapes]
    if mask is not None:
        kw["attn_mask"] = m.tensor(mask)
    out = m.nn.functional.scaled_dot_product_attention(*inputs, **kw)
    weights = rng.standard_normal(tuple(out.shape)).astype(dtype)
    (out * m.tensor(weights)).sum().backward()
    return [out.detach().numpy().astype(np.float64)] + [
        t.grad.numpy().astype(np.float64) for t in inputs]


def _assert_as_torch(shapes, dtype="float64", **kw):
    tol = {"float64": 1e-12, "float32": 2e-5, "float16": 2e-2}[dtype]
    for got, want in zip(_attend(cr, shapes, dtype, **kw), _attend(torch, shapes, dtype, **kw)):
        scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_attention_output_and_gradients_match_torch(dtype):
    _assert_as_torch(SHAPES, dtype)


def test_causal_attention_matches_torch_with_more_keys_than_queries():
    _assert_as_torch(SHAPES, is_causal=True)
    _assert_as_torch([(1, 6, 5), (1, 4, 5), (1, 4, 3)], is_causal=True)


@pytest.mark.parametrize("kind", ["bool", "float", "bool_rows_empty", "broadcast"])
def test_masked_attention_matches_torch(kind):
    rng = np.random.default_rng(1)
    mask = {"bool": rng.random((4, 6)) < 0.5,
            "float": rng.standard_normal((4, 6)),
            "bool_rows_empty": np.array([[False] * 6, [True] * 6] * 2),  # zeros, not NaN
            "broadcast": rng.random((2, 1, 4, 1)) < 0.7}[kind]
    _assert_as_torch(SHAPES, mask=mask)


def test_grouped_query_attention_shares_key_and_value_heads_as_torch():
    _assert_as_torch([(2, 6, 4, 5), (2, 2, 6, 5), (2, 3, 6, 7)], enable_gqa=True)


def test_attention_of_matrices_with_a_scale_and_of_an_empty_batch_match_torch():
    _assert_as_torch([(4, 5), (6, 5), (6, 7)], scale=0.3)
    _assert_as_torch([(0, 3, 4, 5), (0, 3, 6, 5), (0, 3, 6, 7)])


def test_attention_dropout_zeroes_weights_and_rescales_the_rest():
    q = cr.ones(1, 200, 5)
    out = cr.nn.functional.scaled_dot_product_attention(q, q, cr.ones(1, 200, 3), dropout_p=0.5)
    mean = float(out.mean())
    assert 0.8 < mean < 1.2  # uniform weights, half dropped and doubled: about 1
    dropped = cr.nn.functional.scaled_dot_product_attention(q, q, cr.ones(1, 200, 3),
                                                           dropout_p=1.0)
    assert float(dropped.abs().sum()) == 0.0


@pytest.mark.parametrize("case", [
    lambda m, t: m.nn.functional.scaled_dot_product_attention(t(2, 31, 4, 5), t(2, 8, 6, 5),
                                                              t(2, 8, 6, 5)),
    lambda m, t: m.nn.functional.scaled_dot_product_attention(t(2, 6, 4, 5), t(2, 4, 6, 5),
                                                              t(2, 4, 6, 5), enable_gqa=True),
    lambda m, t: m.nn.functional.scaled_dot_product_attention(
        t(2, 3, 4, 5), t(2, 3, 6, 5), t(2, 3, 6, 5), is_causal=True,
        attn_mask=m.ones(1, 4, 6, dtype=m.bool)),  # documented; PyTorch's fast path ignores
    # some masks instead (a 2-D one): chainrule always refuses
    lambda m, t: m.nn.functional.scaled_dot_product_attention(
        t(2, 3, 4, 5), t(2, 3, 6, 5), t(2, 3, 6, 5), attn_mask=m.ones(4, 6, dtype=m.int64)),
    lambda m, t: m.nn.functional.scaled_dot_product_attention(t(4, 5).double(), t(6, 5),
                                                              t(6, 5)),
    lambda m, t: m.nn.functional.scaled_dot_product_attention(t(5), t(6, 5), t(6, 5)),
    lambda m, t: m.nn.functional.scaled_dot_product_attention(t(4, 5), t(6, 3), t(6, 5)),
])
def test_attention_refuses_bad_input_as_torch(case):
    with pytest.raises(Exception) as want:
        case(torch, torch.randn)
    with pytest.raises(want.type):
        case(cr, cr.randn)
