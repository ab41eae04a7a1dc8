"""Resampling against PyTorch: interpolate (nearest, nearest-exact, linear, bilinear with
and without align_corners, area; size= or scale_factor=, recompute_scale_factor),
pixel_shuffle / pixel_unshuffle and the Upsample / PixelShuffle modules: outputs and
gradients, float16/float64, empty batches, and the errors PyTorch raises."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, functional_raises_like_torch, functional_matches_torch, requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=2e-6, atol=1e-6),
       np.float64: dict(rtol=1e-12, atol=1e-13)}


def _check(fn, shape, dtype=np.float32, *args, **kw):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    return functional_matches_torch(fn, a, TOL[np.dtype(dtype).type], *args, **kw)


def _same_error(call, *words, shape=(1, 2, 3, 4)):
    functional_raises_like_torch(call, np.zeros(shape, np.float32), *words)


DTYPES = [np.float32, np.float64, np.float16]


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(8, 3)), dict(scale_factor=1.7),
                                dict(scale_factor=(0.6, 2.3)), dict(size=5),
                                dict(scale_factor=1.7, recompute_scale_factor=True)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_nearest_matches_torch(kw, dtype):
    ours, theirs = _check("interpolate", (2, 3, 5, 7), dtype, **kw)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("kw", [dict(scale_factor=2.5), dict(size=13), dict(scale_factor=0.6)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_nearest_1d_matches_torch(kw, dtype):
    _check("interpolate", (2, 3, 7), dtype, **kw)


def test_interpolate_nearest_1d_forward_keeps_torch_indices_when_the_size_is_unchanged():
    # a scale that keeps the size still moves PyTorch's 1-D sources (not its 2-D ones)
    a = np.arange(10.0).reshape(1, 1, 10)
    ours = F.interpolate(cr.tensor(a), scale_factor=1.05)
    theirs = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=1.05)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = F.interpolate(cr.tensor(a.reshape(1, 1, 1, 10)), scale_factor=1.05)
    np.testing.assert_array_equal(ours.numpy().ravel(), a.ravel())


@pytest.mark.parametrize("kw", [dict(size=(5, 2)), dict(scale_factor=(0.6, 2.3)),
                                dict(scale_factor=1.5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_nearest_exact_matches_torch(kw, dtype):
    _check("interpolate", (2, 3, 5, 7), dtype, mode="nearest-exact", **kw)
    _check("interpolate", (2, 3, 7), dtype, mode="nearest-exact", scale_factor=0.6)


@pytest.mark.parametrize("kw", [dict(size=(9, 11)), dict(size=(9, 4), align_corners=True),
                                dict(scale_factor=1.7), dict(scale_factor=(0.5, 3.0)),
                                dict(scale_factor=1.7, recompute_scale_factor=True),
                                dict(size=(1, 1), align_corners=True), dict(size=(5, 7))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_bilinear_matches_torch(kw, dtype):
    ours, theirs = _check("interpolate", (2, 3, 5, 7), dtype, mode="bilinear", **kw)
    assert type(ours.grad_fn).__name__ == "UpsampleBilinear2DBackward0"


@pytest.mark.parametrize("kw", [dict(scale_factor=1.7), dict(size=13, align_corners=True),
                                dict(size=1, align_corners=True), dict(size=3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_linear_matches_torch(kw, dtype):
    _check("interpolate", (2, 3, 7), dtype, mode="linear", **kw)


def test_interpolate_bilinear_touches_only_the_neighbours_of_an_infinity():
    a = np.zeros((1, 1, 4, 4), np.float32)
    a[0, 0, 0, 0] = np.inf
    ours = F.interpolate(cr.tensor(a), size=(8, 8), mode="bilinear").numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(a), size=(8, 8), mode="bilinear")
    np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("shape,size", [((2, 3, 7, 6), (3, 4)), ((2, 3, 7), 3)])
def test_interpolate_area_is_adaptive_average_pooling(shape, size):
    _check("interpolate", shape, np.float64, size=size, mode="area")


def test_interpolate_of_an_empty_batch():
    _check("interpolate", (0, 2, 3, 4), np.float32, size=5)
    _check("interpolate", (0, 2, 3, 4), np.float32, size=5, mode="bilinear")


@pytest.mark.parametrize("call,words", [
    (lambda F, x: F.interpolate(x, size=(5, 7), align_corners=True), ["align_corners"]),
    (lambda F, x: F.interpolate(x, size=(5, 7), scale_factor=2), ["size", "scale_factor"]),
    (lambda F, x: F.interpolate(x), ["size or scale_factor"]),
    (lambda F, x: F.interpolate(x, size=(5, 7, 3)), ["[3, 4]", "(5, 7, 3)"]),
    (lambda F, x: F.interpolate(x, scale_factor=(2, 3, 4)), ["[3, 4]", "(2, 3, 4)"]),
    (lambda F, x: F.interpolate(x, size=(5, 7), mode="linear"), ["4D", "linear"]),
    (lambda F, x: F.interpolate(x[0], size=7, mode="bilinear"), ["3D", "bilinear"]),
    (lambda F, x: F.interpolate(x, size=(5, 7), mode="foo"), ["foo"]),
    (lambda F, x: F.interpolate(x, size=(0, 7)), ["H: 0, W: 7"]),
    (lambda F, x: F.interpolate(x, scale_factor=0.1), ["H: 0, W: 0"]),
    (lambda F, x: F.interpolate(x, size=(5.5, 7)), ["size"]),
    (lambda F, x: F.interpolate(x, size=5, recompute_scale_factor=True), ["recompute"]),
    (lambda F, x: F.interpolate(x[0, 0], size=5), ["2D"]),
    (lambda F, x: F.interpolate(x.long(), size=5), ["Long"]),
])
def test_interpolate_refuses_bad_arguments_as_torch(call, words):
    _same_error(call, *words)


@pytest.mark.parametrize("r,shape", [(2, (1, 8, 2, 3)), (3, (2, 18, 3, 2)), (2, (4, 2, 3)),
                                     (2, (2, 3, 4, 4, 2, 3))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle_matches_torch(r, shape, dtype):
    ours, theirs = _check("pixel_shuffle", shape, dtype, r)
    assert type(ours.grad_fn).__name__ == "PixelShuffleBackward0"


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_unshuffle_matches_torch_and_inverts_the_shuffle(dtype):
    ours, _ = _check("pixel_unshuffle", (2, 3, 4, 6), dtype, 2)
    back = F.pixel_shuffle(ours, 2)
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 6)).astype(dtype)
    np.testing.assert_array_equal(back.detach().numpy(), a)


@pytest.mark.parametrize("call,words,shape", [
    (lambda F, x: F.pixel_shuffle(x, 3), ["size(-3)=8", "9"], (1, 8, 2, 3)),
    (lambda F, x: F.pixel_shuffle(x, 2), ["at least 3 dimensions", "2"], (8, 2)),
    (lambda F, x: F.pixel_shuffle(x, 0), ["upscale_factor", "0"], (1, 8, 2, 3)),
    (lambda F, x: F.pixel_unshuffle(x, 2), ["width", "size(-1)=5"], (1, 2, 4, 5)),
    (lambda F, x: F.pixel_unshuffle(x, 2), ["height", "size(-2)=5"], (1, 2, 5, 4)),
    (lambda F, x: F.pixel_unshuffle(x, -1), ["downscale_factor", "-1"], (1, 2, 4, 4)),
])
def test_pixel_shuffle_refuses_bad_arguments_as_torch(call, words, shape):
    _same_error(call, *words, shape=shape)


MODULES = ["Upsample(scale_factor=2)", "Upsample(size=(3, 4), mode='bilinear')",
           "Upsample(scale_factor=(2, 3))", "Upsample(scale_factor=1.5, mode='bilinear', "
           "align_corners=True)", "UpsamplingNearest2d(scale_factor=2)",
           "UpsamplingBilinear2d(size=(5, 9))", "PixelShuffle(2)", "PixelUnshuffle(2)"]


@pytest.mark.parametrize("spec", MODULES)
def test_resampling_modules_have_torch_defaults_repr_and_output(spec):
    ours, theirs = eval("cr.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(0).standard_normal((2, 4, 4, 6)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UpsamplingBilinear2d's deprecation in PyTorch
        expected = theirs(torch.tensor(a)).numpy()
    assert_close(ours(cr.tensor(a)).numpy(), expected, **TOL[np.float32])
