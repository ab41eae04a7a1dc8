"""interpolate on 5-D volumes (nearest, nearest-exact, trilinear with and without
align_corners, area) and on uint8 images (the nearest modes; bilinear with PyTorch's
int16 weights), against PyTorch: outputs, gradients, float16/float64, empty batches,
an axis whose size is kept, the Upsample module, and the errors PyTorch raises."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, functional_raises_like_torch, functional_matches_torch, requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=2e-6, atol=1e-6),
       np.float64: dict(rtol=1e-12, atol=1e-13)}
DTYPES = [np.float32, np.float64, np.float16]


def _check(shape, dtype=np.float32, **kw):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    return functional_matches_torch("interpolate", a, TOL[np.dtype(dtype).type], **kw)


@pytest.mark.parametrize("kw", [dict(size=(3, 6, 4)), dict(scale_factor=2),
                                dict(scale_factor=(1.7, 0.6, 2.5)),
                                dict(scale_factor=1.4, recompute_scale_factor=True)], ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_nearest_modes_on_volumes_match_torch(kw, mode, dtype):
    ours, theirs = _check((2, 3, 5, 2, 8), dtype, mode=mode, **kw)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("kw", [dict(size=(3, 6, 4)), dict(scale_factor=(1.7, 0.6, 2.5)),
                                dict(size=(7, 1, 5), align_corners=True),
                                dict(scale_factor=0.7, align_corners=True)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_trilinear_matches_torch(kw, dtype):
    ours, theirs = _check((2, 3, 5, 2, 8), dtype, mode="trilinear", **kw)
    assert type(ours.grad_fn).__name__ == "UpsampleTrilinear3DBackward0"


@pytest.mark.parametrize("mode,shape,scale", [
    ("linear", (1, 2, 3), 1.2), ("bilinear", (1, 2, 2, 3), (1.7, 1.2)),
    ("trilinear", (1, 2, 3, 2, 3), (1.7, 1.3, 1.2))])
def test_linear_modes_copy_an_axis_whose_size_is_kept_whatever_the_scale(mode, shape, scale):
    # floor(2 * 1.3) == 2 and floor(3 * 1.2) == 3: PyTorch leaves those axes as they are
    ours, _ = _check(shape, np.float64, mode=mode, scale_factor=scale)
    if mode == "linear":
        a = np.random.default_rng(0).standard_normal(shape)
        np.testing.assert_array_equal(ours.detach().numpy(), a)


def test_interpolate_trilinear_touches_only_the_neighbours_of_an_infinity():
    a = np.zeros((1, 1, 3, 3, 3))
    a[0, 0, 1, 1, 1] = np.inf
    ours = F.interpolate(cr.tensor(a), size=(5, 4, 5), mode="trilinear").numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(a), size=(5, 4, 5),
                                             mode="trilinear").numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("size", [(3, 4, 5), (1, 1, 1), (7, 2, 3)], ids=str)
def test_interpolate_area_on_volumes_is_adaptive_average_pooling(size):
    _check((2, 3, 5, 4, 6), np.float64, mode="area", size=size)


def test_interpolate_of_an_empty_batch_of_volumes():
    _check((0, 2, 3, 4, 2), np.float32, size=5)
    _check((0, 2, 3, 4, 2), np.float32, size=(2, 3, 4), mode="trilinear")


def _uint8_pair(shape, seed=0, **kw):
    a = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    ours = F.interpolate(cr.tensor(a), **kw)
    theirs = torch.nn.functional.interpolate(torch.tensor(a), **kw)
    assert ours.dtype == cr.uint8
    return ours.numpy(), theirs.numpy()


@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 64, 64), dict(size=(10, 10))), ((2, 3, 9, 7), dict(scale_factor=2.3)),
    ((2, 3, 7), dict(size=10)), ((1, 2, 4, 6, 7), dict(size=(10, 10, 3)))], ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_modes_of_uint8_match_torch_exactly(shape, kw, mode):
    ours, theirs = _uint8_pair(shape, mode=mode, **kw)
    np.testing.assert_array_equal(ours, theirs)


# channels 1-4 and above, up- and downsampling, kept axes, align_corners, scale factors
BILINEAR_UINT8 = [
    ((2, 3, 64, 64), dict(size=(10, 10))),
    ((2, 3, 12, 20), dict(size=(9, 31))),
    ((1, 4, 9, 31), dict(size=(20, 12), align_corners=True)),
    ((1, 6, 11, 7), dict(size=(23, 3))),
    ((2, 1, 5, 8), dict(size=(5, 13))),
    ((2, 5, 7, 6), dict(size=(1, 9))),
    ((1, 3, 16, 9), dict(scale_factor=(0.45, 2.6))),
    ((1, 2, 16, 9), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((1, 3, 1, 1), dict(size=(4, 3))),
    ((1, 2, 13, 17), dict(scale_factor=(0.3, 0.8), align_corners=True)),
]


@pytest.mark.parametrize("shape,kw", BILINEAR_UINT8, ids=str)
def test_interpolate_bilinear_of_uint8_matches_torch_exactly(shape, kw):
    for seed in range(3):
        ours, theirs = _uint8_pair(shape, seed, mode="bilinear", **kw)
        np.testing.assert_array_equal(ours, theirs)


def test_interpolate_bilinear_of_uint8_rounds_each_pass_like_torch():
    a = np.random.default_rng(0).integers(0, 256, (1, 3, 7, 9)).astype(np.uint8)
    ours = F.interpolate(cr.tensor(a), size=(14, 12), mode="bilinear").numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(a), size=(14, 12), mode="bilinear")
    np.testing.assert_array_equal(ours, theirs.numpy())
    # the float interpolation rounded once gives other values: the passes' rounding matters
    once = F.interpolate(cr.tensor(a.astype(np.float64)), size=(14, 12), mode="bilinear")
    assert np.any(np.round(once.numpy()) != ours)


def _same_error(call, shape, dtype, *words):
    functional_raises_like_torch(call, np.zeros(shape, dtype), *words)


@pytest.mark.parametrize("call,shape,dtype,words", [
    (lambda F, x: F.interpolate(x, size=5, mode="linear"), (1, 2, 3), np.uint8,
     ["compute_indices_weights_linear", "Byte"]),
    (lambda F, x: F.interpolate(x, size=5, mode="trilinear"), (1, 2, 3, 3, 3), np.uint8,
     ["compute_indices_weights_linear", "Byte"]),
    (lambda F, x: F.interpolate(x, size=5), (1, 2, 3, 3, 3), np.int32, ["Int"]),
    (lambda F, x: F.interpolate(x, size=(5, 4)), (1, 2, 3, 3), np.int64, ["Long"]),
    (lambda F, x: F.interpolate(x, size=5, mode="area"), (1, 2, 3, 3, 3), np.uint8, ["Byte"]),
    (lambda F, x: F.interpolate(x, size=(5, 4), mode="trilinear"), (1, 2, 3, 3), np.float32,
     ["5D", "trilinear"]),
    (lambda F, x: F.interpolate(x, size=(5, 4, 2), mode="bilinear"), (1, 2, 3, 3, 3),
     np.float32, ["4D", "bilinear"]),
    (lambda F, x: F.interpolate(x, size=(5, 4)), (1, 2, 3, 3, 3), np.float32,
     ["[3, 3, 3]", "(5, 4)"]),
    (lambda F, x: F.interpolate(x, size=(0, 4, 2)), (1, 2, 3, 3, 3), np.float32,
     ["D: 0, H: 4, W: 2"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_interpolate_volumes_and_integers_refuse_bad_arguments_as_torch(call, shape, dtype,
                                                                       words):
    _same_error(call, shape, dtype, *words)


@pytest.mark.parametrize("spec", ["Upsample(scale_factor=2, mode='trilinear')",
                                  "Upsample(size=(3, 5, 4), mode='nearest')",
                                  "Upsample(scale_factor=(1.5, 2, 0.5), mode='trilinear', "
                                  "align_corners=True)"])
def test_upsample_module_on_volumes_matches_torch(spec):
    ours, theirs = eval("cr.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(0).standard_normal((2, 2, 3, 4, 6)).astype(np.float32)
    assert_close(ours(cr.tensor(a)).numpy(), theirs(torch.tensor(a)).numpy(),
                 **TOL[np.float32])
