"""The chunked convolution kernels (ops/conv_chunked.py) against PyTorch, for the shapes
they serve: LeNet's two layers (the rows layout and the bands one), strides,
dilations, uneven padding, conv1d, the transposed convolution, float16/float64, batches
that leave a partial last chunk, gradients that are broadcast views; second order
through them, and a compiled LeNet step replaying eager's bits."""
import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import conv_bands, conv_chunked

from helpers import assert_close, magnitude
from helpers import cross_entropy_train_step

torch = pytest.importorskip("torch")
tF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-6),
       np.float16: dict(rtol=2e-3, atol=2e-3)}


def _layout(x_shape, w_shape, stride=1, padding=0, dilation=1, itemsize=4):
    """The layout conv_chunked picks for conv2d of these shapes (None: not served)."""
    pads = (padding,) * 4
    hw = [(n + 2 * padding - dilation * (k - 1) - 1) // stride + 1
          for n, k in zip(x_shape[2:], w_shape[2:])]
    s = conv_chunked.plan(x_shape, w_shape, hw, (stride, stride, *pads, dilation, dilation, 1),
                          itemsize)
    return None if s is None else s.layout


def _check(name, x_shape, w_shape, kwargs, dtype=np.float32, seed=0, input_grad=True):
    """chainrule's and PyTorch's F.<name> on the same inputs: output, the input's (when it
    requires grad), weight's and bias's gradients under a random output gradient."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) * 0.2).astype(dtype)
    b = rng.standard_normal(w_shape[1] if "transpose" in name else w_shape[0]).astype(dtype)
    ours = [cr.tensor(x, requires_grad=input_grad), cr.tensor(w, requires_grad=True),
            cr.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(x, requires_grad=input_grad), torch.tensor(w, requires_grad=True),
              torch.tensor(b, requires_grad=True)]
    out, ref = getattr(F, name)(*ours, **kwargs), getattr(tF, name)(*theirs, **kwargs)
    assert out.shape == tuple(ref.shape) and out.dtype.name == str(ref.dtype)[6:]
    tol = TOL[dtype]
    scale = magnitude(x, w) * np.sqrt(w.size / w.shape[0])
    assert_close(out.detach().numpy(), ref.detach().numpy(), scale=scale, **tol)
    g = rng.standard_normal(tuple(ref.shape)).astype(dtype)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    for which, a, t in zip(("input", "weight", "bias"), ours, theirs):
        if a.requires_grad:
            big = scale * magnitude(g) * np.sqrt(np.prod(g.shape) / g.shape[1])
            assert_close(a.grad.numpy(), t.grad.numpy(), scale=big, err_msg=which, **tol)
    if not input_grad:
        assert ours[0].grad is None


def test_lenet_first_layer_uses_rows_and_matches_torch_without_input_gradient():
    assert _layout((50, 1, 28, 28), (6, 1, 5, 5), padding=2) == "rows"
    _check("conv2d", (50, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), input_grad=False)


def test_lenet_second_layer_uses_bands_and_matches_torch():
    assert _layout((50, 6, 14, 14), (16, 6, 5, 5)) == "bands"
    _check("conv2d", (50, 6, 14, 14), (16, 6, 5, 5), {})


def test_rows_layout_with_dilation_and_uneven_same_padding_matches_torch():
    assert _layout((6, 3, 20, 20), (4, 3, 3, 3), padding=2, dilation=2) == "rows"
    _check("conv2d", (6, 3, 20, 20), (4, 3, 3, 3), dict(padding=2, dilation=2))
    with warnings.catch_warnings():  # PyTorch's note that it pads a copy
        warnings.simplefilter("ignore", UserWarning)
        _check("conv2d", (6, 3, 20, 21), (4, 3, 4, 2), dict(padding="same"))


def test_bands_layout_with_stride_dilation_and_rectangles_matches_torch():
    assert _layout((8, 4, 12, 12), (5, 4, 3, 3), stride=2, padding=1) == "bands"
    _check("conv2d", (8, 4, 12, 12), (5, 4, 3, 3), dict(stride=2, padding=1))
    _check("conv2d", (9, 3, 11, 7), (2, 3, 3, 2), dict(stride=(2, 3), padding=(1, 2),
                                                        dilation=(2, 1)))


def test_partial_last_chunks_match_one_chunk(monkeypatch):
    """Chunks of a few images (the last one short) give PyTorch's numbers too."""
    monkeypatch.setattr(conv_chunked, "CHUNK_BYTES", 30_000)
    assert _layout((11, 1, 12, 12), (3, 1, 3, 3), padding=1) == "rows"
    _check("conv2d", (11, 1, 12, 12), (3, 1, 3, 3), dict(padding=1))
    monkeypatch.setattr(conv_bands, "FORWARD_BYTES", 10_000)
    monkeypatch.setattr(conv_bands, "INPUT_BYTES", 10_000)
    assert _layout((11, 2, 9, 9), (3, 2, 3, 3)) == "bands"
    _check("conv2d", (11, 2, 9, 9), (3, 2, 3, 3), {})


def test_conv1d_goes_through_the_chunked_kernels_and_matches_torch():
    _check("conv1d", (12, 3, 30), (5, 3, 4), dict(padding=2))
    _check("conv1d", (12, 3, 30), (5, 3, 3), dict(stride=2, dilation=2))


def test_conv_transpose2d_with_output_padding_matches_torch():
    _check("conv_transpose2d", (8, 4, 7, 7), (4, 3, 3, 3), dict(stride=2, padding=1,
                                                                  output_padding=1))
    _check("conv_transpose2d", (8, 4, 9, 9), (4, 3, 5, 5), dict(padding=2))


@pytest.mark.parametrize("dtype", [np.float16, np.float64], ids=lambda d: d.__name__)
def test_lenet_layers_in_float16_and_float64_match_torch(dtype):
    _check("conv2d", (20, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), dtype=dtype)
    _check("conv2d", (20, 6, 14, 14), (16, 6, 5, 5), {}, dtype=dtype)


def test_broadcast_gradient_and_strided_input_match_torch():
    """out.sum().backward() sends a zero-strided gradient; a sliced input is no copy."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 6, 30, 30)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    xs, ws = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(xs[:, :, ::2, 1::2], ws).sum().backward()
    tF.conv2d(xt[:, :, ::2, 1::2], wt).sum().backward()
    for a, b in ((xs, xt), (ws, wt)):
        assert_close(a.grad.numpy(), b.grad.numpy(), scale=magnitude(b.grad.numpy()),
                     rtol=2e-4, atol=2e-6)


def test_second_order_through_chunked_kernels_matches_torch():
    """The gradient of a gradient norm: the kernels' adjoints differentiated again."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 6, 14, 14))
    w = rng.standard_normal((16, 6, 5, 5)) * 0.2
    results = []
    for lib, make in ((cr, cr.tensor), (torch, torch.tensor)):
        xs, ws = make(x, requires_grad=True), make(w, requires_grad=True)
        out = lib.nn.functional.conv2d(xs, ws, padding=1)
        gx, gw = lib.autograd.grad((out ** 2).sum(), [xs, ws], create_graph=True)
        ((gx ** 2).sum() + (gw ** 2).sum()).backward()
        results.append((xs.grad.detach().numpy(), ws.grad.detach().numpy()))
    for a, b in zip(*results):
        assert_close(a, b, rtol=1e-9, atol=1e-11)


def _lenet():
    nn = cr.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
                         nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
                         nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                         nn.Linear(84, 10))


def test_compiled_lenet_step_replays_eager_bit_for_bit(monkeypatch):
    """Both layouts over several chunks, the last one short, recorded and replayed."""
    monkeypatch.setattr(conv_chunked, "CHUNK_BYTES", 400_000)
    assert _layout((40, 1, 28, 28), (6, 1, 5, 5), padding=2) == "rows"
    assert _layout((40, 6, 14, 14), (16, 6, 5, 5)) == "bands"
    cr.manual_seed(0)
    a = _lenet()
    b = copy.deepcopy(a)

    def step_of(model):
        return cross_entropy_train_step(model, cr.optim.SGD(model.parameters(), lr=0.9))
    compiled, eager = cr.compile(step_of(a)), step_of(b)
    rng = np.random.default_rng(0)
    data = [(cr.tensor(rng.standard_normal((40, 1, 28, 28)).astype(np.float32)),
             cr.tensor(rng.integers(0, 10, 40))) for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager fails the test
        for _ in range(3):
            assert [compiled(X, y).item() for X, y in data] == [eager(X, y).item()
                                                                for X, y in data]
    assert compiled._eager is None and any(
        e.verified for entries in compiled._cache.values() for e in entries)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p._data, q._data), name


def test_chunks_run_on_two_threads_give_the_bits_of_one(monkeypatch):
    """Chunks side by side on the worker threads: the same output and gradients, bit
    for bit, as one after another (both layouts, several chunks each)."""
    monkeypatch.setattr(conv_chunked, "CHUNK_BYTES", 200_000)
    monkeypatch.setattr(conv_bands, "FORWARD_BYTES", 60_000)
    monkeypatch.setattr(conv_bands, "INPUT_BYTES", 60_000)
    rng = np.random.default_rng(3)
    cases = [((30, 1, 28, 28), (6, 1, 5, 5), 2), ((30, 6, 14, 14), (16, 6, 5, 5), 0)]
    assert [_layout(x, w, padding=p) for x, w, p in cases] == ["rows", "bands"]
    try:
        for x_shape, w_shape, pad in cases:
            x = rng.standard_normal(x_shape).astype(np.float32)
            w = rng.standard_normal(w_shape).astype(np.float32)
            g = None
            results = []
            for threads in (1, 2):
                cr.set_num_threads(threads)
                xs, ws = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
                out = F.conv2d(xs, ws, padding=pad)
                g = rng.standard_normal(out.shape).astype(np.float32) if g is None else g
                out.backward(cr.tensor(g))
                results.append([out.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()])
            for a, b in zip(*results):
                assert np.array_equal(a, b)
    finally:
        cr.set_num_threads("auto")
