"""Convolution, padding and fold layers against torch.nn: outputs and gradients with the
same weights, repr, parameter names and state_dict keys, initialisation, LazyConv2d, and
the constructor errors."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from helpers import TOL, assert_close, magnitude

torch = pytest.importorskip("torch")


def _check(cmod, tmod, shape, dtype=np.float64, seed=0, **call):
    """Same parameters and input: output, input gradient and parameter gradients."""
    tmod = tmod.to(torch.float64 if dtype == np.float64 else torch.float32)
    cmod = cmod.to(cr.float64 if dtype == np.float64 else cr.float32)
    with torch.no_grad():
        for (cn, cp), (tn, tp) in zip(cmod.named_parameters(), tmod.named_parameters()):
            assert cn == tn
            tp.copy_(torch.from_numpy(cp.detach().numpy().copy()))
    x = np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cy, ty = cmod(cx, **call), tmod(tx, **call)
    tol = TOL[dtype]
    assert tuple(cy.shape) == tuple(ty.shape)
    assert_close(cy.detach().numpy(), ty.detach().numpy(), scale=magnitude(x), **tol)
    w = np.random.default_rng(seed + 1).uniform(0.5, 1.5, tuple(ty.shape)).astype(dtype)
    (cy * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    assert_close(cx.grad.numpy(), tx.grad.numpy(), scale=magnitude(x), **tol)
    for (n, cp), (_, tp) in zip(cmod.named_parameters(), tmod.named_parameters()):
        assert_close(cp.grad.numpy(), tp.grad.numpy(), scale=4 * magnitude(x), err_msg=n, **tol)


CONV2D_CONFIGS = [
    dict(),
    dict(stride=2, padding=1, bias=False),
    dict(padding="same", dilation=2),
    dict(padding=(1, 2), padding_mode="reflect"),
    dict(padding=1, padding_mode="replicate", groups=2),
    dict(padding=2, padding_mode="circular", stride=(1, 2)),
    dict(padding="same", padding_mode="reflect", kernel_size=(2, 4)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONV2D_CONFIGS, ids=str)
def test_conv2d_module_matches_torch(config, dtype):
    config = dict(config)
    k = config.pop("kernel_size", 3)
    _check(nn.Conv2d(4, 6, k, **config), torch.nn.Conv2d(4, 6, k, **config), (2, 4, 7, 8),
           dtype)


@pytest.mark.parametrize("config", [dict(), dict(padding=1, padding_mode="circular"),
                                    dict(stride=2, groups=2, bias=False)], ids=str)
def test_conv1d_module_matches_torch(config):
    _check(nn.Conv1d(4, 6, 3, **config), torch.nn.Conv1d(4, 6, 3, **config), (2, 4, 9))


@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1, output_padding=1),
                                    dict(groups=2, dilation=2, bias=False)], ids=str)
def test_conv_transpose_modules_match_torch(config):
    _check(nn.ConvTranspose2d(4, 6, 3, **config), torch.nn.ConvTranspose2d(4, 6, 3, **config),
           (2, 4, 5, 4))
    _check(nn.ConvTranspose1d(4, 6, 3, **config), torch.nn.ConvTranspose1d(4, 6, 3, **config),
           (2, 4, 5))


def test_conv_transpose2d_forward_takes_the_output_size():
    c, t = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    _check(c, t, (1, 3, 4, 4), output_size=[8, 7])
    _check(c, t, (1, 3, 4, 4), output_size=(1, 2, 7, 8))
    with pytest.raises(ValueError, match=r"valid sizes range from \[7, 7\] to \[8, 8\]"):
        c(cr.ones(1, 3, 4, 4), output_size=(9, 7))


REPRS = [
    ("Conv2d", (3, 4, 3), {}),
    ("Conv2d", (3, 4, (3, 5)), dict(stride=2, padding=1, dilation=2, bias=False,
                                    padding_mode="reflect")),
    ("Conv2d", (4, 4, 3), dict(padding="same", groups=2)),
    ("Conv1d", (3, 4, 3), dict(padding="valid")),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose1d", (3, 4, 3), dict(groups=1, dilation=2)),
    ("LazyConv2d", (4, 3), {}),
    ("ZeroPad2d", (2,), {}), ("ZeroPad1d", ((1, 2),), {}),
    ("ConstantPad1d", ((1, 2), 3.5), {}), ("ConstantPad2d", (1, -1.0), {}),
    ("ReflectionPad1d", (2,), {}), ("ReflectionPad2d", ((1, 0, 2, 1),), {}),
    ("ReplicationPad1d", (2,), {}), ("ReplicationPad2d", (1,), {}),
    ("CircularPad1d", (1,), {}), ("CircularPad2d", (1,), {}),
    ("Unfold", (3,), dict(stride=2)), ("Fold", ((4, 4), 2), {}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=[r[0] for r in REPRS])
def test_module_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name,args", [("Conv2d", (4, 6, (3, 2))), ("Conv1d", (4, 6, 3)),
                                       ("ConvTranspose2d", (4, 6, 3)),
                                       ("ConvTranspose1d", (4, 6, 3))])
def test_parameters_and_state_dict_keys_and_shapes_match_torch(name, args):
    ours = getattr(nn, name)(*args, groups=2)
    theirs = getattr(torch.nn, name)(*args, groups=2)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]


def test_default_init_is_uniform_within_one_over_root_fan_in():
    cr.manual_seed(0)
    m = nn.Conv2d(16, 64, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on ±bound: standard deviation bound/√3
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    t = nn.ConvTranspose2d(16, 8, 3)  # fan_in from the weight's dim 1: 8 · 9
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(8 * 9)


def test_lazy_conv2d_infers_in_channels_and_becomes_a_conv2d():
    m = nn.LazyConv2d(5, 3, padding=1)
    opt = cr.optim.SGD(m.parameters(), lr=0.1)  # built before the parameters exist
    y = m(cr.randn(2, 3, 6, 6))
    assert type(m) is nn.Conv2d and m.in_channels == 3 and y.shape == (2, 5, 6, 6)
    assert m.weight.shape == (5, 3, 3, 3) and m.bias.shape == (5,)
    before = m.weight.detach().clone()
    y.sum().backward()
    opt.step()
    assert not np.array_equal(before.numpy(), m.weight.detach().numpy())
    assert nn.LazyConv2d(4, 2)(cr.randn(3, 5, 5)).shape == (4, 4, 4)  # unbatched


def test_lazy_conv2d_refuses_channels_the_groups_do_not_divide():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(cr.randn(1, 3, 5, 5))


@pytest.mark.parametrize("call,message", [
    (lambda m: m.Conv2d(3, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda m: m.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda m: m.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda m: m.Conv2d(3, 4, 3, padding="full"), "Invalid padding string 'full'"),
    (lambda m: m.Conv2d(3, 4, 3, stride=2, padding="same"), "strided convolutions"),
    (lambda m: m.Conv2d(3, 4, 3, padding_mode="wrap"), "padding_mode must be one of"),
    (lambda m: m.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), 'Only "zeros" padding mode'),
], ids=["groups", "in_channels", "out_channels", "padding", "same_strided", "mode",
        "transposed_mode"])
def test_constructor_errors_match_torch(call, message):
    with pytest.raises(ValueError):
        call(torch.nn)
    with pytest.raises(ValueError, match=message):
        call(nn)


@pytest.mark.parametrize("name,args,shape", [
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)), ("ZeroPad1d", (2,), (2, 3, 4)),
    ("ConstantPad1d", ((1, 2), 3.5), (2, 3, 4)), ("ConstantPad2d", (1, -1.0), (3, 4, 5)),
    ("ConstantPad3d", (1, 2.0), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", (3,), (2, 3, 4)), ("ReplicationPad2d", (2,), (3, 4, 5)),
    ("ReplicationPad3d", ((1, 0, 0, 1, 2, 0),), (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
    ("Unfold", ((2, 3), 1, 1, 2), (2, 3, 5, 6)), ("Fold", ((4, 5), 2), (2, 8, 12)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_padding_and_fold_modules_match_torch(name, args, shape):
    _check(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), shape)


def test_circular_pad_module_checks_the_input_dims_like_torch():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        torch.nn.CircularPad2d(1)(torch.ones(5, 5))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(cr.ones(5, 5))


def test_lenet_convolutions_forward_and_backward_match_torch():
    def lenet(m):  # d2l's LeNet layers, the pooling left out
        return m.Sequential(m.Conv2d(1, 6, kernel_size=5, padding=2), m.Sigmoid(),
                            m.Conv2d(6, 16, kernel_size=5), m.Sigmoid(), m.Flatten(),
                            m.Linear(16 * 24 * 24, 10))
    _check(lenet(nn), lenet(torch.nn), (4, 1, 28, 28), np.float32)
