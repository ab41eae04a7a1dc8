"""Average pooling over windows that tile the input (ops/avg_pool_tiled.py) against
PyTorch: LeNet's 2×2 pool, rectangles, inputs whose last rows and columns no window
covers, divisor_override, float16/float64, broadcast gradients, second order, and the
shapes the tiled kernels leave to the general ones (ceil_mode, padding, overlap)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import avg_pool_tiled
from chainrule.ops.pool_windows import Windows

from helpers import assert_close

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def _check(shape, dtype=np.float32, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.avg_pool2d(ours, **kwargs), tF.avg_pool2d(theirs, **kwargs)
    assert out.shape == tuple(ref.shape) and out.dtype.name == str(ref.dtype)[6:]
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == np.float16 else dict(rtol=1e-6, atol=1e-7)
    assert_close(out.detach().numpy(), ref.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(ref.shape)).astype(dtype)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), **tol)
    return out


def test_tiles_serve_lenet_pool_but_not_overlap_padding_or_ceil_mode():
    lenet = Windows(2, 2, 2, 2, 0, 0, 1, 1, 14, 14, 28, 28)
    assert avg_pool_tiled.serves(np.zeros(1, np.float32), lenet)
    assert not avg_pool_tiled.serves(np.zeros(1, np.int64), lenet)
    assert not avg_pool_tiled.serves(np.zeros(1), lenet._replace(sh=1, oh=27))
    assert not avg_pool_tiled.serves(np.zeros(1), lenet._replace(ph=1, oh=15))
    assert not avg_pool_tiled.serves(np.zeros(1), lenet._replace(h=27))  # ceil_mode's last


def test_lenet_avg_pool_matches_torch_bit_for_bit():
    """Each window summed in PyTorch's scan order and divided once: the same bits."""
    out = _check((64, 6, 28, 28), kernel_size=2, stride=2)
    x = np.random.default_rng(0).standard_normal((64, 6, 28, 28)).astype(np.float32)
    assert np.array_equal(out.detach().numpy(),
                          tF.avg_pool2d(torch.tensor(x), 2, 2).numpy())


def test_rectangular_tiles_and_uncovered_edges_match_torch():
    _check((3, 2, 9, 10), kernel_size=(2, 3))
    _check((3, 2, 7, 7), kernel_size=3)


@pytest.mark.parametrize("dtype", [np.float16, np.float64], ids=lambda d: d.__name__)
def test_tiled_avg_pool_in_float16_and_float64_matches_torch(dtype):
    _check((4, 3, 8, 8), dtype=dtype, kernel_size=2)


def test_tiled_avg_pool_with_divisor_override_matches_torch():
    _check((4, 3, 8, 8), kernel_size=2, divisor_override=3)


def test_tiled_avg_pool_gradient_of_a_sum_matches_torch():
    """out.sum().backward() sends a zero-strided gradient."""
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6))
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.avg_pool2d(ours, 2).sum().backward()
    tF.avg_pool2d(theirs, 2).sum().backward()
    assert np.array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_second_order_through_tiled_avg_pool_matches_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6))
    grads = []
    for lib, make in ((cr, cr.tensor), (torch, torch.tensor)):
        t = make(x, requires_grad=True)
        y = (lib.nn.functional.avg_pool2d(t * t, 2) ** 2).sum()
        (g,) = lib.autograd.grad(y, [t], create_graph=True)
        (g ** 2).sum().backward()
        grads.append(t.grad.detach().numpy())
    assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)
