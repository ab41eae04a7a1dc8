"""Pooling against PyTorch: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d,
adaptive_max_pool1d/2d and their modules. Outputs, indices and gradients across strides,
paddings, dilations and ceil_mode, float16/float64, empty batches, ties, NaN and -inf,
and the errors PyTorch raises (same exception type, the argument named)."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=1e-6, atol=1e-7),
       np.float64: dict(rtol=1e-12, atol=1e-13)}


def _both(fn, array, **kw):
    """fn applied to the same values in chainrule and PyTorch, with a weighted backward:
    (output pair, gradient pair); a tuple output's first element is the one weighted."""
    x = cr.tensor(array, requires_grad=array.dtype.kind == "f")
    t = torch.tensor(array, requires_grad=array.dtype.kind == "f")
    ours, theirs = getattr(F, fn)(x, **kw), getattr(torch.nn.functional, fn)(t, **kw)
    out, ref = (ours[0], theirs[0]) if isinstance(ours, tuple) else (ours, theirs)
    assert tuple(out.shape) == tuple(ref.shape)
    if not x.requires_grad:
        return (ours, theirs), None
    w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(ref.shape)).astype(array.dtype)
    (out * cr.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    return (ours, theirs), (x.grad.numpy(), t.grad.numpy())


def _check(fn, shape, dtype=np.float32, seed=0, array=None, **kw):
    array = array if array is not None else \
        np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    (ours, theirs), grads = _both(fn, array, **kw)
    pairs = list(zip(ours, theirs)) if isinstance(ours, tuple) else [(ours, theirs)]
    for a, b in pairs:
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        assert_close(a.detach().numpy(), b.detach().numpy(), **TOL[np.dtype(dtype).type])
    if grads is not None:
        assert_close(*grads, **TOL[np.dtype(dtype).type])
    return ours, theirs


def _same_error(ours, theirs, *words):
    with pytest.raises(Exception) as want:
        theirs()
    with pytest.raises(want.type) as got:
        ours()
    for word in words:
        assert word in str(got.value), (word, str(got.value))


MAX_POOL2D_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), dilation=(1, 2), ceil_mode=True),
    dict(kernel_size=(1,), stride=[2], padding=0),
]


@pytest.mark.parametrize("kw", MAX_POOL2D_CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_max_pool2d_matches_torch(kw, dtype):
    _check("max_pool2d", (2, 3, 7, 9), dtype, return_indices=True, **kw)
    _check("max_pool2d", (3, 6, 5), dtype, **kw)  # unbatched


def test_max_pool2d_ties_pick_the_first_maximum_and_a_nan_the_last():
    a = np.ones((1, 2, 4, 4), np.float32)
    a[0, 1, 0, 1] = a[0, 1, 1, 0] = np.nan  # two NaNs in one window: the later wins
    a[0, 1, 2:, 2:] = [[np.nan, 5], [5, np.nan]]
    ours, theirs = _check("max_pool2d", None, array=a, kernel_size=2, return_indices=True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    ours, theirs = _check("max_pool2d", None, array=a, kernel_size=3, stride=1, padding=1,
                          return_indices=True)  # overlapping windows add their gradients
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_max_pool2d_window_of_minus_infinity_picks_its_first_element_inside_the_input():
    a = np.full((1, 1, 4, 4), -np.inf, np.float64)
    a[0, 0, 0, 0] = 2.0
    ours, theirs = _check("max_pool2d", None, array=a, kernel_size=2, padding=1,
                          return_indices=True, dtype=np.float64)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_max_pool2d_of_integers_keeps_the_dtype():
    a = -np.arange(2 * 25, dtype=np.int64).reshape(2, 5, 5)
    ours, theirs = _check("max_pool2d", None, array=a, kernel_size=2, padding=1,
                          return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())


def test_max_pool2d_of_an_empty_batch():
    _check("max_pool2d", (0, 3, 5, 5), kernel_size=2)


def test_max_pool2d_gradient_survives_an_inplace_change_of_its_output():
    x = cr.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.relu_()  # the winners come from the saved input, not the changed output
    y.sum().backward()
    assert x.grad.sum().item() == (y > 0).sum().item()


@pytest.mark.parametrize("call,words", [
    (lambda F, x: F.max_pool2d(x, 2, padding=2), ["pad should be at most half"]),
    (lambda F, x: F.max_pool2d(x, 2, stride=0), ["stride should not be zero"]),
    (lambda F, x: F.max_pool2d(x, 2, padding=-1), ["pad must be non-negative"]),
    (lambda F, x: F.max_pool2d(x, 2, dilation=0), ["dilation"]),
    (lambda F, x: F.max_pool2d(x, 6), ["Output size is too small", "(2, 3, 5, 5)"]),
    (lambda F, x: F.max_pool2d(x, (2, 2, 2)), ["kernel_size", "(2, 2, 2)"]),
    (lambda F, x: F.max_pool2d(x, 2.0), ["kernel_size"]),
    (lambda F, x: F.max_pool2d(x[0, 0, 0], 2), ["max_pool2d", "(5,)"]),
    (lambda F, x: F.max_pool2d(x[:, :0], 2), ["(2, 0, 5, 5)"]),
    (lambda F, x: F.max_pool2d(x > 0, 2), ["Bool"]),
])
def test_max_pool2d_refuses_bad_arguments_as_torch(call, words):
    a = np.zeros((2, 3, 5, 5), np.float32)
    _same_error(lambda: call(F, cr.tensor(a)), lambda: call(torch.nn.functional,
                                                              torch.tensor(a)), *words)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, dilation=2, ceil_mode=True, stride=2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool1d_matches_torch(kw, dtype):
    _check("max_pool1d", (2, 3, 9), dtype, return_indices=True, **kw)
    _check("max_pool1d", (3, 8), dtype, **kw)


def test_max_pool1d_refuses_bad_input_as_torch():
    a = np.zeros((2, 3, 5, 5), np.float32)
    for call in (lambda F, x: F.max_pool1d(x, 2), lambda F, x: F.max_pool1d(x[0], (2, 2))):
        _same_error(lambda: call(F, cr.tensor(a)), lambda: call(torch.nn.functional,
                                                                  torch.tensor(a)))


AVG_POOL2D_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True,
         count_include_pad=False),
    dict(kernel_size=2, stride=1, divisor_override=3),
]


@pytest.mark.parametrize("kw", AVG_POOL2D_CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_avg_pool2d_matches_torch(kw, dtype):
    _check("avg_pool2d", (2, 3, 7, 8), dtype, **kw)
    _check("avg_pool2d", (3, 5, 6), dtype, **kw)


def test_avg_pool2d_of_integers_truncates_toward_zero():
    a = (np.arange(32, dtype=np.int64).reshape(2, 4, 4) * 3 - 40)
    ours, theirs = _check("avg_pool2d", None, array=a, kernel_size=3, padding=1,
                          count_include_pad=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_avg_pool2d_of_an_empty_batch():
    _check("avg_pool2d", (0, 2, 4, 4), kernel_size=2)


@pytest.mark.parametrize("call,words", [
    (lambda F, x: F.avg_pool2d(x, 2, padding=2), ["pad should be at most half"]),
    (lambda F, x: F.avg_pool2d(x, 2, divisor_override=0), ["divisor"]),
    (lambda F, x: F.avg_pool2d(x, 2, stride=(2, 2, 2)), ["stride", "(2, 2, 2)"]),
    (lambda F, x: F.avg_pool2d(x > 0, 2), ["Bool"]),
    (lambda F, x: F.avg_pool1d(x, 2), ["avg_pool1d", "(2, 3, 5, 5)"]),
])
def test_avg_pool2d_refuses_bad_arguments_as_torch(call, words):
    a = np.zeros((2, 3, 5, 5), np.float32)
    _same_error(lambda: call(F, cr.tensor(a)), lambda: call(torch.nn.functional,
                                                              torch.tensor(a)), *words)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                                          ceil_mode=True,
                                                          count_include_pad=False)])
def test_avg_pool1d_matches_torch(kw):
    _check("avg_pool1d", (2, 3, 9), np.float64, **kw)
    _check("avg_pool1d", (3, 8), np.float32, **kw)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 2), (7, 9), (5, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_adaptive_avg_pool2d_matches_torch(size, dtype):
    _check("adaptive_avg_pool2d", (2, 3, 5, 7), dtype, output_size=size)
    _check("adaptive_avg_pool2d", (3, 6, 4), dtype, output_size=size)


def test_adaptive_avg_pool2d_to_one_cell_is_the_mean_as_in_torch():
    ours, theirs = _check("adaptive_avg_pool2d", (2, 3, 6, 6), output_size=(1, 1))
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "MeanBackward1"


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_avg_pool1d_matches_torch(size):
    _check("adaptive_avg_pool1d", (2, 3, 7), np.float64, output_size=size)
    _check("adaptive_avg_pool1d", (3, 7), np.float32, output_size=size)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 2), (7, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_adaptive_max_pool2d_matches_torch(size, dtype):
    ours, theirs = _check("adaptive_max_pool2d", (2, 3, 5, 7), dtype, output_size=size,
                          return_indices=True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_adaptive_max_pool2d_nan_wins_its_cell():
    a = np.zeros((1, 1, 5, 5), np.float32)
    a[0, 0, 1, 1] = a[0, 0, 0, 0] = np.nan
    ours, theirs = _check("adaptive_max_pool2d", None, array=a, output_size=3,
                          return_indices=True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


@pytest.mark.parametrize("size", [2, 5, 9])
def test_adaptive_max_pool1d_matches_torch(size):
    ours, theirs = _check("adaptive_max_pool1d", (2, 3, 7), np.float64, output_size=size,
                          return_indices=True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_adaptive_pools_of_an_empty_batch():
    _check("adaptive_avg_pool2d", (0, 2, 5, 5), output_size=2)
    _check("adaptive_max_pool2d", (0, 2, 5, 5), output_size=2)


@pytest.mark.parametrize("call,words", [
    (lambda F, x: F.adaptive_avg_pool2d(x, (1, 2, 3)), ["output_size"]),
    (lambda F, x: F.adaptive_avg_pool2d(x, -1), ["output_size", "-1"]),
    (lambda F, x: F.adaptive_avg_pool2d(x, (2.5, 2)), ["output_size"]),
    (lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2), ["(2, 3, 0, 5)"]),
    (lambda F, x: F.adaptive_avg_pool2d(x.long(), 2), ["Long"]),
    (lambda F, x: F.adaptive_max_pool2d(x.long(), 2), ["Long"]),
    (lambda F, x: F.adaptive_max_pool2d(x[0, 0, 0], 2), ["(5,)"]),
    (lambda F, x: F.adaptive_avg_pool1d(x, 2), ["adaptive_avg_pool1d", "(2, 3, 5, 5)"]),
])
def test_adaptive_pools_refuse_bad_arguments_as_torch(call, words):
    a = np.zeros((2, 3, 5, 5), np.float32)
    _same_error(lambda: call(F, cr.tensor(a)), lambda: call(torch.nn.functional,
                                                              torch.tensor(a)), *words)


MODULES = ["MaxPool2d(2)", "MaxPool1d(3, 2)", "MaxPool2d(3, 2, 1, ceil_mode=True)",
           "AvgPool2d(2)", "AvgPool2d(3, 2, 1, True, False, 2)", "AvgPool1d(3, 2, 1)",
           "AdaptiveAvgPool2d((1, 1))", "AdaptiveAvgPool1d(3)", "AdaptiveMaxPool2d((None, 3))",
           "AdaptiveMaxPool1d(2)"]


@pytest.mark.parametrize("spec", MODULES)
def test_pooling_modules_have_torch_defaults_repr_and_output(spec):
    ours, theirs = eval("cr.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs)
    assert vars(ours).keys() >= {k for k in vars(theirs) if not k.startswith("_")}
    shape = (2, 3, 9) if "1d" in spec else (2, 3, 8, 9)
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    assert_close(ours(cr.tensor(a)).numpy(), theirs(torch.tensor(a)).numpy(), **TOL[np.float32])


def test_max_pool2d_module_returns_indices_when_asked():
    a = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float32)
    values, indices = cr.nn.MaxPool2d(2, return_indices=True)(cr.tensor(a))
    _, expected = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(a))
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


def test_pooling_grad_fn_names_are_torch_names():
    x = cr.randn(1, 2, 6, 6, requires_grad=True)
    names = [type(f(x).grad_fn).__name__ for f in (
        lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2),
        lambda x: F.adaptive_avg_pool2d(x, 3), lambda x: F.adaptive_max_pool2d(x, 3),
        lambda x: F.max_pool1d(x[0], 2))]
    assert names == ["MaxPool2DWithIndicesBackward0", "AvgPool2DBackward0",
                     "AdaptiveAvgPool2DBackward0", "AdaptiveMaxPool2DBackward0",
                     "SqueezeBackward1"]
