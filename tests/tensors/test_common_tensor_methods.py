"""Tensor methods real code reaches for, against PyTorch: forward, gradient (float64), the
function and method forms, second order where cheap, and the error for bad input."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from helpers import assert_close, compare, requires_torch, torch

pytestmark = requires_torch


def idx(m, data):
    return m.tensor(data)


# name -> (function of (module, *inputs), input shapes); every one differentiable
DIFF = {
    "sort": (lambda m, x: m.sort(x, dim=1).values, [(3, 5)]),
    "sort_descending": (lambda m, x: x.sort(0, descending=True)[0], [(4, 3)]),
    "argsort_gathered": (lambda m, x: x.gather(1, x.argsort(1, descending=True)), [(3, 4)]),
    "topk": (lambda m, x: m.topk(x, 2, dim=0).values, [(5, 3)]),
    "topk_smallest": (lambda m, x: x.topk(3, largest=False)[0], [(2, 6)]),
    "kthvalue": (lambda m, x: x.kthvalue(2, 1, keepdim=True).values, [(3, 5)]),
    "median_all": (lambda m, x: x.median(), [(3, 5)]),
    "median_dim": (lambda m, x: m.median(x, 1).values, [(3, 4)]),
    "cummax": (lambda m, x: m.cummax(x, 1).values, [(3, 5)]),
    "cummin": (lambda m, x: x.cummin(0).values, [(4, 3)]),
    "cumprod": (lambda m, x: m.cumprod(x, 1), [(3, 5)]),
    "cumprod_method": (lambda m, x: x.cumprod(dim=0), [(4, 2)]),
    "repeat": (lambda m, x: x.repeat(2, 1, 3), [(2, 3)]),
    "repeat_interleave": (lambda m, x: x.repeat_interleave(2, dim=1), [(2, 3)]),
    "repeat_interleave_tensor": (lambda m, x: m.repeat_interleave(x, idx(m, [1, 0, 3]), dim=0), [(3, 2)]),
    "repeat_interleave_flat": (lambda m, x: x.repeat_interleave(3), [(2, 2)]),
    "fmod": (lambda m, a, b: m.fmod(a * 3, b), [(3, 4), (4,)]),
    "fmod_scalar": (lambda m, a: a.fmod(0.7), [(3, 4)]),
    "remainder": (lambda m, a, b: m.remainder(a * 3, b), [(3, 4), (3, 4)]),
    "gather": (lambda m, x: x.gather(1, idx(m, [[0, 0, 2], [1, 2, 1]])), [(2, 3)]),
    "scatter": (lambda m, x, s: x.scatter(1, idx(m, [[2, 0], [1, 2]]), s), [(2, 3), (2, 2)]),
    "scatter_value": (lambda m, x: m.scatter(x, 0, idx(m, [[1, 0, 1]]), 2.5), [(2, 3)]),
    "scatter_add": (lambda m, x, s: m.scatter_add(x, 1, idx(m, [[0, 0], [2, 2]]), s), [(2, 3), (2, 2)]),
    "index_select": (lambda m, x: x.index_select(1, idx(m, [2, 0, 2])), [(2, 3)]),
    "index_add": (lambda m, x, s: x.index_add(0, idx(m, [2, 0, 2]), s, alpha=2), [(3, 2), (3, 2)]),
    "index_put_accumulate": (lambda m, x, v: x.index_put((idx(m, [0, 2, 0]), idx(m, [1, 1, 1])), v,
                                                         accumulate=True), [(3, 2), (3,)]),
    "index_put": (lambda m, x, v: x.index_put((idx(m, [0, 2]),), v), [(3, 2), (2,)]),
    "masked_fill": (lambda m, x: x.masked_fill(x > 0, -1.0), [(3, 4)]),
    "masked_select": (lambda m, x: x.masked_select(x > 0), [(3, 4)]),
    "where_method": (lambda m, x, y: x.where(x > y, y), [(3, 4), (4,)]),
    "flip": (lambda m, x: m.flip(x, (0, 1)), [(2, 3)]),
    "fliplr": (lambda m, x: m.fliplr(x), [(2, 3)]),
    "flipud": (lambda m, x: x.flipud(), [(2, 3)]),
    "roll": (lambda m, x: x.roll(1, 1), [(2, 3)]),
    "roll_two_dims": (lambda m, x: m.roll(x, (1, -2), (0, 1)), [(3, 4)]),
    "roll_flat": (lambda m, x: x.roll(2), [(2, 3)]),
    "tril": (lambda m, x: m.tril(x, -1), [(4, 3)]),
    "triu": (lambda m, x: x.triu(diagonal=1), [(2, 3, 4)]),
    "diag_of_vector": (lambda m, x: m.diag(x, 1), [(3,)]),
    "diag_of_matrix": (lambda m, x: x.diag(-1), [(4, 3)]),
    "diagonal": (lambda m, x: x.diagonal(offset=1, dim1=0, dim2=2), [(3, 2, 4)]),
    "diag_embed": (lambda m, x: m.diag_embed(x, offset=-1, dim1=0, dim2=2), [(2, 3)]),
    "trace": (lambda m, x: x.trace(), [(3, 4)]),
    "einsum_matmul": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum_batch_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk", a, b), [(5, 2, 3), (5, 3, 2)]),
    "einsum_trace": (lambda m, a: m.einsum("ii", a), [(3, 3)]),
    "einsum_diag_outer": (lambda m, a, b: m.einsum("ii,j->ij", a, b), [(3, 3), (2,)]),
    "einsum_sum_out": (lambda m, a, b: m.einsum("ij,k->", a, b), [(2, 3), (4,)]),
    "einsum_list": (lambda m, a, b: m.einsum("i,i->", [a, b]), [(4,), (4,)]),
    "nan_to_num": (lambda m, x: (x / (x > 0)).nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0), [(3, 4)]),
}


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("name", sorted(DIFF))
def test_forward_and_gradient_match_torch(name):
    fn, shapes = DIFF[name]
    compare(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), shapes, np.float64)


@pytest.mark.parametrize("name", ["sort", "topk", "cumprod", "repeat", "scatter", "index_add",
                                  "tril", "diag_embed", "einsum_matmul", "einsum_trace",
                                  "fmod", "median_all", "roll", "index_put_accumulate"])
def test_second_order_gradients_check_numerically(name):
    fn, shapes = DIFF[name]
    rng = np.random.default_rng(3)
    xs = [cr.tensor(rng.uniform(0.5, 2.0, s) * rng.choice([-1, 1], s), requires_grad=True)
          for s in shapes]
    assert gradcheck(lambda *a: fn(cr, *a), xs)
    assert gradgradcheck(lambda *a: fn(cr, *a), xs)


def test_scatter_reads_only_the_index_shaped_corner_of_a_larger_src():
    # PyTorch's own backward rejects this case, so only the forward is compared
    fn = lambda m, x, s: x.scatter(0, m.tensor([[1, 0]]), s)
    compare(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), [(2, 3), (3, 3)], grad=False)
    x, s = cr.zeros(2, 3, requires_grad=True), cr.ones(3, 3, requires_grad=True)
    fn(cr, x, s).sum().backward()
    assert s.grad.tolist() == [[1.0, 1.0, 0.0], [0.0] * 3, [0.0] * 3]


def test_cumprod_gradient_with_zeros_matches_torch():
    data = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, -1.0, 2.0, 4.0, 0.5]])
    compare(lambda x: x.cumprod(1), lambda x: x.cumprod(1), None, arrays=[data])
    x = cr.tensor(data, requires_grad=True)
    assert gradgradcheck(lambda a: a.cumprod(1), [x])


def test_sort_is_stable_in_both_directions_and_puts_nan_last():
    data = [2.0, 1.0, 2.0, float("nan"), 1.0, 3.0]
    for descending in (False, True):
        ours = cr.tensor(data).sort(descending=descending, stable=True)
        ref = torch.tensor(data).sort(descending=descending, stable=True)
        assert ours.indices.tolist() == ref.indices.tolist()
        np.testing.assert_array_equal(ours.values.numpy(), ref.values.numpy())
    assert cr.tensor(data).argsort(stable=True).tolist() == torch.tensor(data).argsort(stable=True).tolist()


def test_sort_returns_named_values_and_indices_like_torch():
    out = cr.sort(cr.tensor([[3, 1, 2]]), dim=1)
    assert type(out).__name__ == "sort" and out.values.tolist() == [[1, 2, 3]]
    values, indices = out
    assert indices.dtype == cr.int64 and values.dtype == cr.int64


def test_order_statistics_on_0d_and_int_tensors_match_torch():
    for m in (cr, torch):
        m.s = m.tensor(4.0)
    assert cr.s.sort().values.item() == 4.0 and cr.s.sort().indices.item() == 0
    assert cr.s.topk(1).values.shape == torch.s.topk(1).values.shape
    ints = [5, 1, 4, 1, 5, 9, 2, 6]
    for op in ("median", "mode", "kthvalue"):
        args = (3,) if op == "kthvalue" else ()
        ours, ref = getattr(cr.tensor(ints), op)(*args), getattr(torch.tensor(ints), op)(*args)
        ours, ref = (ours, ref) if op == "median" else (ours.values, ref.values)
        assert ours.tolist() == ref.tolist(), op


def test_median_with_nan_and_even_length_matches_torch():
    data = np.array([[1.0, np.nan, 3.0, 0.5], [4.0, 2.0, 3.0, 1.0]])
    ours, ref = cr.tensor(data).median(1), torch.tensor(data).median(1)
    np.testing.assert_array_equal(ours.values.numpy(), ref.values.numpy())
    assert ours.indices.tolist() == ref.indices.tolist()
    assert np.isnan(cr.tensor(data).median().item())


def test_median_gradient_is_shared_among_tied_elements_as_in_torch():
    data = np.array([2.0, 1.0, 2.0, 3.0, 2.0])
    compare(lambda x: x.median(), lambda x: x.median(), None, arrays=[data])


def test_mode_and_cummax_indices_match_torch_with_ties():
    data = [[1.0, 1.0, 2.0, 2.0, 3.0], [3.0, 1.0, 3.0, 1.0, 0.0]]
    for op in ("mode",):
        ours, ref = cr.tensor(data).mode(1), torch.tensor(data).mode(1)
        assert ours.values.tolist() == ref.values.tolist()
        assert ours.indices.tolist() == ref.indices.tolist()
    for op in ("cummax", "cummin"):
        ours, ref = getattr(cr.tensor(data), op)(1), getattr(torch.tensor(data), op)(1)
        assert ours.values.tolist() == ref.values.tolist()
        assert ours.indices.tolist() == ref.indices.tolist(), op


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True}, {"return_counts": True},
                                    {"return_inverse": True, "return_counts": True},
                                    {"dim": 0, "return_inverse": True, "return_counts": True}])
def test_unique_matches_torch(kwargs):
    data = [[3, 1, 3], [0, 1, 3], [3, 1, 3]]
    ours, ref = cr.unique(cr.tensor(data), **kwargs), torch.unique(torch.tensor(data), **kwargs)
    ours, ref = (ours, ref) if isinstance(ref, tuple) else ((ours,), (ref,))
    assert [t.tolist() for t in ours] == [t.tolist() for t in ref]
    assert cr.tensor([2.0, 1.0, 2.0]).unique().tolist() == [1.0, 2.0]


def test_bincount_matches_torch_with_weights_and_minlength():
    x = [0, 1, 1, 3, 1]
    assert cr.bincount(cr.tensor(x), minlength=6).tolist() == torch.bincount(torch.tensor(x), minlength=6).tolist()
    for w in ([0.5, 1.0, 2.0, 0.25, 1.0], np.float32):
        wc = cr.tensor([0.5, 1.0, 2.0, 0.25, 1.0], dtype=cr.float32)
        wt = torch.tensor([0.5, 1.0, 2.0, 0.25, 1.0], dtype=torch.float32)
        ours, ref = cr.tensor(x).bincount(wc), torch.tensor(x).bincount(wt)
        assert ours.tolist() == ref.tolist() and ours.dtype.name == str(ref.dtype)[6:]
    assert cr.bincount(cr.tensor([], dtype=cr.int64)).tolist() == []


def test_fmod_and_remainder_signs_and_integer_division_by_zero():
    a, b = [-7, 7, -7, 7], [3, 3, -3, -3]
    assert cr.fmod(cr.tensor(a), cr.tensor(b)).tolist() == torch.fmod(torch.tensor(a), torch.tensor(b)).tolist()
    assert cr.tensor(a).remainder(cr.tensor(b)).tolist() == torch.tensor(a).remainder(torch.tensor(b)).tolist()
    assert cr.fmod(cr.tensor(a), 2).dtype == cr.int64
    with pytest.raises(ZeroDivisionError, match="fmod"):
        cr.fmod(cr.tensor(a), 0)
    ours = cr.fmod(cr.tensor([1.0, -1.0, np.inf]), 0.0).numpy()
    ref = torch.fmod(torch.tensor([1.0, -1.0, np.inf]), 0.0).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_nan_to_num_defaults_match_torch_for_float16_and_float32():
    data = [np.nan, np.inf, -np.inf, 1.5, -1e30]
    for dt in ("float16", "float32", "float64"):
        ours = cr.tensor(data, dtype=getattr(cr, dt)).nan_to_num().numpy()
        ref = torch.tensor(data, dtype=getattr(torch, dt)).nan_to_num().numpy()
        np.testing.assert_array_equal(ours, ref)
    assert cr.tensor([1, 2]).nan_to_num().tolist() == [1, 2]


def test_inplace_forms_change_the_tensor_and_keep_the_graph():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    results = []
    for m, leaf in ((cr, x), (torch, t)):
        y = leaf * 1
        y.scatter_(1, m.tensor([[0], [2]]), 0.0)
        y.scatter_add_(0, m.tensor([[1, 1, 0]]), leaf[:1] * 2)
        y.index_add_(1, m.tensor([0, 0]), leaf[:, :2])
        y.index_put_((m.tensor([1, 1]), m.tensor([2, 2])), m.tensor(3.0), accumulate=True)
        y.masked_fill_(y > 20, 20.0)
        y.tril_(1).cumprod_(1)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), leaf.grad.numpy()))
    assert_close(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    assert_close(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)


def test_allclose_and_isclose_match_torch_with_nan_and_inf():
    a = [1.0, np.nan, np.inf, 1e-9, 2.0]
    b = [1.0 + 1e-7, np.nan, np.inf, 0.0, 2.1]
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}):
        assert cr.isclose(cr.tensor(a), cr.tensor(b), **kw).tolist() == torch.isclose(
            torch.tensor(a), torch.tensor(b), **kw).tolist()
        assert cr.tensor(a).allclose(cr.tensor(b), **kw) == torch.tensor(a).allclose(torch.tensor(b), **kw)


def test_tril_triu_keep_inf_and_work_on_integers():
    data = [[1.0, np.inf], [-np.inf, 2.0]]
    assert cr.tril(cr.tensor(data)).tolist() == torch.tril(torch.tensor(data)).tolist()
    assert cr.tensor([[1, 2], [3, 4]]).triu().tolist() == [[1, 2], [0, 4]]


BAD = {
    "gather_index_out_of_range": (lambda m: m.zeros(3).gather(0, m.tensor([5])), "gather"),
    "scatter_index_out_of_range": (lambda m: m.zeros(3).scatter(0, m.tensor([5]), m.ones(1)), "scatter"),
    "scatter_add_index_out_of_range": (lambda m: m.zeros(2, 2).scatter_add(1, m.tensor([[0, 2]]), m.ones(1, 2)), "scatter_add"),
    "scatter_float_index": (lambda m: m.zeros(3).scatter(0, m.tensor([0.0]), m.ones(1)), "scatter"),
    "index_add_out_of_range": (lambda m: m.zeros(3).index_add_(0, m.tensor([3]), m.ones(1)), "index_add"),
    "index_put_out_of_range": (lambda m: m.zeros(3).index_put_((m.tensor([3]),), m.ones(1), accumulate=True), "index_put"),
    "topk_k_too_large": (lambda m: m.zeros(3).topk(4), "topk"),
    "kthvalue_k_too_large": (lambda m: m.zeros(3).kthvalue(4), "kthvalue"),
    "bincount_negative": (lambda m: m.bincount(m.tensor([0, -1])), "bincount"),
    "bincount_float": (lambda m: m.bincount(m.tensor([0.5])), "bincount"),
    "repeat_too_few_dims": (lambda m: m.zeros(2, 3).repeat(2), "repeat"),
    "diag_3d": (lambda m: m.diag(m.zeros(2, 2, 2)), "diag"),
    "trace_vector": (lambda m: m.zeros(3).trace(), "trace"),
    "einsum_size_mismatch": (lambda m: m.einsum("ij,jk->ik", m.zeros(2, 3), m.zeros(4, 2)), "einsum"),
    "einsum_operand_count": (lambda m: m.einsum("ij,jk->ik", m.zeros(2, 3)), "einsum"),
    "fliplr_vector": (lambda m: m.fliplr(m.zeros(3)), "fliplr"),
    "tril_vector": (lambda m: m.tril(m.zeros(3)), "tril"),
    "roll_mismatched_dims": (lambda m: m.zeros(2, 2).roll((1, 1), (0,)), "roll"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_a_clear_error_naming_the_op(case):
    fn, opname = BAD[case]
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises((RuntimeError, IndexError, TypeError)) as ours:
        fn(cr)
    assert opname in str(ours.value), str(ours.value)
    assert isinstance(ours.value, (type(ref.value), RuntimeError, IndexError))


def test_pytorch_functions_chainrule_lacks_say_they_are_not_supported():
    assert "fft" in dir(torch) and "stft" in dir(torch.Tensor)
    with pytest.raises(AttributeError, match=r"chainrule does not support torch\.fft"):
        cr.fft
    with pytest.raises(AttributeError, match=r"chainrule does not support torch\.Tensor\.stft"):
        cr.ones(2).stft
    assert not hasattr(cr.ones(2), "stft") and getattr(cr, "fft", None) is None


def test_names_pytorch_does_not_have_stay_plain_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_function'") as err:
        cr.no_such_function
    assert "does not support" not in str(err.value)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_method'"):
        cr.ones(2).no_such_method


def test_every_public_pytorch_name_is_either_present_or_reported_unsupported():
    from chainrule.compat import torch_names as _torch_names
    for owner, names, table in ((cr, dir(torch), _torch_names.TORCH),
                                (cr.ones(2, 2), dir(torch.Tensor), _torch_names.TENSOR)):
        public = {n for n in names if not n.startswith("_")}
        # the shipped table was generated from this PyTorch: allow only small version drift
        assert len(public ^ table) < 0.05 * len(public)
        for name in sorted(public & table):
            try:
                getattr(owner, name)
            except AttributeError as err:
                assert "chainrule does not support torch." in str(err), name
            except Exception:  # a property that exists but refuses this tensor
                pass


EDGE = {
    "median_of_empty_is_nan": lambda m: m.zeros(0).median(),
    "median_of_ints_stays_int": lambda m: m.tensor([3, 1, 2, 4]).median(),
    "unique_keeps_each_nan": lambda m: m.tensor([float("nan"), 1.0, float("nan")]).unique(),
    "scatter_on_0d": lambda m: m.tensor(1.0).scatter(0, m.tensor(0), m.tensor(5.0)),
    "einsum_broadcasts_size_one": lambda m: m.einsum("...i,...i->...", m.ones(4, 3), m.ones(1, 3)),
    "take_along_dim_negative_index": lambda m: m.arange(6.0).reshape(2, 3).take_along_dim(
        m.tensor([[-1], [0]]), 1),
    "sort_of_empty_rows": lambda m: m.zeros(2, 0).sort(dim=1).values,
    "topk_zero": lambda m: m.ones(3).topk(0).values,
    "cumprod_int32_accumulates_in_int64": lambda m: m.tensor([2, 3], dtype=m.int32).cumprod(0),
    "repeat_zero_times": lambda m: m.ones(2, 3).repeat(0, 1),
    "repeat_interleave_counts": lambda m: m.repeat_interleave(m.tensor([1, 0, 2])),
    "roll_more_than_size": lambda m: m.tensor([1, 2, 3]).roll(-4),
    "fmod_float16_by_int": lambda m: m.tensor([5.0, -5.0], dtype=m.float16).fmod(3),
    "scatter_float16_value": lambda m: m.zeros(3, dtype=m.float16).scatter(0, m.tensor([1]), 2.5),
    "index_put_bool_mask_accumulate": lambda m: m.zeros(3).index_put(
        (m.tensor([True, False, True]),), m.tensor(5.0), accumulate=True),
    "diagonal_offset_past_the_end": lambda m: m.ones(2, 3).diagonal(5),
    "logcumsumexp_with_infinities": lambda m: m.tensor([-float("inf"), 0.0, float("inf")]).logcumsumexp(0),
    "nan_to_num_float16": lambda m: m.tensor([float("nan"), float("inf")], dtype=m.float16).nan_to_num(),
    "cummax_index_sticks_to_the_latest_nan": lambda m: m.tensor(
        [[1.0, float("nan"), 2.0, float("nan"), 0.0]]).cummax(1).indices,
    "cummin_values_stay_nan_after_a_nan": lambda m: m.tensor([3.0, 1.0, float("nan"), 0.0]).cummin(0).values,
    "cummax_of_empty": lambda m: m.zeros(0, 3).cummax(0).indices,
    "index_fill_casts_the_value_to_an_int_tensor": lambda m: m.tensor([1, 2, 3]).index_fill(
        0, m.tensor([1]), 1.5),
}


@pytest.mark.parametrize("case", sorted(EDGE))
def test_edge_cases_match_torch(case):
    ours, ref = EDGE[case](cr), EDGE[case](torch)
    assert tuple(ours.shape) == tuple(ref.shape)
    assert ours.dtype.name == str(ref.dtype)[6:]
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("case", ["scatter", "scatter_add", "index_add", "index_put"])
def test_source_of_another_dtype_is_refused_as_in_torch(case):
    fn = {"scatter": lambda m: m.zeros(3, dtype=m.int64).scatter(0, m.tensor([1]), m.tensor([2.0])),
          "scatter_add": lambda m: m.zeros(3).scatter_add(0, m.tensor([1]), m.tensor([2])),
          "index_add": lambda m: m.zeros(3).index_add(0, m.tensor([1]), m.tensor([2])),
          "index_put": lambda m: m.zeros(3, dtype=m.float16).index_put(
              (m.tensor([0]),), m.tensor([1.0]), accumulate=True)}[case]
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError, match=case):
        fn(cr)


def test_gather_refuses_negative_indices_as_torch_does():
    with pytest.raises(RuntimeError):
        torch.tensor([1.0, 2.0]).gather(0, torch.tensor([-1]))
    with pytest.raises(RuntimeError, match="gather: index -1 is out of bounds"):
        cr.tensor([1.0, 2.0]).gather(0, cr.tensor([-1]))


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_add_and_multiply_match_torch_and_other_reductions_are_refused():
    for reduce in ("add", "multiply"):
        for src in (2.0, "tensor"):
            ours = cr.ones(2, 3).scatter(1, cr.tensor([[1, 1], [0, 2]]),
                                         cr.ones(2, 2) * 3 if src == "tensor" else src,
                                         reduce=reduce)
            ref = torch.ones(2, 3).scatter(1, torch.tensor([[1, 1], [0, 2]]),
                                           torch.ones(2, 2) * 3 if src == "tensor" else src,
                                           reduce=reduce)
            assert ours.tolist() == ref.tolist()
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        cr.zeros(3).scatter(0, cr.tensor([1]), 2.0, reduce="max")


@pytest.mark.parametrize("owner, name", [("distributions", "Beta"), ("nn", "LazyConv3d"),
                                         ("nn.functional", "fractional_max_pool3d")])
def test_submodules_name_the_pytorch_names_they_lack(owner, name):
    import importlib
    ours = importlib.import_module(f"chainrule.{owner}")
    assert hasattr(importlib.import_module(f"torch.{owner}"), name)
    with pytest.raises(AttributeError, match=rf"chainrule does not support torch\.{owner}\.{name}"):
        getattr(ours, name)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        ours.NoSuchName
