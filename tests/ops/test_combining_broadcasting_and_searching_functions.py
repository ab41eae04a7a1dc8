"""torch.* functions for combining, broadcasting and searching tensors, and the function
spellings of Tensor methods, against PyTorch: values, gradients, second order, errors."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradgradcheck
from helpers import compare, requires_torch, torch

pytestmark = requires_torch

DIFF = {
    "hstack": (lambda m, a, b: m.hstack([a, b]), [(2, 3), (2, 1)]),
    "hstack_vectors": (lambda m, a, b: m.hstack((a, b)), [(3,), (2,)]),
    "vstack": (lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)]),
    "row_stack": (lambda m, a, b: m.row_stack([a, b]), [(3,), (3,)]),
    "dstack": (lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3, 2)]),
    "column_stack": (lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)]),
    "block_diag": (lambda m, a, b, c: m.block_diag(a, b, c), [(2, 3), (), (2,)]),
    "meshgrid_ij": (lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="ij")) * a.sum(), [(3,), (2,)]),
    "meshgrid_xy": (lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy")[1] * 2, [(3,), (2,), (4,)]),
    "broadcast_tensors": (lambda m, a, b: m.broadcast_tensors(a, b)[0] * m.broadcast_tensors(a, b)[1],
                          [(2, 1), (3,)]),
    "cartesian_prod": (lambda m, a, b: m.cartesian_prod(a, b), [(3,), (2,)]),
    "combinations": (lambda m, a: m.combinations(a, 2), [(4,)]),
    "combinations_replacement": (lambda m, a: m.combinations(a, 3, with_replacement=True), [(3,)]),
    "atleast_2d": (lambda m, a: m.atleast_2d(a) * 2, [(3,)]),
    "atleast_3d": (lambda m, a, b: m.atleast_3d(a, b)[0] * m.atleast_3d([a, b])[1].sum(), [(3,), (2, 3)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 2)]),
    "tensordot_lists": (lambda m, a, b: m.tensordot(a, b, dims=([2, 0], [0, 1])), [(2, 3, 4), (4, 2, 5)]),
    "var_mean": (lambda m, a: m.var_mean(a, 1)[0] * m.var_mean(a, 1)[1], [(3, 4)]),
    "std_mean": (lambda m, a: m.std_mean(a, correction=0)[0] + m.std_mean(a)[1], [(3, 4)]),
    "narrow": (lambda m, a: m.narrow(a, 1, 1, 2), [(3, 4)]),
    "select": (lambda m, a: m.select(a, 0, -1), [(3, 4)]),
    "rsub": (lambda m, a, b: m.rsub(a, b, alpha=2), [(3, 4), (4,)]),
    "adjoint": (lambda m, a: m.adjoint(a), [(2, 3, 4)]),
}


@pytest.mark.parametrize("name", sorted(DIFF))
def test_forward_and_gradient_match_torch(name):
    fn, shapes = DIFF[name]
    compare(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), shapes, np.float64)


@pytest.mark.parametrize("name", ["block_diag", "meshgrid_xy", "tensordot_lists", "var_mean",
                                  "combinations"])
def test_second_order_gradients_check_numerically(name):
    fn, shapes = DIFF[name]
    rng = np.random.default_rng(11)
    xs = [cr.tensor(rng.uniform(-2, 2, s), requires_grad=True) for s in shapes]
    assert gradgradcheck(lambda *a: fn(cr, *a), xs)


SEARCH = {
    "searchsorted": lambda m: m.searchsorted(m.tensor([1, 3, 5, 7]), m.tensor([[3, 6], [9, 0]])),
    "searchsorted_right": lambda m: m.searchsorted(m.tensor([1.0, 3.0, 3.0]), m.tensor([3.0]), right=True),
    "searchsorted_batched": lambda m: m.searchsorted(m.tensor([[1, 3], [2, 4]]), m.tensor([[3], [3]]),
                                                     side="right"),
    "searchsorted_int32": lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([2]), out_int32=True),
    "bucketize": lambda m: m.bucketize(m.tensor([0.5, 3.0, 9.0]), m.tensor([1.0, 3.0, 5.0])),
    "bucketize_right": lambda m: m.bucketize(m.tensor([[3, 1]]), m.tensor([1, 3]), right=True),
    "isin": lambda m: m.isin(m.tensor([[1, 2], [3, 4]]), m.tensor([2, 4, 9])),
    "isin_invert": lambda m: m.isin(m.tensor([1.0, 2.0]), m.tensor([2.0]), invert=True),
    "tril_indices": lambda m: m.tril_indices(3, 4, 1),
    "triu_indices": lambda m: m.triu_indices(4, 3, -1),
    "unravel_index": lambda m: m.stack(m.unravel_index(m.tensor([5, -1, 0]), (2, 3))),
    "argwhere": lambda m: m.argwhere(m.tensor([[0, 1], [2, 0]])),
}


@pytest.mark.parametrize("name", sorted(SEARCH))
def test_search_results_match_torch(name):
    ours, ref = SEARCH[name](cr), SEARCH[name](torch)
    assert ours.tolist() == ref.tolist() and ours.dtype.name == str(ref.dtype)[6:]


def test_type_queries_and_constants_match_torch():
    pairs = [("int32", "float32"), ("uint8", "int8"), ("bool", "int64"), ("float16", "float64")]
    for a, b in pairs:
        assert cr.promote_types(getattr(cr, a), getattr(cr, b)).name == str(
            torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]
        assert cr.can_cast(getattr(cr, a), getattr(cr, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))
    assert cr.result_type(cr.tensor([1]), 1.0) == cr.float32
    assert (cr.pi, cr.e, cr.inf) == (torch.pi, torch.e, torch.inf) and np.isnan(cr.nan)
    assert cr.scalar_tensor(3).tolist() == torch.scalar_tensor(3).tolist()
    x = cr.tensor([1.0], requires_grad=True)
    assert not cr.detach(x).requires_grad and cr.is_floating_point(x) and cr.is_nonzero(x)


BAD = {
    "meshgrid_2d_input": (lambda m: m.meshgrid(m.ones(2, 2), indexing="ij"), RuntimeError, "meshgrid"),
    "meshgrid_bad_indexing": (lambda m: m.meshgrid(m.ones(2), indexing="yx"), ValueError, "meshgrid"),
    "tensordot_mismatch": (lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 2), 1), RuntimeError, "tensordot"),
    "block_diag_3d": (lambda m: m.block_diag(m.ones(2, 2, 2)), RuntimeError, "block_diag"),
    "broadcast_tensors_mismatch": (lambda m: m.broadcast_tensors(m.ones(2), m.ones(3)), RuntimeError, "broadcast"),
    "bucketize_2d_boundaries": (lambda m: m.bucketize(m.ones(2), m.ones(2, 2)), RuntimeError, "bucketize"),
    "searchsorted_leading_dims": (lambda m: m.searchsorted(m.ones(2, 3), m.ones(3, 1)), RuntimeError, "searchsorted"),
    "narrow_not_a_tensor": (lambda m: m.narrow([1, 2], 0, 0, 1), TypeError, "narrow"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_a_clear_error(case):
    fn, kind, word = BAD[case]
    with pytest.raises(Exception):
        fn(torch)
    with pytest.raises(kind, match=word):
        fn(cr)


def test_meshgrid_without_indexing_warns_and_uses_ij_as_torch():
    with pytest.warns(UserWarning, match="indexing"):
        ours = cr.meshgrid(cr.arange(3), cr.arange(2))
    with pytest.warns(UserWarning):
        ref = torch.meshgrid(torch.arange(3), torch.arange(2))
    assert [g.tolist() for g in ours] == [g.tolist() for g in ref]
