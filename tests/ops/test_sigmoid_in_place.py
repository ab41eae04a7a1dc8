"""sigmoid computed in one array (ops/elementwise.py): PyTorch's values and gradient
g·(1-o)·o in PyTorch's order, the tails, 0-d and integer inputs, float16, and the
gradient under create_graph."""
import numpy as np
import pytest

import chainrule as cr

from helpers import assert_close

torch = pytest.importorskip("torch")


def test_sigmoid_matches_torch_and_its_gradient_follows_torchs_order_in_float32():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 6, 28, 28)) * 4).astype(np.float32)
    x.flat[:4] = [-100.0, 100.0, -20.0, 0.0]
    g = rng.standard_normal(x.shape).astype(np.float32)
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = cr.sigmoid(ours), torch.sigmoid(theirs)
    assert_close(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-30)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    # where o is near 1, an ulp of o is a large part of 1 - o: an absolute tolerance
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-7, scale=4.0)
    o = out.detach().numpy()
    assert np.array_equal(ours.grad.numpy(), (g * (np.float32(1) - o)) * o)


def test_sigmoid_of_0d_integer_and_float16_inputs_matches_torch():
    for value in (cr.tensor(0.5), cr.tensor([1, -2, 3]), cr.tensor([0.3, -7.0], dtype=cr.float16)):
        ref = torch.sigmoid(torch.tensor(value.numpy()))
        out = cr.sigmoid(value)
        assert out.dtype.name == str(ref.dtype)[6:]
        assert_close(out.numpy(), ref.numpy(), rtol=1e-3, atol=0)


def test_sigmoid_second_derivative_matches_torch():
    x = np.linspace(-5, 5, 11)
    results = []
    for lib, make in ((cr, cr.tensor), (torch, torch.tensor)):
        t = make(x, requires_grad=True)
        (g,) = lib.autograd.grad(lib.sigmoid(t).sum(), [t], create_graph=True)
        g.sum().backward()
        results.append(t.grad.detach().numpy())
    assert_close(results[0], results[1], rtol=1e-12, atol=1e-15)


def test_sigmoid_gradient_of_a_0d_tensor_matches_torch():
    ours, theirs = cr.tensor(0.3, requires_grad=True), torch.tensor(0.3, requires_grad=True)
    cr.sigmoid(ours).backward()
    torch.sigmoid(theirs).backward()
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=0)
