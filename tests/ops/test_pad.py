"""F.pad (constant with negative widths, reflect, replicate, circular) and F.unfold /
F.fold against PyTorch: values, gradients, node names, dtypes, empty batches, errors."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def _compare(ours_fn, theirs_fn, shape, dtype=np.float64, seed=0):
    """Same input: output, its node's name and the input gradient (copies and sums of
    inputs: equal up to the summation order)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, shape).astype(dtype)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours_fn(a), theirs_fn(b)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    assert type(out.grad_fn).__name__ == type(ref.grad_fn).__name__
    w = rng.uniform(0.5, 1.5, tuple(ref.shape)).astype(dtype)
    (out * cr.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("widths", [(1, 2), (0, 3, 2, 1), (-1, 2, 2, -3), (2, -1),
                                    (1, 1, 1, 1, 1, 1, 1, 1), (-2, -3)], ids=str)
def test_constant_pad_matches_torch_and_negative_widths_crop(widths):
    _compare(lambda x: F.pad(x, widths, value=1.5), lambda x: tF.pad(x, widths, value=1.5),
             (2, 3, 5, 6))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths,shape", [
    ((2, 3), (2, 3, 6)), ((1, 2), (3, 6)), ((2, 1, 0, 3), (2, 3, 4, 5)),
    ((-1, 2, 2, -1), (2, 3, 4, 5)), ((1, 0, 2, 1, 1, 1), (1, 2, 3, 4, 5)),
], ids=str)
def test_reflect_replicate_circular_pad_match_torch(mode, widths, shape):
    _compare(lambda x: F.pad(x, widths, mode), lambda x: tF.pad(x, widths, mode), shape)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int64])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_keeps_the_dtype(mode, dtype):
    x = np.arange(24).reshape(1, 2, 3, 4).astype(dtype)
    out = F.pad(cr.tensor(x), (1, 2, 2, 1), mode)
    ref = tF.pad(torch.tensor(x), (1, 2, 2, 1), mode)
    assert out.dtype.name == str(ref.dtype)[6:]
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_constant_pad_value_is_cast_to_the_dtype_like_torch():
    x = np.arange(5).reshape(1, 1, 5)
    np.testing.assert_array_equal(F.pad(cr.tensor(x), (1, 1), value=2.5).numpy(),
                                  tF.pad(torch.tensor(x), (1, 1), value=2.5).numpy())


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_of_an_empty_batch(mode):
    out = F.pad(cr.zeros(0, 2, 3, 4), (1, 1, 2, 2), mode)
    assert out.shape == tF.pad(torch.zeros(0, 2, 3, 4), (1, 1, 2, 2), mode).shape


def test_reflect_pad_gradient_node_carries_torchs_name():
    grads = []
    for lib in (cr, torch):
        x = lib.ones(1, 2, 4, 4, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.pad(x, (1, 1, 1, 1), "reflect")
        grads.append(lib.autograd.grad((y * y).sum(), [x], create_graph=True)[0])
    assert type(grads[0].grad_fn).__name__ == type(grads[1].grad_fn).__name__


PAD_ERRORS = [
    ((2, 4, 5, 5), (1, 2, 3), {}, "divisible by 2"),
    ((2, 4, 5, 5), (1,) * 10, {}, "padding length 10 and input of dimension 4"),
    ((2, 4, 5, 5), (1, 1), dict(mode="reflect"), "Padding size 2 is not supported for 4D"),
    ((2, 4, 5, 5), (5, 1, 1, 1), dict(mode="reflect"), r"padding \(5, 1\) at dimension 3"),
    ((2, 4, 5, 5), (1, 1, 5, 1), dict(mode="reflect"), r"padding \(5, 1\) at dimension 2"),
    ((2, 4, 5, 5), (6, 1, 1, 1), dict(mode="circular"), "wrapping around more than once"),
    ((2, 4, 5, 5), (1, 1), dict(mode="wrap"), "Unrecognised padding mode wrap"),
    ((2, 4, 5, 5), (1, 1, 1, 1), dict(mode="reflect", value=2.0), "doesn't take in value"),
    ((2, 0, 4, 4), (1, 1, 1, 1), dict(mode="reflect"), r"non-zero dimensions.*\[2, 0, 4, 4\]"),
    ((2, 4, 5, 5), (1.5, 1), {}, "tuple of ints"),
    ((2, 4, 5, 5), (-3, -3), {}, r"\[2, 4, 5, 5\]"),
]


@pytest.mark.parametrize("shape,widths,kwargs,message", PAD_ERRORS,
                         ids=[e[3][:30] for e in PAD_ERRORS])
def test_pad_errors_match_torch(shape, widths, kwargs, message):
    with pytest.raises(Exception) as theirs:
        tF.pad(torch.ones(shape), widths, **kwargs)
    with pytest.raises(type(theirs.value), match=message):
        F.pad(cr.ones(shape), widths, **kwargs)


def test_pad_of_bools_refuses_reflect_like_torch():
    with pytest.raises(NotImplementedError, match="Bool"):
        F.pad(cr.ones(1, 1, 5, dtype=cr.bool), (1, 1), "reflect")
    out = F.pad(cr.ones(1, 1, 5, dtype=cr.bool), (1, 1), "circular")
    assert out.dtype == cr.bool and out.shape == (1, 1, 7)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2),
                                    dict(kernel_size=3, padding=1, dilation=(1, 2)),
                                    dict(kernel_size=1)], ids=str)
def test_unfold_matches_torch(kwargs):
    _compare(lambda x: F.unfold(x, **kwargs), lambda x: tF.unfold(x, **kwargs), (2, 3, 6, 7))
    _compare(lambda x: F.unfold(x, **kwargs), lambda x: tF.unfold(x, **kwargs), (3, 6, 7))


def test_unfold_of_a_1x1_block_is_a_copy_not_a_view():
    x = cr.zeros(1, 2, 3, 3)
    cols = F.unfold(x, 1)
    cols += 1
    assert float(x.sum()) == 0.0


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2),
                                    dict(kernel_size=3, padding=1, dilation=(1, 2))], ids=str)
def test_fold_matches_torch_and_sums_overlaps(kwargs):
    blocks = tF.unfold(torch.zeros(1, 2, 6, 7), **kwargs).shape
    for shape in (tuple(blocks), tuple(blocks)[1:]):
        _compare(lambda c: F.fold(c, (6, 7), **kwargs),
                 lambda c: tF.fold(c, (6, 7), **kwargs), shape)


def test_fold_of_float16_matches_torch():
    x = np.random.default_rng(0).uniform(-1, 1, (1, 8, 12)).astype(np.float16)
    out = F.fold(cr.tensor(x), (4, 5), 2)
    np.testing.assert_array_equal(out.numpy(), tF.fold(torch.tensor(x), (4, 5), 2).numpy())


def test_unfold_and_fold_of_an_empty_batch():
    assert F.unfold(cr.zeros(0, 2, 5, 5), 3).shape == (0, 18, 9)
    assert F.fold(cr.zeros(0, 12, 16), (5, 5), 2).shape == (0, 3, 5, 5)


BLOCK_ERRORS = [
    ("unfold", [(2, 3, 5, 5), 6], {}, r"spatial size \(5, 5\).*at least one"),
    ("unfold", [(2, 5), 2], {}, r"\[2, 5\]"),
    ("unfold", [(2, 3, 5, 5), (2, 3, 4)], {}, "kernel_size equals to 2"),
    ("unfold", [(2, 3, 5, 5), 0], {}, "kernel size should be greater than zero"),
    ("unfold", [(2, 3, 5, 5), 2], dict(stride=0), "stride should be greater than zero"),
    ("unfold", [(2, 3, 5, 5), 2], dict(padding=-1), "padding should be non-negative"),
    ("unfold", [(2, 3, 5, 5, 5), 2], {}, r"\[2, 3, 5, 5, 5\]"),
    ("fold", [(2, 13, 16), (5, 5), 2], {}, r"input.size\(1\)=13"),
    ("fold", [(2, 12, 15), (5, 5), 2], {}, r"4 \* 4 = 16, but got input.size\(2\)=15"),
    ("fold", [(2, 12, 16, 1), (5, 5), 2], {}, r"\[2, 12, 16, 1\]"),
    ("fold", [(2, 12, 16), (5, 5, 5), 2], {}, "output_size equals to 2"),
]


@pytest.mark.parametrize("name,spec,kwargs,message", BLOCK_ERRORS,
                         ids=[f"{e[0]}-{e[3][:25]}" for e in BLOCK_ERRORS])
def test_unfold_and_fold_errors_match_torch(name, spec, kwargs, message):
    with pytest.raises(Exception) as theirs:
        getattr(tF, name)(torch.ones(spec[0]), *spec[1:], **kwargs)
    with pytest.raises(type(theirs.value), match=message):
        getattr(F, name)(cr.ones(spec[0]), *spec[1:], **kwargs)


def test_unfold_of_integers_and_fold_of_integers_are_not_implemented_like_torch():
    with pytest.raises(NotImplementedError, match="Long"):
        F.unfold(cr.ones(1, 1, 3, 3, dtype=cr.int64), 2)
    with pytest.raises(NotImplementedError, match="Long"):
        F.fold(cr.ones(1, 4, 4, dtype=cr.int64), (3, 3), 2)
