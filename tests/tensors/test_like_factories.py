"""The *_like factories against PyTorch: shape and dtype taken from the input, dtype= and
requires_grad= overrides, the random ones drawing from chainrule's global generator (so a
seed gives the same numbers as rand/randn/randint), and PyTorch's errors for bad input."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr

INPUTS = {
    "float 2x3": lambda m: m.arange(6.0).reshape(2, 3),
    "int64 vector": lambda m: m.arange(4),
    "float16": lambda m: m.ones(3, dtype=m.float16),
    "float64 0-d": lambda m: m.tensor(2.5, dtype=m.float64),
    "empty": lambda m: m.zeros(0, 3),
    "bool": lambda m: m.tensor([True, False]),
}
DETERMINISTIC = {
    "zeros_like": lambda m, x, **kw: m.zeros_like(x, **kw),
    "ones_like": lambda m, x, **kw: m.ones_like(x, **kw),
    "full_like 7": lambda m, x, **kw: m.full_like(x, 7, **kw),
    "full_like 2.7": lambda m, x, **kw: m.full_like(x, 2.7, **kw),
    "full_like True": lambda m, x, **kw: m.full_like(x, True, **kw),
}


def _dtype_name(t):
    return str(t.dtype).split(".")[1]


def _error_type(fn):
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - only the type is compared
        return type(err)
    return None


@pytest.mark.parametrize("inp", sorted(INPUTS))
@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_like_factories_match_torch(name, inp):
    fn = DETERMINISTIC[name]
    c, t = fn(cr, INPUTS[inp](cr)), fn(torch, INPUTS[inp](torch))
    assert tuple(c.shape) == tuple(t.shape) and _dtype_name(c) == _dtype_name(t)
    assert c.tolist() == t.tolist() and not c.requires_grad


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_like_factories_dtype_override_matches_torch(name, dtype):
    fn = DETERMINISTIC[name]
    c = fn(cr, cr.arange(6.0).reshape(3, 2), dtype=getattr(cr, dtype))
    t = fn(torch, torch.arange(6.0).reshape(3, 2), dtype=getattr(torch, dtype))
    assert _dtype_name(c) == _dtype_name(t) == dtype and c.tolist() == t.tolist()


def test_empty_like_has_shape_and_dtype_of_input():
    for inp in INPUTS.values():
        c, t = cr.empty_like(inp(cr)), torch.empty_like(inp(torch))
        assert tuple(c.shape) == tuple(t.shape) and _dtype_name(c) == _dtype_name(t)
    assert cr.empty_like(cr.ones(2), dtype=cr.int16).dtype == cr.int16


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e30, 5e-324, -0.0])
def test_full_like_keeps_extreme_fill_values_as_torch(value):
    for dtype in ("float32", "float64"):
        c = cr.full_like(cr.zeros(2, dtype=getattr(cr, dtype)), value).numpy()
        t = torch.full_like(torch.zeros(2, dtype=getattr(torch, dtype)), value).numpy()
        np.testing.assert_array_equal(c, t)
        assert np.array_equal(np.signbit(c), np.signbit(t))


def test_requires_grad_on_like_factories_makes_trainable_leaves():
    for fn in (cr.zeros_like, cr.ones_like, cr.rand_like, cr.randn_like, cr.empty_like):
        w = fn(cr.ones(3), requires_grad=True)
        assert w.requires_grad and w.is_leaf and w.grad_fn is None
        (w * 2).sum().backward()
        assert w.grad.tolist() == [2.0, 2.0, 2.0]
    w = cr.full_like(cr.ones(2), 0.5, requires_grad=True)
    (w ** 2).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    for fn in (lambda m: m.zeros_like(m.arange(3), requires_grad=True),
               lambda m: m.randint_like(m.ones(2), 5, dtype=m.int64, requires_grad=True)):
        assert _error_type(lambda: fn(cr)) is _error_type(lambda: fn(torch)) is RuntimeError


@pytest.mark.parametrize("name,plain", [
    ("rand_like", lambda shape, dtype: cr.rand(*shape, dtype=dtype)),
    ("randn_like", lambda shape, dtype: cr.randn(*shape, dtype=dtype)),
    ("randint_like", lambda shape, dtype: cr.randint(3, 9, shape, dtype=dtype)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_seeded_random_like_draws_the_same_numbers_as_the_plain_factory(name, plain, dtype):
    x = cr.zeros(4, 5, dtype=getattr(cr, dtype))
    args = (3, 9) if name == "randint_like" else ()
    cr.manual_seed(123)
    a = getattr(cr, name)(x, *args)
    cr.manual_seed(123)
    b = plain((4, 5), getattr(cr, dtype))
    assert a.dtype == x.dtype and tuple(a.shape) == (4, 5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    cr.manual_seed(123)
    np.testing.assert_array_equal(getattr(cr, name)(x, *args).numpy(), a.numpy())


def test_random_like_with_a_generator_leaves_the_global_one_alone():
    g = cr.Generator().manual_seed(7)
    cr.manual_seed(0)
    a = cr.rand_like(cr.zeros(3), generator=g)
    after = cr.rand(3)
    cr.manual_seed(0)
    assert np.array_equal(cr.rand(3).numpy(), after.numpy())
    again = cr.rand(3, generator=cr.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), again.numpy())


def test_random_like_statistics_and_ranges():
    cr.manual_seed(1)
    u = cr.rand_like(cr.zeros(20000, dtype=cr.float64)).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = cr.randn_like(cr.zeros(20000)).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = cr.randint_like(cr.zeros(20000, dtype=cr.int32), -3, 4)
    assert r.dtype == cr.int32 and set(np.unique(r.numpy())) == set(range(-3, 4))
    assert set(np.unique(cr.randint_like(cr.zeros(50), 2).numpy())) <= {0.0, 1.0}
    high_only = cr.randint_like(cr.zeros(200), high=5).numpy()  # low defaults to 0
    assert set(np.unique(high_only)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert cr.randint_like(cr.zeros(0, 2), 5).shape == (0, 2)


@pytest.mark.parametrize("inp", ["float 2x3", "float16", "float64 0-d", "empty", "int64 vector",
                                 "bool"])
def test_random_like_dtypes_and_shapes_follow_torch(inp):
    for name, args in (("rand_like", ()), ("randn_like", ()), ("randint_like", (2,))):
        fc = lambda: getattr(cr, name)(INPUTS[inp](cr), *args)  # noqa: E731
        ft = lambda: getattr(torch, name)(INPUTS[inp](torch), *args)  # noqa: E731
        ec, et = _error_type(fc), _error_type(ft)
        assert ec is et, (name, inp)
        if ec is None:
            c, t = fc(), ft()
            assert tuple(c.shape) == tuple(t.shape) and _dtype_name(c) == _dtype_name(t)


BAD = {
    "rand_like of a list": lambda m: m.rand_like([1.0, 2.0]),
    "zeros_like of a number": lambda m: m.zeros_like(3.0),
    "full_like of None": lambda m: m.full_like(None, 1),
    "randint_like empty range": lambda m: m.randint_like(m.ones(2), 5, 2),
    "randint_like zero high": lambda m: m.randint_like(m.ones(2), 0),
    "randint_like beyond float16": lambda m: m.randint_like(m.ones(2, dtype=m.float16), 70000),
    "randint_like beyond uint8": lambda m: m.randint_like(m.zeros(2, dtype=m.uint8), 300),
    "randn_like of int": lambda m: m.randn_like(m.arange(3)),
    "rand_like to int dtype": lambda m: m.rand_like(m.ones(3), dtype=m.int64),
    "full_like with a string": lambda m: m.full_like(m.ones(2), "a"),
    "full_like with None": lambda m: m.full_like(m.ones(2), None),
    "full_like with a list": lambda m: m.full_like(m.ones(2), [1, 2]),
    "full_like with a vector": lambda m: m.full_like(m.ones(2), m.ones(2)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_to_like_factories_raises_like_torch(case):
    et = _error_type(lambda: BAD[case](torch))
    assert et is not None
    with pytest.raises(et) as info:
        BAD[case](cr)
    assert "_like" in str(info.value)  # the message names the function


def test_full_like_takes_a_one_element_tensor_as_fill_value_like_torch():
    for fill in (3.5, 2, True):
        c = cr.full_like(cr.zeros(2, dtype=cr.float64), cr.tensor(fill))
        t = torch.full_like(torch.zeros(2, dtype=torch.float64), torch.tensor(fill))
        assert c.tolist() == t.tolist() and _dtype_name(c) == _dtype_name(t)
    assert cr.full((2,), cr.tensor(4.0)).tolist() == torch.full((2,), torch.tensor(4.0)).tolist()
    with pytest.raises(TypeError, match="complex"):
        cr.full_like(cr.ones(2), 1 + 2j)


def test_randint_like_large_int64_range_and_bool():
    x = cr.randint_like(cr.zeros(4, dtype=cr.int64), 2 ** 40)
    assert x.dtype == cr.int64 and (x.numpy() >= 0).all() and (x.numpy() < 2 ** 40).all()
    b = cr.randint_like(cr.zeros(8, dtype=cr.bool), 2)
    assert b.dtype == cr.bool and b.numpy().dtype == np.bool_
    assert not math.isnan(float(cr.randn_like(cr.zeros(1))))
