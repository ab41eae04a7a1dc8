"""Small behaviours compared with PyTorch: masked_select broadcasts its mask, atan2's
gradient at (0, 0), sequences inside an index, nonzero of a 0-d tensor, views as another
dtype, unfold as a real view, and the in-place shape methods."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _same(ours, ref):
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([[1, 2], [3, 4]]).masked_select(m.tensor([True, False])),
    lambda m: m.tensor([1, 2]).masked_select(m.tensor([[True, False], [True, True]])),
    lambda m: m.masked_select(m.tensor(5.0), m.tensor([True, True])),
])
def test_masked_select_broadcasts_input_and_mask(case):
    _same(case(cr), case(torch))


def test_masked_select_gradient_through_broadcast_input():
    grads = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.masked_select(m.tensor([[True, False], [True, True]])).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_atan2_gradient_at_the_origin_is_zero():
    grads = []
    for m in (cr, torch):
        a, b = m.zeros(2, requires_grad=True), m.tensor([0.0, 1.0], requires_grad=True)
        m.atan2(a, b).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for ours, ref in zip(*grads):
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("case", [
    lambda m: m.arange(6).reshape(2, 3)[(0,), m.tensor([0, 1])],
    lambda m: m.arange(6).reshape(2, 3)[(0, 1), (1, 2)],
    lambda m: m.arange(6).reshape(2, 3)[:, (2, 0)],
])
def test_a_tuple_inside_an_index_is_a_sequence_of_indices(case):
    _same(case(cr), case(torch))


@pytest.mark.parametrize("value", [3, 0])
def test_nonzero_of_a_0d_tensor(value):
    _same(cr.tensor(value).nonzero(), torch.tensor(value).nonzero())
    ours, ref = cr.tensor(value).nonzero(as_tuple=True), torch.tensor(value).nonzero(as_tuple=True)
    assert len(ours) == len(ref)
    _same(ours[0], ref[0])


VIEWS = [
    lambda m: m.tensor([1.0, -2.5]).view(m.int32),
    lambda m: m.tensor([1.0, 2.0]).view(m.int8),
    lambda m: m.zeros(2, 4, dtype=m.int8).view(m.float32),
    lambda m: m.tensor([[1, 2, 3, 4]], dtype=m.uint8).view(m.int16),
    lambda m: m.tensor(1.0).view(m.int32),
    lambda m: m.ones(2, requires_grad=True).view(m.int32),
]


@pytest.mark.parametrize("case", VIEWS)
def test_view_as_another_dtype_reinterprets_memory(case):
    _same(case(cr), case(torch))


def test_view_as_another_dtype_shares_memory():
    x = cr.zeros(2)
    v = x.view(cr.int32)
    v[0] = 1065353216
    assert x.tolist() == [1.0, 0.0] and not v._is_view()  # not to autograd, as PyTorch
    assert v._version == x._version


@pytest.mark.parametrize("case", [
    lambda m: m.zeros(2, 3, dtype=m.int8).view(m.float32),
    lambda m: m.tensor(1.0).view(m.int8),
    lambda m: m.zeros(2, 4, dtype=m.int8).t().view(m.float32),
    lambda m: m.zeros(4, 4, dtype=m.int8)[:, ::2].view(m.float16),
])
def test_view_as_another_dtype_refuses_as_torch(case):
    with pytest.raises(RuntimeError) as ref:
        case(torch)
    with pytest.raises(RuntimeError) as ours:
        case(cr)
    assert str(ours.value) == str(ref.value)


def test_unfold_is_a_view_whose_writes_reach_the_base():
    for m in (cr, torch):
        z = m.arange(6.0)
        w = z.unfold(0, 2, 2)
        w[1, 0] = 100.0
        assert z.tolist() == [0.0, 1.0, 100.0, 3.0, 4.0, 5.0] and w._is_view()


@pytest.mark.parametrize("args", [(1, 2, 1), (0, 1, 1), (1, 3, 2), (-1, 4, 3)])
def test_unfold_values_and_gradients_match_torch(args):
    outs = []
    for m in (cr, torch):
        x = m.tensor(np.arange(8.0).reshape(2, 4), requires_grad=True)
        u = (x * 1).unfold(*args)
        w = m.tensor(np.random.default_rng(0).random(tuple(u.shape)))
        (u * w).sum().backward()
        outs.append((u.detach().numpy(), x.grad.numpy(), u.stride()))
    for ours, ref in zip(*outs):
        np.testing.assert_array_equal(ours, ref)


def test_inplace_shape_methods_match_torch():
    outs = []
    for m in (cr, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        y = x * 1
        assert y.unsqueeze_(0) is y
        y.squeeze_(0).t_().transpose_(0, 1).swapaxes_(0, 1).swapdims_(0, 1)
        (y * m.arange(6.0).reshape(2, 3)).sum().backward()
        outs.append((tuple(y.shape), y.stride(), x.grad.numpy()))
        with pytest.raises(RuntimeError):
            m.ones(2, requires_grad=True).unsqueeze_(0)
    assert outs[0][:2] == outs[1][:2]
    np.testing.assert_array_equal(outs[0][2], outs[1][2])


@pytest.mark.parametrize("name, args", [("sin_", ()), ("heaviside_", ("values",)),
                                        ("polygamma_", (1,)), ("conj_physical_", ())])
def test_inplace_unary_methods_exist_and_match(name, args):
    outs = []
    for m in (cr, torch):
        x = m.tensor([0.5, 1.5, 2.0])
        call = tuple(m.tensor([0.25]) if a == "values" else a for a in args)
        assert getattr(x, name)(*call) is x
        outs.append(x.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
