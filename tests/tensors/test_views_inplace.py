"""Views and in-place operations under autograd, compared with PyTorch: an in-place op on
a view rewrites its base's history (CopySlices), other views re-derive theirs, and the
memory-layout questions (stride, storage_offset, data_ptr, _base) get PyTorch's answers."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, magnitude, requires_torch, torch

pytestmark = requires_torch

X = [1.5, -2.0, 3.0, 0.5, -1.0, 2.5]


def run_both(fn, data=X, shape=None):
    """fn(module, x) -> tensor, with x a leaf that requires grad; returns the outputs
    and x's gradients of (out * weights).sum() in chainrule and PyTorch."""
    results = []
    w = np.linspace(0.5, 2.0, 64)
    for m in (cr, torch):
        x = m.tensor(np.asarray(data, dtype=np.float64), requires_grad=True)
        if shape is not None:
            x = x.detach().reshape(shape).requires_grad_(True)
        out = fn(m, x)
        weights = m.tensor(w[:out.numel()].reshape(tuple(out.shape)))
        (out * weights).sum().backward()
        g = x.grad
        results.append((np.asarray(out.detach().tolist()),
                        None if g is None else np.asarray(g.tolist())))
    (co, cg), (to, tg) = results
    assert_close(co, to, rtol=1e-12, atol=1e-12, scale=magnitude(data))
    assert (cg is None) == (tg is None)
    if cg is not None:
        assert_close(cg, tg, rtol=1e-12, atol=1e-12, scale=magnitude(co, w))
    return co, cg


def error_of(fn):
    """The messages chainrule and PyTorch raise for fn(module)."""
    out = []
    for m in (cr, torch):
        with pytest.raises(RuntimeError) as info:
            fn(m)
        out.append(str(info.value))
    return out


# ---- in-place ops on views of non-leaf tensors ----------------------------------------
def test_inplace_mul_on_slice_of_nonleaf_routes_gradient():
    def f(m, x):
        a = x[:4] * 1
        a[0:2].mul_(2)
        return a
    _, g = run_both(f, X[:4])
    assert g.tolist()[:2] != [0.5, 0.5]


def test_setitem_through_view_gives_overwritten_elements_zero_gradient():
    def f(m, x):
        a = x[:4] * 1
        a.view(2, 2)[0] = 10
        return a * a
    _, g = run_both(f, X[:4])
    assert g[0] == 0 and g[1] == 0


def test_inplace_mul_of_slice_by_other_slice_of_leaf():
    def f(m, x):
        a = x * 1
        a[1:].mul_(x[:-1])
        return a * a
    run_both(f)


def test_chain_of_views_of_views_rewrites_the_root():
    def f(m, x):
        a = (x * 2).reshape(2, 3)
        a[1:].view(3)[1:].mul_(x[:2] + 1)
        return a.exp()
    run_both(f)


def test_write_through_transpose():
    def f(m, x):
        a = x.reshape(2, 3) * 1
        a.t()[0].add_(x[4:] * x[4:])
        return a * a
    run_both(f)


def test_write_through_unsqueeze_and_select():
    def f(m, x):
        a = x * 1
        a.unsqueeze(0)[0, 2].mul_(-3)
        a.unsqueeze(1)[4:, 0].sub_(x[:2].exp())
        return a * a
    run_both(f)


def test_write_through_reshape_when_it_is_a_view():
    def f(m, x):
        a = x * 1
        r = a.reshape(3, 2)
        assert r._base is a._base or r._base is a
        r[:, 1].div_(x[:3] + 4)
        return a.sin()
    run_both(f)


def test_write_through_expand_without_repeats():
    def f(m, x):
        a = x * 1
        a.expand(6)[1:3].mul_(5)
        return a * a
    run_both(f)


@pytest.mark.parametrize("piece", [
    lambda a: a.unbind(0)[1], lambda a: a.split(2)[1], lambda a: a.chunk(2)[0],
    lambda a: a.split([1, 3])[1], lambda a: a.reshape(2, 2).unbind(1)[0],
], ids=["unbind", "split", "chunk", "split_with_sizes", "unbind_dim1"])
def test_inplace_on_unbind_split_chunk_pieces_is_refused_in_graphs(piece):
    def f(m):
        a = m.tensor([1.0, -2.0, 3.0, 4.0], requires_grad=True) * 1
        piece(a).mul_(2)
    ours, theirs = error_of(f)
    assert ours == theirs


@pytest.mark.parametrize("piece", [
    lambda a: a.unbind(0)[1], lambda a: a.split(1)[0], lambda a: a.split([1, 1])[1],
], ids=["unbind", "split", "split_with_sizes"])
def test_split_piece_used_after_its_base_changed_in_place_is_refused(piece):
    def f(m):
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
        p = piece(a)
        a.mul_(2)
        (p * 2).sum().backward()  # PyTorch refuses at p * 2, chainrule in backward
    ours, theirs = error_of(f)
    assert ours == theirs


def test_inplace_on_split_pieces_without_grad_writes_the_base():
    out = []
    for m in (cr, torch):
        a = m.arange(6.0)
        a.split(2)[1].mul_(10)
        a.unbind(0)[0].add_(5)
        with m.no_grad():
            b = m.tensor([1.0, 2.0], requires_grad=True) * 1
            b.chunk(2)[1].mul_(3)
        out.append((a.tolist(), b.tolist()))
    assert out[0] == out[1]


def test_write_through_diagonal_and_T():
    def f(m, x):
        a = x.reshape(2, 3) * 1
        a.diagonal(1).mul_(x[:2])
        a.T[2].add_(10)
        return a * a
    _, g = run_both(f)
    d = cr.arange(6.0).reshape(2, 3).diagonal()
    assert d._is_view() and d.stride() == (4,) and d.storage_offset() == 0


def test_inplace_on_float16_view_keeps_dtype_and_gradient():
    out = []
    for m in (cr, torch):
        x = m.tensor([0.5, -1.25, 2.0, 3.5], dtype=m.float16, requires_grad=True)
        a = x * 2
        a[1:3].mul_(m.tensor([3.0, -0.5], dtype=m.float16))
        a.view(2, 2)[:, 0].add_(1)
        (a * a).sum().backward()
        out.append((a.dtype == m.float16, a.tolist(), x.grad.tolist()))
    assert out[0] == out[1]


def test_other_views_of_the_base_see_the_new_history():
    def f(m, x):
        a = x * 2
        v1, v2 = a[:3], a[2:5]
        v1.mul_(x[3:])
        return v2 * v2
    run_both(f)


def test_view_taken_before_base_modified_in_place_sees_the_change():
    def f(m, x):
        a = x * 2
        v = a[:3]
        a.mul_(x)
        return v.exp()
    run_both(f)


def test_zero_and_fill_on_views_cut_the_gradient():
    def f(m, x):
        a = x * 1
        a[:2].zero_()
        a[4:].fill_(7.0)
        return a * x
    run_both(f)


def test_copy_into_a_view_routes_gradient_to_the_source():
    def f(m, x):
        a = x * 1
        a[1:4].copy_(x[3:].exp())
        return a * a
    run_both(f)


def test_relu_in_place_on_a_column_view():
    def f(m, x):
        a = x.reshape(3, 2) * 1
        a[:, 0].relu_()
        return a * a
    run_both(f)


def test_clamp_in_place_on_a_row_view():
    def f(m, x):
        a = x.reshape(3, 2) * 1
        a[1:].clamp_(min=-1.5, max=1.0)
        return a * a
    run_both(f)


def test_inplace_on_view_of_tensor_without_grad_gains_history():
    def f(m, x):
        a = m.zeros(6, dtype=m.float64)
        a[2:4].add_(x[:2] * 3)
        v = a[1:3]
        return v * a[3]
    run_both(f)


def test_inplace_on_view_keeps_values_shared_with_the_base():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    v = a[1:]
    v.mul_(10)
    assert a.tolist() == [1.0, 20.0, 30.0]
    assert v._base is a and a._base is None
    assert a.grad_fn.name() == "CopySlices"


def test_second_order_through_inplace_on_view():
    out = []
    for m in (cr, torch):
        x = m.tensor([0.5, -1.0, 2.0], dtype=m.float64, requires_grad=True)
        a = x * x
        a[1:].mul_(x[:2])
        (g,) = m.autograd.grad(a.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        out.append((np.asarray(g.tolist()), np.asarray(gg.tolist())))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)


# ---- what is refused -------------------------------------------------------------------
def test_inplace_on_view_of_leaf_that_requires_grad_is_refused():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x[0].mul_(2)
    ours, theirs = error_of(f)
    assert theirs in ours
    assert "a view of a leaf Variable that requires grad is being used in an in-place" in ours


def test_inplace_on_view_made_under_no_grad_is_refused_in_grad_mode():
    def f(m):
        a = m.tensor([1.0, 2.0], requires_grad=True) * 1
        with m.no_grad():
            v = a[:1]
        v.mul_(2)
    ours, theirs = error_of(f)
    assert "no_grad mode and is being modified inplace with grad mode enabled" in theirs
    assert ours.startswith(theirs)


def test_saved_tensor_modified_through_a_view_is_caught():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y[0].mul_(2)
        y.sum().backward()
    ours, theirs = error_of(f)
    assert "modified by an inplace operation" in ours and "modified by an inplace" in theirs


# ---- autograd bookkeeping around in-place ops ------------------------------------------
def test_retained_grad_follows_the_tensor_after_inplace_op():
    out = []
    for m in (cr, torch):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        a = x * 2
        a.retain_grad()
        a.mul_(3)
        v = a[1:]
        v.retain_grad()
        v.add_(x[:2] ** 2)
        ((a * a).sum() + (v * v.detach()).sum()).backward()
        out.append((x.grad.tolist(), a.grad.tolist(), v.grad.tolist()))
    assert out[0] == out[1]


def test_autograd_grad_with_an_input_listed_twice_returns_it_twice():
    out = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h * x).sum()
        out.append([g.tolist() for g in m.autograd.grad(y, [x, h, x])])
    assert out[0] == out[1]


def test_data_mul_after_use_is_allowed():
    out = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        x.data.mul_(2)
        y.backward()
        out.append((x.grad.tolist(), x.tolist()))
    assert out[0] == out[1]


def test_detach_shares_the_version_counter():
    ours, theirs = error_of(lambda m: _detach_then_modify(m))
    assert "modified by an inplace operation" in ours


def _detach_then_modify(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.detach().mul_(2)
    y.sum().backward()


@pytest.mark.parametrize("make", [
    lambda F, nn, a: F.leaky_relu(a, 0.2, inplace=True),
    lambda F, nn, a: nn.LeakyReLU(0.1, inplace=True)(a),
    lambda F, nn, a: F.relu(a, inplace=True),
    lambda F, nn, a: nn.ReLU(inplace=True)(a[1:]),
], ids=["leaky_relu", "LeakyReLU", "relu", "ReLU_on_view"])
def test_inplace_activations_while_recording_give_pytorchs_gradients(make):
    def f(m, x):
        a = x * 1
        r = make(m.nn.functional, m.nn, a)
        assert r is a or r._base is a
        return a * a
    run_both(f)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_inplace_dropout_while_recording_modifies_and_routes_gradient(p):
    cr.manual_seed(3)
    x = cr.tensor(X, dtype=cr.float64, requires_grad=True)
    a = x * 1
    r = cr.nn.functional.dropout(a, p, training=True, inplace=True)
    assert r is a
    (a * a).sum().backward()
    kept = a.detach().numpy() != 0
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    expected = np.where(kept, 2 * np.asarray(X) * scale * scale, 0.0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(a.detach().numpy(), np.where(kept, np.asarray(X) * scale, 0.0),
                               rtol=1e-12)
