"""Optimizer steps as one compiled loop (optim/fused.py, needs numba): every parameter,
moment and step count must equal the NumPy path's bit for bit, edge values included, and
options the loop does not cover must run the NumPy code."""
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import fused

pytest.importorskip("numba")
# the NumPy path warns about the overflows and NaNs the edge values make
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _edge_values(dtype, n, rng, finite=False):
    """Random values of all magnitudes, with zeros, signed zeros, subnormals, the
    largest finite values, and (unless `finite`) infinities and NaN sprinkled in."""
    info = np.finfo(dtype)
    x = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 4, n)).astype(dtype)
    specials = [0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal * 3,
                info.tiny / 2, info.max / 4, -info.max / 8]
    # the largest values overflow g - m to inf, and inf / inf is NaN in a later step
    specials = np.array(specials + ([] if finite else [info.max, -info.max, np.inf, -np.inf,
                                                       np.nan]), dtype)
    where = rng.choice(n, min(n, n // 4 + 1), replace=False)
    x[where] = rng.choice(specials, len(where))
    return x


def _run(fused_on, dtype, shapes, kwargs, steps, edge, seed=0, opt_name="Adam"):
    """Parameters and state after `steps` steps on a fixed stream of gradients."""
    rng = np.random.default_rng(seed)
    params = [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in shapes]
    opt = getattr(cr.optim, opt_name)(params, fused=fused_on, **kwargs)
    for _ in range(steps):
        for p in params:
            n = p._data.size
            g = (_edge_values(dtype, n, rng, edge == "finite") if edge
                 else rng.standard_normal(n))
            p.grad = cr.tensor(np.asarray(g, dtype).reshape(p.shape))
        opt.step()
    state = opt.state_dict()["state"]
    return [p.detach().numpy() for p in params], state


def _same_bits(x, y):
    """Equal bits, NaNs included: where a loop would compute a NaN it leaves the step to
    NumPy, whose choice between two meeting NaNs is then the one eager makes."""
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def _assert_same_bits(a, b):
    (pa, sa), (pb, sb) = a, b
    for x, y in zip(pa, pb):
        assert _same_bits(x, y)
    assert sa.keys() == sb.keys()
    for i in sa:
        assert sa[i].keys() == sb[i].keys()
        for key in sa[i]:
            x, y = sa[i][key].numpy(), sb[i][key].numpy()
            assert _same_bits(x, y), (i, key)


CASES = [("Adam", {}), ("Adam", {"weight_decay": 0.1}),
         ("Adam", {"weight_decay": 0.1, "maximize": True}), ("Adam", {"maximize": True}),
         ("AdamW", {}), ("AdamW", {"weight_decay": 0.3, "maximize": True}),
         ("Adam", {"lr": 0.3, "betas": (0.5, 0.7), "eps": 1e-3}),
         # eps 0 (m / 0) and lr 0 (inf * -0): the loop's full NaN test, not the cheap one
         ("Adam", {"eps": 0.0}), ("AdamW", {"lr": 0.0, "weight_decay": 0.1})]
SHAPES = {"one parameter": [(33, 7)], "a group": [(17, 5), (5,), (3, 4, 2), (1,)]}


@pytest.mark.parametrize("edge", [False, "all", "finite"],
                         ids=["random", "edge values", "finite edge values"])
@pytest.mark.parametrize("layout", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_fused_adam_equals_numpy_adam_bit_for_bit(name, kwargs, dtype, layout, edge):
    shapes = SHAPES[layout]
    numpy_run = _run(False, dtype, shapes, kwargs, 25, edge, opt_name=name)
    fused_run = _run(True, dtype, shapes, kwargs, 25, edge, opt_name=name)
    _assert_same_bits(fused_run, numpy_run)


def test_fused_adam_runs_the_compiled_loop_for_float32_and_float64(monkeypatch):
    calls = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda *a: calls.append(a[2].dtype) or real(*a))
    for dtype in (np.float32, np.float64):
        _run(True, dtype, SHAPES["a group"], {}, 2, False)
        _run(True, dtype, SHAPES["one parameter"], {}, 2, False)
    assert calls == [np.float32] * 4 + [np.float64] * 4


def test_adamw_fused_true_runs_the_compiled_loop_as_adam_does(monkeypatch):
    """AdamW(fused=True) dropped `fused` on its way to Adam's constructor: it stepped with
    NumPy, and the bit-for-bit tests above compared NumPy with NumPy."""
    calls = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda *a: calls.append(a[4]["weight_decay"]) or real(*a))
    assert _same_bits(_run(True, np.float32, SHAPES["a group"], {"weight_decay": 0.1}, 3,
                           False, opt_name="AdamW")[0][0],
                      _run(False, np.float32, SHAPES["a group"], {"weight_decay": 0.1}, 3,
                           False, opt_name="AdamW")[0][0])
    assert calls == [0.1] * 3


def test_fused_adam_runs_its_loop_on_finite_extremes(monkeypatch):
    """Subnormals, signed zeros and the largest floats make no NaN in most steps: the
    bit-for-bit comparison above then covers the loop itself, not only NumPy."""
    results = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda *a: results.append(real(*a)) or results[-1])
    _run(True, np.float32, SHAPES["a group"], {}, 25, "finite")
    assert sum(results) >= 10


def test_fused_adam_leaves_a_step_that_would_make_a_nan_to_numpy(monkeypatch):
    """A NaN gradient: the loop declines (stores nothing), NumPy steps, the step count
    moves once."""
    results = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda *a: results.append(real(*a)) or results[-1])
    w = cr.tensor(np.ones(5, np.float32), requires_grad=True)
    opt = cr.optim.Adam([w], fused=True)
    for g in ([1, 2, 3, 4, 5], [1, np.nan, 3, 4, 5]):
        w.grad = cr.tensor(np.array(g, np.float32))
        opt.step()
    assert results == [True, False]
    assert float(opt.state[w]["step"]) == 2.0
    assert np.isnan(w.detach().numpy()[1]) and not np.isnan(w.detach().numpy()[0])


def test_nans_meeting_in_adam_keep_numpys_sign_bits():
    """-NaN and +NaN gradients against NaN moments: which NaN a result carries is
    NumPy's choice, and the fused optimizer makes the same one."""
    neg_nan = np.float32(np.nan) * np.float32(-1)
    want = None
    for fused_on in (False, True):
        w = cr.tensor(np.ones(4, np.float32), requires_grad=True)
        opt = cr.optim.Adam([w], fused=fused_on)
        for g in ([np.nan, neg_nan, 1, 2], [neg_nan, np.nan, np.nan, 3]):
            w.grad = cr.tensor(np.array(g, np.float32))
            opt.step()
        got = (w.detach().numpy().tobytes(), opt.state[w]["exp_avg"].numpy().tobytes())
        want = want or got
        assert got == want


def test_adam_fused_true_without_numba_warns_naming_the_extra_and_steps_with_numpy(
        monkeypatch):
    monkeypatch.setattr(fused, "ENABLED", [False])
    w = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.warns(RuntimeWarning, match=r"chainrule\[fast\]"):
        opt = cr.optim.Adam([w], fused=True)
    w.grad = cr.tensor(np.ones(3, np.float32))
    opt.step()
    assert np.allclose(w.detach().numpy(), 1 - 1e-3)


@pytest.mark.parametrize("kwargs", [{"amsgrad": True}], ids=["amsgrad"])
def test_options_the_loop_does_not_cover_run_numpy(monkeypatch, kwargs):
    monkeypatch.setattr(fused, "adam", None)  # calling it would raise
    a = _run(True, np.float32, SHAPES["a group"], kwargs, 4, False)
    b = _run(False, np.float32, SHAPES["a group"], kwargs, 4, False)
    _assert_same_bits(a, b)


def test_float16_runs_numpy(monkeypatch):
    monkeypatch.setattr(fused, "adam", None)
    a = _run(True, np.float16, SHAPES["a group"], {}, 3, False)
    b = _run(False, np.float16, SHAPES["a group"], {}, 3, False)
    _assert_same_bits(a, b)


def test_a_non_contiguous_array_has_no_flat_view_to_write_through():
    x = np.ones((4, 3), np.float32)
    assert fused.flat_views([x.T], np.float32) is None
    assert fused.flat_views([x], np.float64) is None
    (view,) = fused.flat_views([x], np.float32)
    view[5] = 7
    assert x[1, 2] == 7


def test_views_are_made_again_only_for_other_arrays():
    a, b = np.ones(3, np.float32), np.ones((2, 2), np.float32)
    views = fused.Views()
    first = views.of([a, b], np.float32)
    assert views.of([a, b], np.float32) is first
    c = b.copy()
    again = views.of([a, c], np.float32)
    assert again is not first and np.shares_memory(again[1], c)
    assert views.of([a, c], np.float64) is None


def test_products_and_sums_are_not_contracted_into_fused_multiply_adds():
    """a*b + c rounded twice: an FMA would round once, and differ on these values."""
    import numba

    @numba.njit(error_model="numpy")
    def muladd(a, b, c, out):
        for i in range(a.shape[0]):
            out[i] = a[i] * b[i] + c[i]

    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        a, b, c = (rng.standard_normal(4096).astype(dtype) for _ in range(3))
        out = np.empty_like(a)
        muladd(a, b, c, out)
        assert out.tobytes() == (a * b + c).tobytes()
        exact = a.astype(np.longdouble) * b + c
        assert (exact.astype(dtype) != out).any()  # the values can tell the two apart


def test_a_short_eager_run_does_not_import_numba_and_steps_with_numpy():
    code = ("import sys, numpy as np, chainrule as cr\n"
            "w = cr.tensor(np.ones(3, np.float32), requires_grad=True)\n"
            "opt = cr.optim.Adam([w])\n"
            "w.grad = cr.tensor(np.ones(3, np.float32))\n"
            "opt.step()\n"
            "assert 'numba' not in sys.modules\n"
            "cr.optim.Adam([w], fused=True)\n"
            "assert 'numba' in sys.modules\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.0), (0.9, 0.0), (1.5, 0.999),
                                   (-0.5, 0.999)])
def test_adams_nan_test_meets_numpy_where_moments_overflow(dtype, betas):
    """Gradients around a quarter and a half of the largest float (g - m and g² near
    overflow), v overflowing to inf, tiny and signed-zero gradients, and betas edited
    outside [0, 1) after construction (Adam does not check them again) all leave NumPy's
    bits."""
    info = np.finfo(dtype)
    quarter = dtype(info.max / 4)
    values = [quarter, -quarter, np.nextafter(quarter, dtype(np.inf)), info.max / 2,
              info.smallest_subnormal, -0.0, 1e-30, 3.0]
    runs = []
    for fused_on in (True, False):
        w = cr.tensor(np.linspace(-2, 2, len(values)).astype(dtype), requires_grad=True)
        opt = cr.optim.Adam([w], lr=0.01, fused=fused_on)
        opt.param_groups[0]["betas"] = betas  # as a user may edit it (not validated)
        for k in range(6):
            g = np.roll(np.array(values, dtype), k) * (1 if k % 2 else -1)
            w.grad = cr.tensor(g.astype(dtype))
            opt.step()
        state = opt.state[w]
        runs.append([w.detach().numpy(), state["exp_avg"].numpy(),
                     state["exp_avg_sq"].numpy()])
    for a, b in zip(*runs):
        assert _same_bits(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adams_loop_declines_a_step_whose_moment_overflows(monkeypatch, dtype):
    """|g| and |m| at three quarters of the largest float: g - m overflows, the new m is
    inf and inf / inf makes a NaN parameter, so the loop must leave the step to NumPy."""
    results = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda *a: results.append(real(*a)) or results[-1])
    big = dtype(np.finfo(dtype).max * 0.75)
    runs = []
    for fused_on in (True, False):
        w = cr.tensor(np.ones(3, dtype), requires_grad=True)
        opt = cr.optim.Adam([w], betas=(0.0, 0.999), fused=fused_on)
        w.grad = cr.tensor(np.zeros(3, dtype))
        opt.step()
        opt.state[w]["exp_avg"]._data[:] = [-big, 0, 1]
        w.grad = cr.tensor(np.array([big, 1, 1], dtype))
        opt.step()
        runs.append(w.detach().numpy())
    assert results == [True, False]
    assert np.isnan(runs[1][0]) and _same_bits(runs[0], runs[1])
