"""conv3d, conv_transpose3d, nn.Conv3d and nn.ConvTranspose3d against PyTorch: forward and
the input, weight and bias gradients across strides, paddings, dilations and groups;
float16, float32, float64 and integers; empty batches; unbatched inputs; the modules'
parameters, init, repr and forward output_size; PyTorch's errors naming the shapes."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

from helpers import assert_close, magnitude

torch = pytest.importorskip("torch")
tF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=1e-5)}


def _compare(name, shapes, kwargs, dtype=np.float64, seed=0):
    """Same inputs through chainrule's and PyTorch's F.<name>: output and every gradient."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = getattr(F, name)(*ours, **kwargs), getattr(tF, name)(*theirs, **kwargs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert out.dtype.name == str(ref.dtype)[6:]
    scale = magnitude(*arrays[:2])
    assert_close(out.detach().numpy(), ref.detach().numpy(), scale=scale ** 2, **TOL[dtype])
    weights = rng.uniform(0.5, 1.5, tuple(ref.shape)).astype(dtype)
    (out * cr.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for which, a, b in zip(("input", "weight", "bias"), ours, theirs):
        assert_close(a.grad.numpy(), b.grad.numpy(), scale=4 * scale, err_msg=which,
                     **TOL[dtype])


GEOMETRIES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1, 3), padding=(1, 2, 0)),
    dict(padding=2, dilation=(2, 1, 2)),
    dict(padding="same", dilation=(1, 2, 1)),
    dict(padding="valid", groups=2),
    dict(stride=(1, 2, 1), padding=1, groups=4),
]


@pytest.mark.parametrize("kwargs", GEOMETRIES, ids=str)
def test_conv3d_matches_torch_across_strides_paddings_dilations_groups(kwargs):
    groups = kwargs.get("groups", 1)
    _compare("conv3d", [(2, 4, 6, 7, 5), (4, 4 // groups, 3, 2, 3), (4,)], kwargs)


TRANSPOSED = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2)),
    dict(stride=2, dilation=(2, 1, 3), output_padding=(1, 0, 0)),
    dict(stride=(1, 2, 2), padding=1, groups=2),
]


@pytest.mark.parametrize("kwargs", TRANSPOSED, ids=str)
def test_conv_transpose3d_matches_torch_across_geometries(kwargs):
    groups = kwargs.get("groups", 1)
    _compare("conv_transpose3d", [(2, 4, 3, 4, 3), (4, 6 // groups, 3, 2, 2), (6,)], kwargs)


@pytest.mark.parametrize("name,shapes", [
    ("conv3d", [(1, 4, 9, 9, 9), (4, 4, 3, 3, 3), (4,)]),
    ("conv_transpose3d", [(2, 4, 5, 5, 5), (4, 4, 3, 3, 3), (4,)]),
])
def test_conv3d_float32_matches_torch(name, shapes):
    _compare(name, shapes, dict(padding=1), dtype=np.float32)


@pytest.mark.parametrize("name,shapes", [
    ("conv3d", [(2, 3, 5, 5, 5), (4, 3, 3, 3, 3), (4,)]),
    ("conv_transpose3d", [(2, 3, 4, 3, 4), (3, 4, 3, 2, 3), (4,)]),
])
def test_conv3d_float16_computes_in_float32_and_rounds_once_like_torch(name, shapes):
    rng = np.random.default_rng(1)
    x, w, b = (rng.uniform(-2, 2, s).astype(np.float16) for s in shapes)
    out = getattr(F, name)(cr.tensor(x), cr.tensor(w), cr.tensor(b), stride=2, padding=1)
    exact = getattr(tF, name)(*(torch.tensor(a).double() for a in (x, w, b)), stride=2,
                              padding=1)
    assert out.dtype == cr.float16
    # one rounding of the exact value: within half a float16 ulp
    ulp = np.spacing(np.abs(exact.numpy()).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(out.numpy().astype(np.float64) - exact.numpy()) <= ulp)


def test_conv3d_float16_gradients_match_torch():
    rng = np.random.default_rng(2)
    x, w = (rng.uniform(-1, 1, s).astype(np.float16) for s in [(2, 2, 4, 5, 4), (3, 2, 2, 3, 2)])
    ours = [cr.tensor(a, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    F.conv3d(*ours, stride=2).sum().backward()
    tF.conv3d(*theirs, stride=2).sum().backward()
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == cr.float16
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-3, atol=2e-3)


def test_conv3d_of_integers_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = (rng.integers(-5, 5, s) for s in [(2, 2, 4, 5, 5), (3, 2, 2, 2, 2), (3,)])
    out = F.conv3d(cr.tensor(x), cr.tensor(w), cr.tensor(b), stride=2, padding=1)
    ref = tF.conv3d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    assert out.dtype == cr.int64 and np.array_equal(out.numpy(), ref.numpy())


def test_conv3d_keeps_infinities_where_torch_does():
    # the depth taps are gathered by slicing, not by a product with a selection matrix
    x = np.zeros((1, 1, 4, 3, 3))
    x[0, 0, 1, 1, 1] = np.inf
    w = np.ones((1, 1, 2, 1, 1))
    out = F.conv3d(cr.tensor(x), cr.tensor(w)).numpy()
    np.testing.assert_array_equal(out, tF.conv3d(torch.tensor(x), torch.tensor(w)).numpy())


@pytest.mark.parametrize("name,x_shape,w_shape", [
    ("conv3d", (3, 5, 6, 4), (4, 3, 3, 3, 2)),
    ("conv_transpose3d", (3, 3, 4, 2), (3, 2, 2, 3, 2)),
])
def test_conv3d_unbatched_input_is_a_batch_of_one(name, x_shape, w_shape):
    rng = np.random.default_rng(4)
    x, w = rng.uniform(-1, 1, x_shape), rng.uniform(-1, 1, w_shape)
    out = getattr(F, name)(cr.tensor(x), cr.tensor(w), stride=2)
    ref = getattr(tF, name)(torch.tensor(x), torch.tensor(w), stride=2)
    assert_close(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_conv3d_top_level_functions_are_the_functional_ones():
    assert cr.conv3d is F.conv3d and cr.conv_transpose3d is F.conv_transpose3d


BAD_CALLS = [
    ("conv3d", [(2, 3, 5, 5, 5), (4, 2, 3, 3, 3)], {},
     r"expected input\[2, 3, 5, 5, 5\] to have 2 channels"),
    ("conv3d", [(2, 3, 2, 2, 2), (4, 3, 3, 3, 3)], {},
     r"padded input size per channel: \(2 x 2 x 2\). Kernel size: \(3 x 3 x 3\)"),
    ("conv3d", [(3, 5, 5), (4, 3, 3, 3, 3)], {},
     r"5D \(batched\) input to conv3d.*\[3, 5, 5\]"),
    ("conv3d", [(2, 3, 5, 5, 5), (4, 3, 3, 3)], {}, r"4-dimensional weight \[4, 3, 3, 3\]"),
    ("conv3d", [(2, 3, 5, 5, 5), (4, 3, 3, 3, 3)], dict(stride=(1, 2)), r"stride=\[1, 2\]"),
    ("conv3d", [(2, 4, 5, 5, 5), (3, 2, 3, 3, 3)], dict(groups=2), r"divisible by 2"),
    ("conv3d", [(2, 3, 5, 5, 5), (4, 3, 3, 3, 3), (3,)], {}, r"bias .*4 elements.*\[3\]"),
    ("conv_transpose3d", [(2, 3, 4, 4, 4), (4, 3, 3, 3, 3)], {},
     "expected input.* to have 4 channels"),
    ("conv_transpose3d", [(2, 4, 4, 4, 4), (4, 3, 3, 3, 3)], dict(output_padding=(1, 0, 0)),
     "output padding must be smaller than either stride or dilation, but got "
     "output_padding_depth: 1"),
    ("conv_transpose3d", [(2, 4, 2, 2, 2), (4, 3, 1, 1, 1)], dict(padding=2),
     r"\(2 x 2 x 2\).*\(-2 x -2 x -2\). Output size is too small"),
]


def _tensors(M, shapes):
    return [M.tensor(np.zeros(s, np.float32)) for s in shapes]


@pytest.mark.parametrize("name,shapes,kwargs,message", BAD_CALLS,
                         ids=[f"{c[0]}-{c[3][:30]}" for c in BAD_CALLS])
def test_conv3d_bad_arguments_raise_torchs_exception_naming_the_shapes(name, shapes, kwargs,
                                                                       message):
    with pytest.raises(Exception) as theirs:
        getattr(tF, name)(*_tensors(torch, shapes), **kwargs)
    with pytest.raises(type(theirs.value), match=message) as ours:
        getattr(F, name)(*_tensors(cr, shapes), **kwargs)
    assert str(ours.value).startswith(f"{name}: ")


def _same_parameters(ours, theirs):
    with torch.no_grad():
        for (cn, cp), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert cn == tn
            tp.copy_(torch.from_numpy(cp.detach().numpy().copy()))


@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1, bias=False),
                                    dict(padding="same", dilation=2, groups=2),
                                    dict(padding=(1, 0, 2), padding_mode="reflect"),
                                    dict(padding=1, padding_mode="circular")], ids=str)
def test_conv3d_module_matches_torch(config):
    ours, theirs = nn.Conv3d(4, 6, 3, **config), torch.nn.Conv3d(4, 6, 3, **config)
    _same_parameters(ours, theirs)
    x = np.random.default_rng(5).uniform(-1, 1, (2, 4, 5, 6, 5)).astype(np.float32)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(cx), theirs(tx)
    assert_close(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    out.sum().backward()
    ref.sum().backward()
    assert_close(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert_close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_transpose3d_module_forward_takes_the_output_size():
    ours = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1)
    _same_parameters(ours, theirs)
    x = np.random.default_rng(6).uniform(-1, 1, (1, 4, 3, 3, 3)).astype(np.float32)
    out = ours(cr.tensor(x), output_size=(6, 5, 6))
    ref = theirs(torch.tensor(x), output_size=(6, 5, 6))
    assert tuple(out.shape) == (1, 2, 6, 5, 6)
    assert_close(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes range"):
        ours(cr.tensor(x), output_size=(9, 5, 5))


@pytest.mark.parametrize("name", ["Conv3d", "ConvTranspose3d"])
def test_conv3d_modules_repr_parameters_and_state_dict_match_torch(name):
    args, kwargs = (4, 6, (3, 2, 1)), dict(stride=2, padding=1, groups=2, bias=False)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_conv3d_default_init_is_uniform_within_one_over_root_fan_in():
    cr.manual_seed(0)
    m = nn.Conv3d(8, 32, 3)
    bound = 1 / math.sqrt(8 * 27)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    t = nn.ConvTranspose3d(8, 4, 3)  # fan_in from the weight's dim 1: 4 · 27
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(4 * 27)
