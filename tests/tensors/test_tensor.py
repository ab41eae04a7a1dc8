"""Tensors: creation, dtypes and promotion, attributes, printing, memory semantics."""
import numpy as np
import pytest

import chainrule as cr
from helpers import torch, requires_torch


def test_creation_defaults_match_pytorch():
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([1.0, 2]).dtype == cr.float32
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor(np.array([1.0])).dtype == cr.float64
    assert cr.arange(3).dtype == cr.int64 and cr.arange(3.0).dtype == cr.float32
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((2, 3)).shape == (2, 3)
    assert cr.full((2,), 7).dtype == cr.int64 and cr.full((2,), 7.0).dtype == cr.float32
    assert cr.eye(3).numpy().trace() == 3
    assert cr.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert cr.zeros_like(cr.arange(3)).dtype == cr.int64
    assert cr.randn(size=(2, 2)).shape == (2, 2)
    assert cr.randint(0, 5, (3,)).dtype == cr.int64


def test_from_numpy_and_numpy_share_memory():
    a = np.zeros(3, dtype=np.float32)
    t = cr.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    t.numpy()[1] = 7
    assert a[1] == 7
    assert cr.tensor(a).numpy() is not a


def test_manual_seed_is_reproducible():
    cr.manual_seed(42)
    a = cr.randn(5)
    cr.manual_seed(42)
    assert cr.equal(a, cr.randn(5))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1, 2]) / m.tensor([2, 4]),
    lambda m: m.tensor([1, 2]) * 2.5,
    lambda m: m.tensor([1.0, 2.0]) * 2.5,
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64) + m.tensor([1.0]),
    lambda m: m.tensor([1.0, 2.0]) + m.tensor(1.0, dtype=m.float64),
    lambda m: m.tensor([1, 2]) + m.tensor(1.0, dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(5),
    lambda m: m.tensor([True, False]).sum(),
    lambda m: m.tensor([True]) + 1,
    lambda m: m.tensor([3, 4]) // 2,
    lambda m: m.tensor([3, 4]) % 2.5,
    lambda m: m.tensor([1, 2], dtype=m.uint8) + m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([1, 2]).float().mean(),
    lambda m: m.arange(5.0).exp().long(),
    lambda m: m.tensor([1, 2]).exp(),
    lambda m: 1 - m.tensor([1.0, 2.0], dtype=m.float16),
])
def test_promotion_like_pytorch(make):
    ours, theirs = make(cr), make(torch)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-3)


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.arange(12), lambda m: m.arange(3), lambda m: m.tensor([[1.0, 2.0]]),
    lambda m: m.tensor([0.1, 2, 300]), lambda m: m.tensor([1e-5, 1.0]), lambda m: m.tensor(3.5),
    lambda m: m.tensor([True, False]), lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([float("nan"), 1.5, float("inf")]), lambda m: m.arange(12.0).reshape(3, 4),
    lambda m: m.tensor([[-1.25, 3.0], [100.5, 0.0]]), lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.arange(30.0).reshape(3, 10) / 7,
])
def test_printing_like_pytorch(make):
    assert repr(make(cr)) == repr(make(torch)).replace("torch.", "chainrule.")


def test_printing_autograd_suffixes():
    x = cr.arange(4.0, requires_grad=True)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    assert repr(cr.dot(x, x)) == "tensor(14., grad_fn=<DotBackward0>)"
    assert f"{cr.tensor(3.5):f}" == "3.500000" and f"{cr.tensor([2.0]):.1f}" == "2.0"


def test_attributes():
    x = cr.arange(6.0).reshape(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.numel() == 6 and x.dim() == 2 and x.ndim == 2 and len(x) == 2
    assert x.T.shape == (3, 2) and x.is_leaf and x.grad_fn is None
    assert [r.tolist() for r in x] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert np.asarray(x).shape == (2, 3)
    assert bool(cr.tensor([1])) and not bool(cr.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    assert x.float().dtype == cr.float32 and x.double().dtype == cr.float64
    assert x.long().dtype == cr.int64 and x.int().dtype == cr.int32 and x.bool().dtype == cr.bool
    assert x.to(cr.float64).dtype == cr.float64 and x.type(cr.int64).dtype == cr.int64


def test_memory_semantics_of_seed_002():
    x = cr.arange(12.0).reshape(3, 4)
    y = cr.ones(3, 4)
    before = id(y)
    y = y + x
    assert id(y) != before
    z = cr.zeros_like(y)
    before = id(z)
    z[:] = x + y
    assert id(z) == before
    before = id(x)
    x += y
    assert id(x) == before
    for method, args in [("add_", (1,)), ("sub_", (1,)), ("mul_", (2,)), ("div_", (2,)),
                         ("zero_", ()), ("fill_", (3,)), ("normal_", ()), ("uniform_", ()),
                         ("clamp_", (0, 1)), ("copy_", (cr.ones(3, 4),))]:
        assert id(getattr(x, method)(*args)) == before


def test_views_share_storage_clone_copies():
    a = cr.arange(6.0)
    v = a.view(2, 3)
    v[0, 0] = 100
    assert a[0].item() == 100
    s = a[2:4]
    s += 1
    assert a[2].item() == 3
    c = a.clone()
    c[1] = -1
    assert a[1].item() == 1
    d = a.data
    d[5] = 9
    assert a[5].item() == 9


def test_view_of_impossible_shape_and_bad_dims():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 6"):
        cr.arange(6).view(4, 4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        cr.ones(2, 3).sum(dim=2)


def test_shape_errors_name_both_shapes_and_op():
    with pytest.raises(RuntimeError, match=r"matmul: \(2, 3\) @ \(4, 5\) — inner sizes 3 and 4 differ"):
        cr.ones(2, 3) @ cr.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(RuntimeError, match=r"tensor 1 has shape \(3, 2\)"):
        cr.cat([cr.ones(2, 3), cr.ones(3, 2)], dim=0)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="cannot make a tensor"):
        cr.tensor(["a", "b"])


def test_arrays_and_scalars_on_either_side():
    x = cr.tensor([1.0, 2.0])
    for r in (x + np.ones(2), np.ones(2) + x, 2 - x, x ** 2, 2 ** x, np.float32(2) * x):
        assert isinstance(r, cr.Tensor) and r.dtype == cr.float32 or r.dtype == cr.float64
    assert (np.ones(2, dtype=np.float32) * x).dtype == cr.float32


def test_split_chunk_stack_and_max_named_tuple():
    x = cr.arange(10)
    assert [t.tolist() for t in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(cr.chunk(x, 3)) == 3
    assert cr.stack([x, x]).shape == (2, 10)
    values, indices = cr.max(cr.tensor([[1, 5], [7, 2]]), 1)
    assert values.tolist() == [5, 7] and indices.tolist() == [1, 0]


def test_boolean_mask_and_integer_index_assignment():
    x = cr.arange(6.0)
    x[x > 3] = 0
    assert x.tolist() == [0, 1, 2, 3, 0, 0]
    x[[0, 1]] = cr.tensor([9.0, 8.0])
    assert x.tolist()[:2] == [9, 8]


def test_numpy_style_axis_keywords_and_range_index():
    a = cr.arange(6.0).reshape(2, 3)
    assert a.sum(axis=0).tolist() == [3.0, 5.0, 7.0]
    assert a.sum(axis=[0, 1]).item() == 15.0
    assert a.sum(axis=1, keepdims=True).shape == (2, 1)
    assert a.mean(axis=0).tolist() == [1.5, 2.5, 3.5]
    assert cr.argmax(a, axis=1).tolist() == [2, 2]
    assert a.max(axis=1).values.tolist() == [2.0, 5.0]
    assert a[range(2), [0, 2]].tolist() == [0.0, 5.0]


def test_copy_casts_to_destination_dtype():
    a = cr.zeros(3, dtype=cr.int64)
    a.copy_(cr.tensor([1.7, 2.2, -3.9]))
    assert a.dtype == cr.int64 and a.tolist() == [1, 2, -3]


def test_set_default_dtype_changes_promotion_of_python_floats():
    assert (cr.tensor([1, 2]) * 2.5).dtype == cr.float32
    cr.set_default_dtype(cr.float64)
    try:
        assert (cr.tensor([1, 2]) * 2.5).dtype == cr.float64
        assert cr.tensor([1.5]).dtype == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert (cr.tensor([1, 2]) * 2.5).dtype == cr.float32
