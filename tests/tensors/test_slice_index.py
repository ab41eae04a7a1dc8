"""`x[i:j]`, the batch slice, takes a short path to its view: the same view, gradient,
version counter and errors as every other basic index, and PyTorch's refusals of a step
below 1 and of bounds that are not integers."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _pair(shape=(6, 3), seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return (cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True))


@pytest.mark.parametrize("index", [slice(1, 4), slice(None, 2), slice(-3, None),
                                   slice(1, None, 2), slice(5, 1), slice(0, 100)])
def test_a_slice_gives_pytorchs_values_gradient_and_grad_fn(index):
    x, tx = _pair()
    y, ty = x[index], tx[index]
    assert y.grad_fn.name() == ty.grad_fn.name()
    w = np.arange(1, ty.numel() + 1, dtype=np.float32).reshape(tuple(ty.shape))
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_a_sliced_view_shares_memory_and_the_version_counter():
    x = cr.zeros(5, 2)
    y = x[1:3]
    y[0, 0] = 7.0
    assert x[1, 0].item() == 7.0 and x._version == y._version
    x.add_(1.0)
    assert y[0, 0].item() == 8.0 and x._version == y._version


def test_an_in_place_op_on_a_slice_inside_a_graph_has_pytorchs_gradient():
    x, tx = _pair(seed=1)
    results = []
    for lib, leaf in ((cr, x), (torch, tx)):
        z = leaf * 2
        z[1:3].mul_(3)
        (z ** 2).sum().backward()
        results.append(leaf.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("index", [slice(None, None, -1), slice(None, None, 0),
                                   slice(1.5, 3), slice(0, "2")])
@pytest.mark.parametrize("where", ["alone", "in a tuple", "assigned"])
def test_a_slice_pytorch_refuses_raises_its_error_type(index, where):
    def use(lib):
        x = lib.zeros(4, 4)
        if where == "alone":
            return x[index]
        if where == "in a tuple":
            return x[0, index]
        x[index] = 1.0
    with pytest.raises(Exception) as theirs:
        use(torch)
    with pytest.raises(type(theirs.value)) as ours:
        use(cr)
    assert ("step" in str(ours.value)) == ("step" in str(theirs.value))


def test_a_slice_of_a_zero_dimensional_tensor_names_its_shape():
    with pytest.raises(IndexError, match=r"shape \(\)"):
        cr.tensor(3.0)[0:1]


def test_slice_bounds_may_be_integer_tensors_and_numpy_integers():
    x = cr.arange(10.0)
    assert x[cr.tensor(2):cr.tensor(5)].tolist() == [2.0, 3.0, 4.0]
    assert x[np.int64(7):].tolist() == [7.0, 8.0, 9.0]


def test_second_order_gradient_through_a_slice_has_pytorchs_values():
    x, tx = _pair(seed=2)
    results = []
    for lib, leaf in ((cr, x), (torch, tx)):
        y = (leaf[1:5:2] ** 3).sum()
        (g,) = lib.autograd.grad(y, leaf, create_graph=True)
        (gg,) = lib.autograd.grad((g[2:] ** 2).sum(), leaf)
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "int32", "bool"])
def test_a_slice_keeps_the_dtype_and_values_of_every_dtype(dtype):
    data = (np.arange(12).reshape(4, 3) % 3).astype(dtype)
    ours, theirs = cr.tensor(data)[1:3], torch.tensor(data)[1:3]
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cr.tensor(data)[5:9].shape == theirs.new_empty((0, 3)).shape
