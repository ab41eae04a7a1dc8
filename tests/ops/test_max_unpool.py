"""max_unpool1d/2d/3d and nn.MaxUnpool1d/2d/3d against PyTorch: the values written at
max pooling's indices (default and requested output sizes, NaN and infinities), the
gradient gathered at the indices, float16/float64, empty batches, unbatched inputs, and
the errors PyTorch raises."""
import math

import numpy as np
import pytest

import chainrule as cr
from helpers import requires_torch, torch

pytestmark = requires_torch
F = cr.nn.functional
tF = torch.nn.functional if torch is not None else None


def _roundtrip(k, array, pool_kw, unpool_kw):
    """max_pool{k}d with indices then max_unpool{k}d in both libraries, with a weighted
    backward into the pooled values: (ours, theirs) outputs and value gradients."""
    results = []
    for M, lib in ((cr, F), (torch, tF)):
        values, indices = getattr(lib, f"max_pool{k}d")(M.tensor(array), return_indices=True,
                                                         **pool_kw)
        values = values.detach().requires_grad_()
        out = getattr(lib, f"max_unpool{k}d")(values, indices, **unpool_kw)
        w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)).astype(array.dtype)
        (out * M.tensor(w)).sum().backward()
        results.append((out.detach().numpy(), values.grad.numpy(), str(out.dtype)))
    (out, grad, dtype), (ref, ref_grad, ref_dtype) = results
    assert dtype.replace("chainrule.", "") == ref_dtype.replace("torch.", "")
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(grad, ref_grad)
    return out


CASES = [
    (2, (8, 3, 50, 50), dict(kernel_size=(5, 5), stride=(6, 5)), {}),
    (2, (8, 3, 30, 30), dict(kernel_size=(3, 3), stride=(6, 7), padding=1),
     dict(output_size=(30, 30))),
    (2, (1, 3, 7, 6), dict(kernel_size=(2, 2)), dict(output_size=(99, 99, 7, 6))),
    (2, (3, 6, 6), dict(kernel_size=3, stride=1), {}),
    (1, (2, 3, 11), dict(kernel_size=3, stride=2, padding=1), {}),
    (1, (3, 11), dict(kernel_size=3, stride=2), dict(output_size=[12])),
    (3, (2, 3, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1),
     dict(output_size=(5, 6, 7))),
    (3, (3, 4, 6, 4), dict(kernel_size=2, stride=1), {}),
]


@pytest.mark.parametrize("k,shape,pool_kw,extra", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_max_unpool_values_and_gradient_match_torch(k, shape, pool_kw, extra, dtype):
    array = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    unpool_kw = {n: v for n, v in pool_kw.items() if n != "dilation"}
    _roundtrip(k, array, pool_kw, dict(unpool_kw, **extra))


def test_max_unpool2d_keeps_infinities_and_nan_like_torch():
    data = np.array([[[[math.inf, -math.inf, math.nan], [1.0, 2.0, 3.0]]]])
    out = _roundtrip(2, data, dict(kernel_size=2), dict(kernel_size=2))
    assert out[0, 0, 0, 0] == math.inf


def test_max_unpool_of_an_empty_batch_gives_an_empty_output():
    array = np.zeros((0, 2, 4, 4), np.float32)
    out = _roundtrip(2, array, dict(kernel_size=2), dict(kernel_size=2))
    assert out.shape == (0, 2, 4, 4)


def test_max_unpool_gradient_reaches_second_order():
    x = cr.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 4)), requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    (g,) = cr.autograd.grad((F.max_unpool2d(values, indices, 2) ** 2).sum(), [x],
                            create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    tv, ti = tF.max_pool2d(t, 2, return_indices=True)
    (tg,) = torch.autograd.grad((tF.max_unpool2d(tv, ti, 2) ** 2).sum(), [t], create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), [t])
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)


def _error(fn, values, indices, *args, **kw):
    with pytest.raises(Exception) as want:
        getattr(tF, fn)(torch.tensor(values), torch.tensor(indices), *args, **kw)
    with pytest.raises(want.type) as got:
        getattr(F, fn)(cr.tensor(values), cr.tensor(indices), *args, **kw)
    return str(got.value)


def test_max_unpool_indices_out_of_the_output_raise_runtime_error_naming_the_index():
    values = np.ones((1, 1, 2, 2), np.float32)
    indices = np.array([[[[0, 1], [5, 111]]]])
    assert "invalid max index: 111" in _error("max_unpool2d", values, indices, 2)
    assert "size 4x4" in _error("max_unpool2d", values, indices, 2)
    assert "invalid max index: -3" in _error("max_unpool2d", values, -indices - 3, 2)
    # a 1-D unpool is a width-1 plane, as PyTorch words it
    assert "size 4x1" in _error("max_unpool1d", values[0], indices[0], 2)


@pytest.mark.parametrize("fn,values,indices,args,kw,words", [
    ("max_unpool2d", (1, 2, 2, 2), ((1, 2, 2, 2), np.int32), (2,), {}, ["int64", "Int"]),
    ("max_unpool2d", (1, 2, 2, 2), ((1, 1, 2, 2), np.int64), (2,), {},
     ["[1, 2, 2, 2]", "[1, 1, 2, 2]"]),
    ("max_unpool2d", (2, 2), ((2, 2), np.int64), (2,), {}, ["3d or 4d", "2 dimensions"]),
    ("max_unpool2d", (1, 2, 2, 2), ((1, 2, 2, 2), np.int64), (2,),
     dict(output_size=(1, 2, 3)), ["2 or 4 elements", "'3'"]),
    ("max_unpool2d", (1, 2, 2, 2), ((1, 2, 2, 2), np.int64), (2,),
     dict(output_size=(9, 9)), ["(9, 9)", "between 2 and 6"]),
    ("max_unpool3d", (1, 1, 2, 2, 2), ((1, 1, 2, 2, 2), np.int64), (2,), dict(stride=0),
     ["greater than zero", "[0, 0, 0]"]),
    ("max_unpool2d", (1, 0, 2, 2), ((1, 0, 2, 2), np.int64), (2,), {}, ["[1, 0, 2, 2]"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_max_unpool_bad_arguments_raise_torchs_exception(fn, values, indices, args, kw, words):
    ishape, idtype = indices
    message = _error(fn, np.zeros(values, np.float32), np.zeros(ishape, idtype), *args, **kw)
    for word in words:
        assert word in message, (word, message)


def test_max_unpool_of_integer_values_raises_not_implemented_like_torch():
    message = _error("max_unpool2d", np.zeros((1, 1, 2, 2), np.int64),
                     np.zeros((1, 1, 2, 2), np.int64), 2)
    assert "Long" in message


@pytest.mark.parametrize("k,args,kwargs", [(1, (2,), {}), (2, ((2, 3),), dict(stride=1)),
                                           (3, (2,), dict(stride=(1, 2, 2), padding=1))])
def test_max_unpool_modules_match_torch(k, args, kwargs):
    ours = getattr(cr.nn, f"MaxUnpool{k}d")(*args, **kwargs)
    theirs = getattr(torch.nn, f"MaxUnpool{k}d")(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.stride, ours.padding) == \
        (theirs.kernel_size, theirs.stride, theirs.padding)
    shape = (2, 2) + (6,) * k
    a = np.random.default_rng(3).standard_normal(shape)
    pool = dict(kernel_size=ours.kernel_size, stride=ours.stride, padding=ours.padding,
                return_indices=True)
    values, indices = getattr(F, f"max_pool{k}d")(cr.tensor(a), **pool)
    tvalues, tindices = getattr(tF, f"max_pool{k}d")(torch.tensor(a), **pool)
    out = ours(values, indices, output_size=shape[2:])
    ref = theirs(tvalues, tindices, output_size=shape[2:])
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
