"""Every op against PyTorch, one named test per op (tinygrad's test_ops): forward and
input gradients in float32 and float64, broadcasting, and errors of the same kind as
PyTorch's with a message that names the op."""
import re

import numpy as np
import pytest

import chainrule as cr
from helpers import compare, torch, requires_torch

pytestmark = requires_torch
DTYPES = [np.float32, np.float64]
BCAST = [((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (5, 2)), ((), (2, 3))]


def helper_test_op(shapes, cr_fn, torch_fn=None, positive=False, arrays=None):
    """Forward and input gradients of `cr_fn` against `torch_fn` (the same function when
    omitted), in each of DTYPES."""
    for dtype in DTYPES:
        data = None if arrays is None else [np.asarray(a, dtype) for a in arrays]
        try:
            compare(cr_fn, torch_fn or cr_fn, shapes, dtype, positive=positive, arrays=data)
        except AssertionError as err:
            raise AssertionError(f"{np.dtype(dtype).name}: {err}") from None


def helper_test_broadcasted(fn, positive=False):
    for shapes in BCAST:
        helper_test_op(list(shapes), lambda a, b: fn(cr, a, b), lambda a, b: fn(torch, a, b),
                       positive=positive)
        helper_test_op(list(shapes[::-1]), lambda a, b: fn(cr, a, b),
                       lambda a, b: fn(torch, a, b), positive=positive)


def helper_test_exception(fn, names):
    """`fn(module)` fails in chainrule with PyTorch's exception type, and chainrule's
    message matches `names` (the op and what was wrong)."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(cr)
    assert type(got.value) is type(expected.value), (got.value, expected.value)
    assert re.search(names, str(got.value)), str(got.value)


# ---- binary ------------------------------------------------------------------------------
def test_add():
    helper_test_op([(3, 4), (3, 4)], lambda a, b: a + b)


def test_broadcasted_add():
    helper_test_broadcasted(lambda m, a, b: a + b)


def test_sub():
    helper_test_op([(3, 4), (3, 4)], lambda a, b: a - b)


def test_broadcasted_sub():
    helper_test_broadcasted(lambda m, a, b: a - b)


def test_mul():
    helper_test_op([(3, 4), (3, 4)], lambda a, b: a * b)


def test_broadcasted_mul():
    helper_test_broadcasted(lambda m, a, b: a * b)


def test_div():
    helper_test_op([(3, 4), (3, 4)], lambda a, b: a / b)


def test_broadcasted_div():
    helper_test_broadcasted(lambda m, a, b: a / b)


def test_pow():
    helper_test_op([(3, 4), (3, 4)], lambda a, b: a ** b, positive=True)


def test_broadcasted_pow():
    helper_test_broadcasted(lambda m, a, b: a ** b, positive=True)


def test_maximum():
    helper_test_op([(3, 4), (3, 4)], cr.maximum, torch.maximum)


def test_broadcasted_maximum():
    helper_test_broadcasted(lambda m, a, b: m.maximum(a, b))


def test_minimum():
    helper_test_op([(3, 4), (3, 4)], cr.minimum, torch.minimum)


def test_broadcasted_minimum():
    helper_test_broadcasted(lambda m, a, b: m.minimum(a, b))


def test_scalar_minus_tensor():
    helper_test_broadcasted(lambda m, a, b: 2.5 - a * b)


def test_scalar_divided_by_tensor():
    helper_test_broadcasted(lambda m, a, b: 1.5 / (a * a + b * b + 1))


def test_add_not_broadcastable():
    helper_test_exception(lambda m: m.ones(3, 4) + m.ones(5), r"add: shapes \(3, 4\) and \(5,\)")


# ---- unary -------------------------------------------------------------------------------
def helper_test_unary(name, positive=False):
    helper_test_op([(3, 5)], getattr(cr, name), getattr(torch, name), positive=positive)


def test_exp():
    helper_test_unary("exp")


def test_log():
    helper_test_unary("log", positive=True)


def test_log1p():
    helper_test_unary("log1p", positive=True)


def test_log2():
    helper_test_unary("log2", positive=True)


def test_sqrt():
    helper_test_unary("sqrt", positive=True)


def test_rsqrt():
    helper_test_unary("rsqrt", positive=True)


def test_sin():
    helper_test_unary("sin")


def test_cos():
    helper_test_unary("cos")


def test_tanh():
    helper_test_unary("tanh")


def test_sigmoid():
    helper_test_unary("sigmoid")


def test_relu():
    helper_test_unary("relu")


def test_abs():
    helper_test_unary("abs")


def test_neg():
    helper_test_unary("neg")


def test_square():
    helper_test_unary("square")


def test_clamp():
    helper_test_op([(4, 5)], lambda x: cr.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7))


def test_clamp_min_only():
    helper_test_op([(4, 5)], lambda x: x.clamp(min=0.1))


def test_where():
    helper_test_op([(4, 5), (5,)], lambda x, y: cr.where(x > y, x, y * 2),
                   lambda x, y: torch.where(x > y, x, y * 2))


def test_where_needs_a_bool_condition():
    helper_test_exception(lambda m: m.where(m.ones(2), m.ones(2), m.ones(2)),
                          r"where: condition must be a bool tensor, got float32")


# ---- reductions --------------------------------------------------------------------------
def helper_test_reduction(name, **kw):
    helper_test_op([(3, 4, 5)], lambda x: getattr(cr, name)(x, **kw),
                   lambda x: getattr(torch, name)(x, **kw))


def test_sum():
    helper_test_reduction("sum")


def test_sum_dim():
    helper_test_reduction("sum", dim=1)


def test_sum_dims_keepdim():
    helper_test_reduction("sum", dim=(0, 2), keepdim=True)


def test_sum_dim_out_of_range():
    helper_test_exception(lambda m: m.ones(2, 3).sum(3), r"Dimension out of range.*got 3")


def test_mean():
    helper_test_reduction("mean")


def test_mean_last_dim():
    helper_test_reduction("mean", dim=-1)


def test_mean_dim_keepdim():
    helper_test_reduction("mean", dim=0, keepdim=True)


def test_prod():
    helper_test_reduction("prod")


def test_prod_dim():
    helper_test_reduction("prod", dim=1)


def test_var():
    helper_test_reduction("var")


def test_var_dim():
    helper_test_reduction("var", dim=1)


def test_std_dim_keepdim():
    helper_test_reduction("std", dim=0, keepdim=True)


def test_amax():
    helper_test_reduction("amax", dim=1)


def test_amin_dims():
    helper_test_reduction("amin", dim=(0, 1))


def test_max():
    helper_test_reduction("max")


def test_max_of_empty_tensor():
    helper_test_exception(lambda m: m.ones(0).max(), r"max\(\): .*non-empty")


def test_min():
    helper_test_reduction("min")


def test_logsumexp():
    helper_test_reduction("logsumexp", dim=1)


def test_softmax():
    helper_test_reduction("softmax", dim=1)


def test_softmax_dim_out_of_range():
    helper_test_exception(lambda m: m.softmax(m.ones(2, 3), 2), r"Dimension out of range.*got 2")


def test_log_softmax():
    helper_test_reduction("log_softmax", dim=-1)


def test_norm():
    helper_test_reduction("norm")


def test_norm_dim():
    helper_test_reduction("norm", dim=1)


def test_norm_p1():
    helper_test_reduction("norm", p=1)


def test_cumsum():
    helper_test_reduction("cumsum", dim=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_with_dim_returns_values_and_indices(dtype):
    cx, tx = compare(lambda x: cr.max(x, 1).values * 2, lambda x: torch.max(x, 1).values * 2,
                     [(4, 6)], dtype)
    assert np.array_equal(cr.max(cx[0], 1).indices.numpy(), torch.max(tx[0], 1).indices.numpy())
    assert np.array_equal(cr.argmin(cx[0], dim=0).numpy(), torch.argmin(tx[0], dim=0).numpy())
    compare(lambda x: x.min(dim=0, keepdim=True)[0], lambda x: x.min(dim=0, keepdim=True)[0],
            [(4, 6)], dtype)


def test_max_ties_split_gradient_like_torch():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    compare(lambda x: x.max(), lambda x: x.max(), None, arrays=[a])
    compare(lambda x, y: cr.maximum(x, y), lambda x, y: torch.maximum(x, y), None,
            arrays=[a, np.array([3.0, 2.0, 0.0])])


# ---- products ----------------------------------------------------------------------------
def test_matmul():
    helper_test_op([(3, 4), (4, 5)], lambda a, b: a @ b)


def test_matmul_batch_by_matrix():
    helper_test_op([(2, 3, 4), (4, 5)], lambda a, b: a @ b)


def test_matmul_batched():
    helper_test_op([(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b)


def test_broadcasted_matmul():
    helper_test_op([(1, 3, 4), (2, 4, 2)], lambda a, b: a @ b)


def test_matmul_vector_by_matrix():
    helper_test_op([(4,), (4, 3)], lambda a, b: a @ b)


def test_matmul_matrix_by_vector():
    helper_test_op([(3, 4), (4,)], lambda a, b: a @ b)


def test_matmul_vector_by_vector():
    helper_test_op([(4,), (4,)], lambda a, b: a @ b)


def test_matmul_inner_sizes_differ():
    helper_test_exception(lambda m: m.ones(3, 4) @ m.ones(5, 2), r"matmul: .*4 and 5 differ")


def test_mm_needs_matrices():
    helper_test_exception(lambda m: m.mm(m.ones(3), m.ones(3)), r"mm: expected 2-D")


def test_bmm_needs_batches():
    helper_test_exception(lambda m: m.bmm(m.ones(2, 3), m.ones(3, 2)), r"bmm: expected 3-D")


def test_dot_sizes_differ():
    helper_test_exception(lambda m: m.dot(m.ones(3), m.ones(4)), r"dot: .*\(3,\) and \(4,\)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_mm_bmm_dot(dtype):
    compare(lambda x, w, b: cr.ops.linalg.linear(x, w, b),
            lambda x, w, b: torch.nn.functional.linear(x, w, b), [(6, 4), (3, 4), (3,)], dtype)
    compare(lambda x, w, b: cr.ops.linalg.linear(x, w, b),
            lambda x, w, b: torch.nn.functional.linear(x, w, b), [(2, 6, 4), (3, 4), (3,)], dtype)
    compare(cr.mm, torch.mm, [(3, 4), (4, 2)], dtype)
    compare(cr.bmm, torch.bmm, [(2, 3, 4), (2, 4, 2)], dtype)
    compare(cr.dot, torch.dot, [(5,), (5,)], dtype)
    compare(cr.outer, torch.outer, [(3,), (4,)], dtype)


# ---- shape ops ---------------------------------------------------------------------------
def helper_test_shape_op(fn):
    helper_test_op([(2, 3, 4)], lambda x: fn(cr, x), lambda x: fn(torch, x))


def test_reshape():
    helper_test_shape_op(lambda m, x: x.reshape(4, 6))


def test_view_inferred_size():
    helper_test_shape_op(lambda m, x: x.view(-1, 3))


def test_flatten():
    helper_test_shape_op(lambda m, x: x.flatten())


def test_flatten_from_dim():
    helper_test_shape_op(lambda m, x: x.flatten(1))


def test_unsqueeze_squeeze():
    helper_test_shape_op(lambda m, x: x.unsqueeze(1).squeeze())


def test_transpose():
    helper_test_shape_op(lambda m, x: x.transpose(0, 2))


def test_permute():
    helper_test_shape_op(lambda m, x: x.permute(2, 0, 1))


def test_matrix_transpose_mT():
    helper_test_shape_op(lambda m, x: x.mT)


def test_expand():
    helper_test_shape_op(lambda m, x: x[:, :1].expand(2, 3, 4))


def test_expand_new_leading_dim():
    helper_test_shape_op(lambda m, x: x.unsqueeze(0).expand(5, -1, -1, -1))


def test_cat():
    helper_test_shape_op(lambda m, x: m.cat([x, x * 2], dim=1))


def test_stack():
    helper_test_shape_op(lambda m, x: m.stack([x, x + 1], dim=2))


def test_split_then_cat_reversed():
    helper_test_shape_op(lambda m, x: m.cat(x.split(1, dim=2)[::-1], dim=2))


def test_chunk_then_cat():
    helper_test_shape_op(lambda m, x: m.cat(x.chunk(2, dim=-1), dim=0))


def test_clone():
    helper_test_shape_op(lambda m, x: x.clone())


def test_flip():
    helper_test_shape_op(lambda m, x: x.flip(1))


def test_reshape_to_a_different_size():
    helper_test_exception(lambda m: m.ones(2, 3).reshape(4, 2),
                          r"shape '\[4, 2\]' is invalid for input of size 6")


def test_view_with_two_inferred_sizes():
    helper_test_exception(lambda m: m.ones(2, 3).view(-1, -1),
                          r"shape '\[-1, -1\]' is invalid")


def test_transpose_dim_out_of_range():
    helper_test_exception(lambda m: m.ones(2, 3).transpose(0, 2),
                          r"Dimension out of range.*got 2")


def test_permute_with_too_few_dims():
    helper_test_exception(lambda m: m.ones(2, 3).permute(0),
                          r"permute: dims \[0\]")


def test_expand_non_singleton():
    helper_test_exception(lambda m: m.ones(2, 3).expand(4, 3),
                          r"expand: the expanded size 4 must match the existing size 2")


def test_cat_sizes_differ():
    helper_test_exception(lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)], 0),
                          r"cat: sizes of tensors must match")


def test_stack_sizes_differ():
    helper_test_exception(lambda m: m.stack([m.ones(2), m.ones(3)]),
                          r"stack expects each tensor to be equal size")


def test_flip_dim_out_of_range():
    helper_test_exception(lambda m: m.ones(2).flip(1),
                          r"Dimension out of range.*got 1")


def test_chunk_into_zero_pieces():
    helper_test_exception(lambda m: m.ones(4).chunk(0),
                          r"chunk: chunks must be positive, got 0")


def test_split_sections_that_miss_rows():
    helper_test_exception(lambda m: m.ones(4).split([1, 2]),
                          r"split: sections \[1, 2\] sum to 3")


# ---- indexing ----------------------------------------------------------------------------
def test_index_int():
    helper_test_op([(2, 3, 4)], lambda x: x[1])


def test_index_slice():
    helper_test_op([(2, 3, 4)], lambda x: x[:, 1:3])


def test_index_ellipsis_step():
    helper_test_op([(2, 3, 4)], lambda x: x[..., ::2])


def test_index_none_and_int():
    helper_test_op([(2, 3, 4)], lambda x: x[None, 0, :, None])


def test_index_list():
    helper_test_op([(2, 3, 4)], lambda x: x[[0, 1, 0]])


def test_index_list_in_second_dim():
    helper_test_op([(2, 3, 4)], lambda x: x[:, [2, 2, 0]])


def test_index_bool_mask():
    helper_test_op([(2, 3, 4)], lambda x: x[x > 0])


def test_index_two_lists():
    helper_test_op([(2, 3, 4)], lambda x: x[[0, 1], [1, 2]])


def test_index_negative_ints():
    helper_test_op([(2, 3, 4)], lambda x: x[-1, -1, -1])


def test_index_out_of_range():
    helper_test_exception(lambda m: m.ones(2, 3)[5],
                          r"index 5 is out of range for a tensor of shape \(2, 3\)")


def test_gather_needs_an_integer_index():
    helper_test_exception(lambda m: m.ones(2, 3).gather(1, m.ones(2, 1)),
                          r"gather: expected an int64 index, got float32")


def test_masked_fill_mask_not_broadcastable():
    helper_test_exception(lambda m: m.ones(2, 3).masked_fill(m.ones(4, dtype=m.bool), 0.0),
                          r"masked_fill: mask of shape \(4,\)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_tensor_repeated_indices_accumulate(dtype):
    compare(lambda x: x[cr.tensor([0, 0, 2, 0])], lambda x: x[torch.tensor([0, 0, 2, 0])],
            [(3, 2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_gather_setitem(dtype):
    compare(lambda x: x.masked_fill(x > 0.5, -1.0), lambda x: x.masked_fill(x > 0.5, -1.0), [(3, 4)], dtype)
    idx = np.array([[0, 2], [1, 1], [3, 0]])
    compare(lambda x: x.gather(1, cr.tensor(idx)), lambda x: x.gather(1, torch.tensor(idx)), [(3, 4)], dtype)

    def put(m):
        def f(x, v):
            y = x * 1
            y[1:, 2] = v
            return y
        return f
    compare(put(cr), put(torch), [(3, 4), (2,)], dtype)


def test_var_std_unbiased_options():
    for kw in ({"unbiased": False}, {"correction": 0}, {"dim": 1, "unbiased": True}):
        compare(lambda x: x.var(**kw), lambda x: x.var(**kw), [(4, 5)])
        compare(lambda x: x.std(**kw), lambda x: x.std(**kw), [(4, 5)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_composite_graph_with_fan_out(dtype):
    def f(m):
        def g(x, w, b):
            h = (x @ w + b).relu()
            s = m.sigmoid(h) * h.tanh() + h.exp().log1p()
            t = s / (1 + s.abs()) - h.mean(dim=0, keepdim=True)
            return (t * t).sum(1) + m.log_softmax(t, dim=1).max(1).values
        return g
    compare(f(cr), f(torch), [(5, 4), (4, 3), (3,)], dtype)


def test_softmax_log_softmax_stable_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 0.0]], dtype=np.float32)
    compare(lambda t: cr.softmax(t, 1), lambda t: torch.softmax(t, 1), None, np.float32, arrays=[x])
    compare(lambda t: cr.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), None, np.float32, arrays=[x])
