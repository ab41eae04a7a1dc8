"""3-D pooling against PyTorch: max_pool3d (values, indices, gradients; ties, NaN, -inf),
avg_pool3d (padding counted or not, divisor_override, ceil_mode, int64),
adaptive_avg_pool3d, adaptive_max_pool3d and their modules; empty batches, unbatched inputs and the errors PyTorch raises."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, functional_raises_like_torch, requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=1e-6, atol=1e-6),
       np.float64: dict(rtol=1e-12, atol=1e-13)}


def _check(fn, shape, dtype=np.float64, array=None, **kw):
    """fn on the same values in chainrule and PyTorch: outputs (indices included) and the
    gradient of a weighted sum of the first output."""
    if array is None:
        array = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    grad = array.dtype.kind == "f"
    x, t = cr.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)
    ours, theirs = getattr(F, fn)(x, **kw), getattr(torch.nn.functional, fn)(t, **kw)
    pairs = list(zip(ours, theirs)) if isinstance(ours, tuple) else [(ours, theirs)]
    for a, b in pairs:
        assert tuple(a.shape) == tuple(b.shape)
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        assert_close(a.detach().numpy(), b.detach().numpy(), **TOL.get(array.dtype.type,
                                                                       TOL[np.float64]))
    if grad:
        out, ref = pairs[0]
        w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(ref.shape)).astype(array.dtype)
        (out * cr.tensor(w)).sum().backward()
        (ref * torch.tensor(w)).sum().backward()
        assert_close(x.grad.numpy(), t.grad.numpy(), **TOL[array.dtype.type])
    return ours, theirs


MAX_GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), dilation=(2, 1, 1)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 1, 2), stride=1, dilation=(1, 1, 3)),
]


@pytest.mark.parametrize("kw", MAX_GEOMETRIES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_max_pool3d_values_indices_and_gradient_match_torch(kw, dtype):
    _check("max_pool3d", (2, 3, 5, 6, 7), dtype, return_indices=True, **kw)


def test_max_pool3d_ties_pick_the_first_and_overlaps_accumulate_like_torch():
    array = np.random.default_rng(2).integers(0, 3, (1, 2, 4, 5, 4)).astype(np.float64)
    _check("max_pool3d", None, array=array, kernel_size=3, stride=1, padding=1,
           return_indices=True)


def test_max_pool3d_nan_wins_and_all_minus_inf_windows_pick_an_input_element():
    a = np.full((1, 1, 3, 4, 4), -np.inf)
    a[0, 0, 1, 1, 2] = np.nan
    a[0, 0, 2, 3, 0] = np.nan
    a[0, 0, 0, 0, 3] = 5.0
    _check("max_pool3d", None, array=a, kernel_size=2, padding=1, return_indices=True)


def test_max_pool3d_of_integers_matches_torch():
    array = np.random.default_rng(3).integers(-50, 50, (2, 2, 4, 4, 5))
    _check("max_pool3d", None, array=array, kernel_size=2, stride=(2, 1, 2),
           return_indices=True)


@pytest.mark.parametrize("fn", ["max_pool3d", "avg_pool3d"])
def test_3d_pool_of_an_empty_batch_and_an_unbatched_input_match_torch(fn):
    _check(fn, (0, 2, 4, 4, 4), kernel_size=2)
    _check(fn, (2, 4, 5, 4), kernel_size=(2, 3, 2), stride=1)


AVG_GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=(8, 8, 8), stride=5, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("kw", AVG_GEOMETRIES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool3d_matches_torch(kw, dtype):
    shape = (1, 1, 16, 16, 16) if kw["kernel_size"] == (8, 8, 8) else (2, 3, 5, 6, 7)
    _check("avg_pool3d", shape, dtype, **kw)


def test_avg_pool3d_of_int64_truncates_like_torch():
    array = np.random.default_rng(4).integers(-20, 20, (2, 2, 5, 5, 5))
    _check("avg_pool3d", None, array=array, kernel_size=3, stride=2, padding=1)
    _check("avg_pool3d", None, array=array, kernel_size=2, divisor_override=3)


@pytest.mark.parametrize("size", [(3, 4, 5), 1, (7, None, 1), (2, 2, 2)], ids=str)
def test_adaptive_avg_pool3d_matches_torch(size):
    _check("adaptive_avg_pool3d", (2, 3, 5, 6, 7), output_size=size)
    _check("adaptive_avg_pool3d", (3, 5, 6, 7), np.float32, output_size=size)


@pytest.mark.parametrize("size", [(3, 4, 5), 1, (2, None, 3), (5, 6, 7), (7, 9, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_adaptive_max_pool3d_values_indices_and_gradient_match_torch(size, dtype):
    _check("adaptive_max_pool3d", (2, 3, 5, 6, 7), dtype, output_size=size,
           return_indices=True)


def test_adaptive_max_pool3d_ties_nan_and_empty_batch_match_torch():
    a = np.random.default_rng(6).integers(0, 2, (2, 2, 5, 4, 5)).astype(np.float64)
    a[0, 0, 1, 1, ::2] = np.nan  # several NaN in one cell: the last one wins
    _check("adaptive_max_pool3d", None, array=a, output_size=(3, 3, 2), return_indices=True)
    _check("adaptive_max_pool3d", (0, 2, 3, 4, 3), output_size=2, return_indices=True)
    _check("adaptive_max_pool3d", (2, 3, 4, 3), output_size=(2, 1, 2), return_indices=True)


def _same_error(call, shape=(1, 2, 4, 4, 4), dtype=np.float32, *words):
    functional_raises_like_torch(call, np.zeros(shape, dtype), *words)


@pytest.mark.parametrize("call,shape,dtype,words", [
    (lambda M, x: M.max_pool3d(x, 2, padding=2), (1, 2, 4, 4, 4), np.float32,
     ["pad should be at most half of effective kernel size", "kernel_size=2"]),
    (lambda M, x: M.max_pool3d(x, 5), (1, 2, 4, 4, 4), np.float32,
     ["Given input size: (2x4x4x4)", "Output size is too small"]),
    (lambda M, x: M.max_pool3d(x, (2, 2)), (1, 2, 4, 4, 4), np.float32,
     ["kernel_size must", "(2, 2)"]),
    (lambda M, x: M.max_pool3d(x, 2), (4, 4, 4), np.float32, ["(4, 4, 4)"]),
    (lambda M, x: M.max_pool3d(x, 2), (1, 0, 2, 2, 2), np.float32, ["(1, 0, 2, 2, 2)"]),
    (lambda M, x: M.max_pool3d(x, 2), (1, 2, 2, 2, 2), np.bool_, ["Bool"]),
    (lambda M, x: M.avg_pool3d(x, 2, stride=0), (1, 2, 4, 4, 4), np.float32,
     ["stride should not be zero"]),
    (lambda M, x: M.avg_pool3d(x, 2, divisor_override=0), (1, 2, 4, 4, 4), np.float32,
     ["divisor must be not zero"]),
    (lambda M, x: M.avg_pool3d(x, 2), (1, 2, 4, 4, 4), np.float16, ["Half"]),
    (lambda M, x: M.avg_pool3d(x, 2), (1, 2, 4, 4, 4), np.int32, ["Int"]),
    (lambda M, x: M.adaptive_avg_pool3d(x, (2, 2)), (1, 2, 4, 4, 4), np.float32,
     ["output_size", "(2, 2)"]),
    (lambda M, x: M.adaptive_max_pool3d(x, (2, 2)), (1, 2, 4, 4, 4), np.float32,
     ["output_size", "(2, 2)"]),
    (lambda M, x: M.adaptive_max_pool3d(x, 2), (1, 2, 4, 4, 4), np.int64, ["Long"]),
    (lambda M, x: M.adaptive_max_pool3d(x, 2), (2, 4, 4), np.float32, ["(2, 4, 4)"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_3d_pool_bad_arguments_raise_torchs_exception(call, shape, dtype, words):
    _same_error(call, shape, dtype, *words)


@pytest.mark.parametrize("name,args,kwargs,call", [
    ("MaxPool3d", (2,), dict(stride=1, padding=1), {}),
    ("MaxPool3d", ((2, 3, 2),), dict(return_indices=True, ceil_mode=True), {}),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), {}),
    ("AvgPool3d", ((2, 1, 2),), dict(divisor_override=2), {}),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}, {}),
    ("AdaptiveMaxPool3d", ((3, 2, 2),), dict(return_indices=True), {}),
])
def test_3d_pool_modules_match_torch(name, args, kwargs, call):
    ours, theirs = getattr(cr.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(5).standard_normal((2, 2, 5, 6, 4))
    out, ref = ours(cr.tensor(a)), theirs(torch.tensor(a))
    for o, r in (zip(out, ref) if isinstance(out, tuple) else [(out, ref)]):
        assert_close(o.numpy(), r.numpy(), **TOL[np.float64])
