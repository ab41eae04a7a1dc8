"""Fused runs (compiler/fuse.py) that end in any()/all() of a boolean array the run made,
and that compare integers: the loop leaves NumPy's bits in every array and the same 0-d
result, for every integer width, at the widths' extremes, and on empty arrays."""
import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import fuse
from chainrule.compiler.steps import bound

pytest.importorskip("numba")

_INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _reduce(ufunc, a, out):
    return bound(ufunc.reduce, (a,), {"axis": None, "out": out})


def _relu_backward_with_any(o, g, le, keep, prod, nan, flag):
    return [functools.partial(np.less_equal, o, 0, le),
            functools.partial(np.logical_not, le, keep),
            functools.partial(np.multiply, g, keep, prod),
            functools.partial(np.isnan, prod, nan),
            _reduce(np.logical_or, nan, flag)]


def _fused_and_plain(make, arrays):
    copies = [[a.copy() for a in arrays] for _ in range(2)]
    for step in make(*copies[0]):
        step()
    steps = fuse.fuse(make(*copies[1]))
    (loop,) = steps
    assert loop.func is fuse._loop_or_steps
    ran = loop.args[0](*loop.args[1])  # the loop itself (False: it left it to NumPy)
    if not ran:
        for step in loop.args[2]:
            step()
    return copies[0], copies[1], ran


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["finite", "an inf gradient", "nan", "empty"])
def test_relu_backward_with_its_any_is_one_loop_with_numpys_bits(dtype, case):
    rng = np.random.default_rng(5)
    shape = (0, 7) if case == "empty" else (33, 17)
    o = rng.standard_normal(shape).astype(dtype)
    g = (rng.standard_normal(shape) * 1e30).astype(dtype)
    if case == "an inf gradient":
        g[3, 4], o[3, 4] = np.inf, -1.0  # inf · 0 inside the run: a NaN, found by any()
    if case == "nan":
        g[1, 1] = np.nan
    arrays = [o, g, np.zeros(shape, bool), np.zeros(shape, bool), np.empty(shape, dtype),
              np.zeros(shape, bool), np.ones((), bool)]
    want, got, ran = _fused_and_plain(_relu_backward_with_any, arrays)
    assert ran == (case in ("finite", "empty"))
    for w, a in zip(want, got):
        assert w.dtype == a.dtype and w.tobytes() == a.tobytes()
    assert bool(got[-1]) == (case in ("an inf gradient", "nan"))


@pytest.mark.parametrize("dtype", _INTS)
@pytest.mark.parametrize("reduction", [np.logical_and, np.logical_or])
def test_integer_comparisons_fold_into_all_and_any_at_the_widths_extremes(dtype, reduction):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    x = rng.integers(info.min, info.max, (40,), dtype=dtype, endpoint=True)
    x[:4] = [info.min, info.max, 0, 1]
    for bound_value in (0, 1, 10, int(info.max), int(info.min)):
        for ufunc in (np.less, np.greater_equal, np.equal):
            def make(x, mask, flag):
                return [functools.partial(ufunc, x, bound_value, mask),
                        _reduce(reduction, mask, flag)]
            arrays = [x, np.zeros(x.shape, bool), np.zeros((), bool)]
            want, got, ran = _fused_and_plain(make, arrays)
            assert ran
            assert all(w.tobytes() == a.tobytes() for w, a in zip(want, got))


def test_an_integer_bound_outside_the_type_is_left_to_numpy():
    x = np.array([0, 200, 255], np.uint8)
    steps = [functools.partial(np.less, x, -1, np.zeros(3, bool))]
    assert fuse._Op.of(steps[0]) is None  # NumPy compares -1 as a Python int
    steps = [functools.partial(np.less, x, 300, np.zeros(3, bool))]
    assert fuse._Op.of(steps[0]) is None


def test_a_reduction_ends_the_run_and_one_of_another_shape_is_not_fused():
    x = np.ones((4, 3), np.float32)
    mask, flag, t = np.zeros((4, 3), bool), np.zeros((), bool), np.empty((4, 3), np.float32)
    steps = [functools.partial(np.greater, x, 0, mask), _reduce(np.logical_and, mask, flag),
             functools.partial(np.add, x, 1, t), functools.partial(np.multiply, t, 2, t)]
    fused = fuse.fuse(steps)
    assert len(fused) == 2 and all(s.func is fuse._loop_or_steps for s in fused)
    row = np.zeros(3, bool)
    other = [functools.partial(np.greater, x, 0, mask), _reduce(np.logical_or, row, flag)]
    assert fuse.fuse(other) == other[:1] + other[1:]  # a run of one: left as it was


def test_compiled_training_with_a_cross_entropy_range_check_keeps_eagers_bits():
    def build():
        cr.manual_seed(0)
        net = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
        return net, cr.optim.Adam(net.parameters(), lr=0.01)
    (net, opt), (twin, twin_opt) = build(), build()

    def step(net, opt, x, y):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss
    compiled = cr.compile(lambda x, y: step(net, opt, x, y), mode="max-autotune")
    rng = np.random.default_rng(0)
    for k in range(8):
        x = cr.tensor(rng.standard_normal((6, 5)).astype(np.float32) * (1e3 if k == 5 else 1))
        y = cr.tensor(rng.integers(0, 3, 6))
        assert compiled(x, y)._data.tobytes() == step(twin, twin_opt, x, y)._data.tobytes()
    for a, b in zip(net.parameters(), twin.parameters()):
        assert a._data.tobytes() == b._data.tobytes()
    entries = [e for es in compiled._cache.values() for e in es if e.verified]
    fused_reductions = [op for e in entries for s in e.replay_steps
                        if getattr(s, "func", None) is fuse._loop_or_steps for op in s.args[2]
                        if getattr(op.func, "__name__", "") == "reduce"]
    assert len(fused_reductions) >= 2  # the range check's all(), ReLU backward's any()
