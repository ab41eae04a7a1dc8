"""conv1d, conv2d, conv_transpose1d, conv_transpose2d against PyTorch: forward and the
input, weight and bias gradients across strides, paddings, dilations and groups; float16,
float32, float64 and integers; empty batches; unbatched inputs; PyTorch's errors."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

from helpers import assert_close, magnitude

torch = pytest.importorskip("torch")
tF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=1e-5)}


def _compare(name, shapes, kwargs, dtype=np.float64, seed=0, bias=True):
    """Same inputs through chainrule's and PyTorch's F.<name>: output and every gradient."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    if not bias:
        arrays.append(None)
    ours = [cr.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    out = getattr(F, name)(*ours, **kwargs)
    ref = getattr(tF, name)(*theirs, **kwargs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert out.dtype.name == str(ref.dtype)[6:]
    tol = TOL[dtype]
    assert_close(out.detach().numpy(), ref.detach().numpy(), scale=magnitude(*arrays[:2]) ** 2,
                 **tol)
    weights = rng.uniform(0.5, 1.5, tuple(ref.shape)).astype(dtype)
    (out * cr.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for which, a, b in zip(("input", "weight", "bias"), ours, theirs):
        if a is not None:
            assert_close(a.grad.numpy(), b.grad.numpy(), scale=4 * magnitude(*arrays[:2]),
                         err_msg=which, **tol)
    return out


GEOMETRIES_2D = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=2, dilation=2),
    dict(stride=(1, 3), dilation=(2, 1), padding=(0, 1)),
    dict(padding="valid"),
    dict(padding="same"),
    dict(padding="same", dilation=(2, 3)),
]


@pytest.mark.parametrize("kwargs", GEOMETRIES_2D, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch_across_strides_paddings_dilations(kwargs, bias):
    shapes = [(2, 3, 9, 8), (4, 3, 3, 2)] + ([(4,)] if bias else [])
    _compare("conv2d", shapes, kwargs, bias=bias)


@pytest.mark.parametrize("groups,channels", [(2, (4, 6)), (3, (3, 3)), (4, (4, 8))],
                         ids=["groups2", "depthwise", "depthwise_multiplier2"])
def test_conv2d_groups_and_depthwise_match_torch(groups, channels):
    c, o = channels
    _compare("conv2d", [(2, c, 7, 6), (o, c // groups, 3, 3), (o,)],
             dict(groups=groups, padding=1, stride=(1, 2)))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_with_more_channels_than_output_pixels_matches_torch(groups):
    # the weight gradient takes one product over the whole batch here
    _compare("conv2d", [(3, 4, 4, 5), (8, 4 // groups, 3, 3), (8,)],
             dict(stride=2, groups=groups))


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(dilation=3),
                                    dict(padding="same", dilation=2), dict(groups=2)], ids=str)
def test_conv1d_matches_torch(kwargs):
    groups = kwargs.get("groups", 1)
    _compare("conv1d", [(3, 4, 11), (6, 4 // groups, 4), (6,)], kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(3, 2), padding=(2, 0), output_padding=(2, 1)),
    dict(dilation=2, output_padding=1),
    dict(groups=2, stride=2, dilation=(1, 2)),
], ids=str)
def test_conv_transpose2d_matches_torch(kwargs):
    groups = kwargs.get("groups", 1)
    _compare("conv_transpose2d", [(2, 4, 5, 4), (4, 3, 3, 2), (3 * groups,)], kwargs)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=3, padding=1, output_padding=2),
                                    dict(groups=2, dilation=2)], ids=str)
def test_conv_transpose1d_matches_torch(kwargs):
    groups = kwargs.get("groups", 1)
    _compare("conv_transpose1d", [(2, 4, 7), (4, 2, 3), (2 * groups,)], kwargs)


@pytest.mark.parametrize("name,shapes", [
    ("conv2d", [(3, 2, 12, 12), (5, 2, 5, 5), (5,)]),
    ("conv_transpose2d", [(3, 5, 6, 6), (5, 2, 3, 3), (2,)]),
])
def test_conv_float32_matches_torch(name, shapes):
    _compare(name, shapes, dict(stride=2, padding=1), dtype=np.float32)


def test_conv2d_float16_computes_in_float32_and_rounds_once_like_torch():
    rng = np.random.default_rng(1)
    x, w, b = (rng.uniform(-2, 2, s).astype(np.float16) for s in [(2, 3, 8, 8), (4, 3, 3, 3), (4,)])
    out = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), padding=1)
    ref = tF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1)
    assert out.dtype == cr.float16
    exact = tF.conv2d(*(torch.tensor(a).double() for a in (x, w, b)), padding=1)
    # one rounding of the exact value: within half a float16 ulp, as PyTorch's result is
    ulp = np.spacing(np.abs(exact.numpy()).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(out.numpy().astype(np.float64) - exact.numpy()) <= ulp)
    assert np.abs(out.numpy().astype(np.float64) - ref.numpy()).max() <= ulp.max()


def test_conv2d_float16_gradients_match_torch():
    rng = np.random.default_rng(2)
    x, w = (rng.uniform(-1, 1, s).astype(np.float16) for s in [(2, 2, 6, 6), (3, 2, 3, 3)])
    ours = [cr.tensor(a, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    F.conv2d(*ours, stride=2).sum().backward()
    tF.conv2d(*theirs, stride=2).sum().backward()
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == cr.float16
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-3, atol=2e-3)


def test_conv2d_of_integers_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = (rng.integers(-5, 5, s) for s in [(2, 2, 5, 5), (3, 2, 2, 2), (3,)])
    out = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), stride=2, padding=1)
    ref = tF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    assert out.dtype == cr.int64 and np.array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("name,x_shape,w_shape", [
    ("conv2d", (0, 3, 6, 6), (4, 3, 3, 3)),
    ("conv1d", (0, 2, 5), (3, 2, 2)),
    ("conv_transpose2d", (0, 3, 4, 4), (3, 2, 3, 3)),
    ("conv3d", (0, 3, 4, 4, 4), (4, 3, 3, 3, 3)),
    ("conv_transpose3d", (0, 3, 3, 3, 3), (3, 2, 3, 3, 3)),
])
def test_conv_of_an_empty_batch_gives_empty_output_and_zero_weight_gradient(name, x_shape,
                                                                            w_shape):
    x = cr.zeros(x_shape, requires_grad=True)
    w = cr.ones(w_shape, requires_grad=True)
    out = getattr(F, name)(x, w, padding=1)
    ref = getattr(tF, name)(torch.zeros(x_shape), torch.ones(w_shape), padding=1)
    assert tuple(out.shape) == tuple(ref.shape)
    out.sum().backward()
    assert x.grad.shape == x.shape and np.all(w.grad.numpy() == 0)


@pytest.mark.parametrize("name,x_shape,w_shape", [
    ("conv2d", (3, 6, 5), (4, 3, 3, 3)),
    ("conv1d", (2, 7), (3, 2, 3)),
    ("conv_transpose2d", (3, 4, 4), (3, 2, 3, 3)),
])
def test_unbatched_input_is_a_batch_of_one(name, x_shape, w_shape):
    _compare(name, [x_shape, w_shape], dict(stride=2), bias=False)


def test_top_level_functions_are_the_functional_ones():
    for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"):
        assert getattr(cr, name) is getattr(F, name)
    x, w = cr.randn(1, 2, 5, 5), cr.randn(3, 2, 3, 3)
    # torch.conv2d takes the arguments positionally too
    assert cr.conv2d(x, w, None, 1, 1).shape == (1, 3, 5, 5)


def test_conv_nodes_carry_torch_names():
    x = cr.randn(1, 2, 5, 5, dtype=cr.float64, requires_grad=True)
    w = cr.randn(3, 2, 3, 3, dtype=cr.float64, requires_grad=True)
    y = F.conv2d(x, w)
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0"
    gx, gw = cr.autograd.grad(y.sum(), [x, w], create_graph=True)
    assert type(gx.grad_fn).__name__ == "ConvolutionBackwardBackward0"
    assert type(gw.grad_fn).__name__ == "ConvolutionBackwardBackward0"
    assert type(F.conv_transpose2d(y, w).grad_fn).__name__ == "ConvolutionBackward0"


def _args(lib, spec):
    """Tensors (for a shape or (shape, dtype)) in the given library, the rest as is."""
    out = []
    for v in spec:
        if isinstance(v, tuple) and v and isinstance(v[0], tuple):
            shape, dtype = v
            out.append(lib.ones(shape, dtype=getattr(lib, dtype)))
        elif isinstance(v, tuple):
            out.append(lib.ones(v))
        else:
            out.append(v)
    return out


BAD_CALLS = [
    ("conv2d", [(2, 3, 5, 5), (4, 2, 3, 3)], {},
     r"expected input\[2, 3, 5, 5\] to have 2 channels"),
    ("conv2d", [(2, 3, 2, 2), (4, 3, 3, 3)], {}, r"padded input size per channel: \(2 x 2\)"),
    ("conv2d", [(2, 3, 5, 5), (4, 1, 3, 3)], dict(groups=2), "groups=2"),
    ("conv2d", [(2, 4, 5, 5), (3, 2, 3, 3)], dict(groups=2), r"divisible by 2 .*\[3, 2, 3, 3\]"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(groups=0), "non-positive groups"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(stride=0), "non-positive stride"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(padding=-1), "negative padding"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(dilation=0), "non-positive dilation"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(stride=2, padding="same"), "strided"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(padding="full"), "Invalid padding string"),
    ("conv2d", [(5, 5), (4, 3, 3, 3)], {}, r"4D \(batched\) input to conv2d.*\[5, 5\]"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3), (3,)], {}, r"bias .*4 elements.*\[3\]"),
    ("conv2d", [(2, 3, 5, 5), ((4, 3, 3, 3), "float64")], {}, r"Float.*Double"),
    ("conv2d", [((2, 3, 5, 5), "bool"), ((4, 3, 3, 3), "bool")], {}, "Bool"),
    ("conv2d", [(2, 3, 5, 5), (4, 3, 3, 3)], dict(stride=(1, 2, 3)), r"stride=\[1, 2, 3\]"),
    ("conv2d", [(2, 3, 5, 5), (0, 3, 3, 3)], {}, "at least 1 at dimension 0"),
    ("conv1d", [(2, 3, 5), (4, 3, 3, 3)], {}, r"4-dimensional weight \[4, 3, 3, 3\]"),
    ("conv1d", [(5,), (4, 3, 3)], {}, r"input of size: \[5\]"),
    ("conv_transpose2d", [(2, 3, 5, 5), (4, 3, 3, 3)], {}, "expected input.* to have 4 channels"),
    ("conv_transpose2d", [(2, 4, 5, 5), (4, 3, 3, 3)], dict(stride=2, output_padding=2),
     "output padding must be smaller than either stride or dilation"),
    ("conv_transpose2d", [((2, 4, 5, 5), "float64"), ((4, 3, 3, 3), "float64")],
     dict(padding=4), r"\(5 x 5\).*\(-1 x -1\). Output size is too small"),
    ("conv_transpose2d", [(2, 4, 5, 5), (4, 3, 3, 3), (4,)], {}, r"bias .*3 elements"),
    ("conv_transpose2d", [(2, 4, 5, 5), (4, 3, 3, 3)], dict(padding="same"), "tuple of ints"),
    ("conv2d", [[1.0], (4, 3, 3, 3)], {}, "Tensor"),
]


@pytest.mark.parametrize("name,spec,kwargs,message", BAD_CALLS,
                         ids=[f"{c[0]}-{c[3][:30]}" for c in BAD_CALLS])
def test_bad_arguments_raise_torchs_exception_naming_the_shapes(name, spec, kwargs, message):
    with pytest.raises(Exception) as theirs:
        getattr(tF, name)(*_args(torch, spec), **kwargs)
    with pytest.raises(type(theirs.value), match=message) as ours:
        getattr(F, name)(*_args(cr, spec), **kwargs)
    assert type(ours.value) is type(theirs.value)
    if not isinstance(ours.value, TypeError):
        assert str(ours.value).startswith(f"{name}: ")
