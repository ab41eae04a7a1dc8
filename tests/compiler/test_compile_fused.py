"""Replays with runs of elementwise steps fused into one numba loop (compiler/fuse.py):
the fused run must leave every array it writes with the bits the NumPy calls leave,
edge values included, and runs whose memory would be read out of order are not fused."""
import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import fuse
from chainrule.optim import fused as switch

pytest.importorskip("numba")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _edge(dtype, shape, rng):
    info = np.finfo(dtype)
    x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)).astype(dtype)
    specials = np.array([0.0, -0.0, info.smallest_subnormal, -info.tiny / 2, info.max,
                         -info.max, np.inf, -np.inf, np.nan, 1.0, -1.0], dtype)
    flat = x.reshape(-1)
    where = rng.choice(flat.size, flat.size // 3, replace=False)
    flat[where] = rng.choice(specials, len(where))
    return x


def _run_both(make_steps, arrays):
    """Runs the steps as recorded and as fused on copies of `arrays`; returns both
    copies and the number of steps the fused list has."""
    copies = [[a.copy() for a in arrays] for _ in range(2)]
    plain = make_steps(*copies[0])
    for step in plain:
        step()
    fused_steps = fuse.fuse(make_steps(*copies[1]))
    for step in fused_steps:
        step()
    return copies[0], copies[1], len(plain), len(fused_steps)


def _bits_equal(a, b):
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


CHAINS = {
    "bias add and relu": lambda x, b, m, t, o, k: [
        functools.partial(np.add, x, b, x),
        functools.partial(np.maximum, x, 0, dtype=x.dtype, out=o)],
    "relu backward": lambda x, b, m, t, o, k: [
        functools.partial(np.less_equal, x, 0, k),
        functools.partial(np.logical_not, k, m),
        functools.partial(np.multiply, t, m, o),
        functools.partial(np.isnan, o, k)],
    "arithmetic by columns": lambda x, b, m, t, o, k: [
        functools.partial(np.subtract, x, np.ascontiguousarray(x[:, :1]), o),
        functools.partial(np.divide, o, t, o),
        functools.partial(np.multiply, o, 0.1, o),
        functools.partial(np.negative, o, t),
        functools.partial(np.minimum, t, x, out=o),
        functools.partial(np.greater, o, b, k)],
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", CHAINS)
def test_fused_elementwise_run_leaves_numpys_bits_on_edge_values(chain, dtype):
    rng = np.random.default_rng(3)
    shape = (37, 19)
    arrays = [_edge(dtype, shape, rng), _edge(dtype, shape[1:], rng),
              np.zeros(shape, bool), _edge(dtype, shape, rng), np.zeros(shape, dtype),
              np.zeros(shape, bool)]
    want, got, n_plain, n_fused = _run_both(CHAINS[chain], arrays)
    assert n_fused == 1 < n_plain
    for w, g in zip(want, got):
        assert _bits_equal(w, g)


def test_a_step_writing_memory_an_earlier_step_read_elsewhere_is_not_fused():
    buf = np.arange(13, dtype=np.float32)
    a, b = buf[:12].reshape(4, 3), buf[1:].reshape(4, 3)  # b is a shifted by one
    t = np.empty((4, 3), np.float32)

    def steps(a, b, t):
        return [functools.partial(np.add, a, 1, t), functools.partial(np.multiply, t, 2, b)]
    plain = steps(a, b, t)
    assert len(fuse.fuse(plain)) == 2
    tail = [functools.partial(np.add, t, 1, t), functools.partial(np.multiply, t, a[0], t)]
    assert len(fuse.fuse(tail)) == 1  # a row read of memory no step writes: fused


def test_float16_and_transcendental_steps_stay_numpy_calls():
    x = np.ones((4, 4), np.float16)
    y = np.ones((4, 4), np.float32)
    steps = [functools.partial(np.add, x, x, x), functools.partial(np.multiply, x, x, x),
             functools.partial(np.exp, y, y), functools.partial(np.add, y, y, y)]
    assert fuse.fuse(steps) == steps


def test_no_fusing_without_numba_or_when_switched_off(monkeypatch):
    x = np.ones((4, 4), np.float32)
    steps = [functools.partial(np.add, x, x, x), functools.partial(np.multiply, x, x, x)]
    monkeypatch.setattr(switch, "ENABLED", [False])
    assert fuse.fuse(steps) == steps


def _mlp_step(lib, seed):
    lib.manual_seed(seed)
    net = lib.nn.Sequential(lib.nn.Linear(12, 32), lib.nn.ReLU(), lib.nn.Linear(32, 16),
                            lib.nn.ReLU(), lib.nn.Linear(16, 3))
    opt = lib.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return net, step


def test_compiled_training_with_fused_runs_keeps_eagers_weights_bit_for_bit():
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 12)).astype(np.float32), rng.integers(0, 3, 8))
               for _ in range(6)]
    eager_net, eager_step = _mlp_step(cr, 1)
    net, step = _mlp_step(cr, 1)
    compiled = cr.compile(step, mode="max-autotune")
    for x, y in batches:
        eager_step(cr.from_numpy(x), cr.from_numpy(y))
        compiled(cr.from_numpy(x), cr.from_numpy(y))
    replayed = [e for entries in compiled._cache.values() for e in entries
                if e.replay_steps is not None]
    assert replayed and all(len(e.replay_steps) < len(e.recorder.steps) for e in replayed)
    for (k, w), (_, v) in zip(net.state_dict().items(), eager_net.state_dict().items()):
        assert _bits_equal(w.numpy(), v.numpy()), k


def test_the_default_mode_replays_numpy_calls_unfused():
    net, step = _mlp_step(cr, 2)
    compiled = cr.compile(step)
    x, y = cr.randn(8, 12), cr.tensor(np.arange(8) % 3)
    for _ in range(4):
        compiled(x, y)
    replayed = [e for entries in compiled._cache.values() for e in entries
                if e.replay_steps is not None]
    assert replayed and all(e.replay_steps is e.recorder.steps for e in replayed)


def test_a_nan_inside_a_fused_run_leaves_the_run_to_numpy_with_its_sign_bits():
    """inf - inf and NaN + -NaN: the loop stores nothing and the NumPy calls run, so the
    NaNs carry the bits NumPy gives them (IEEE leaves the sign of a meeting open)."""
    neg_nan = -np.float32(np.nan)
    x = np.array([[np.inf, np.nan, 1.0], [2.0, neg_nan, -np.inf]], np.float32)
    y = np.array([[np.inf, neg_nan, 3.0], [np.nan, np.nan, -np.inf]], np.float32)

    def steps(x, y, t, o):
        return [functools.partial(np.subtract, x, y, t), functools.partial(np.add, t, y, o),
                functools.partial(np.multiply, o, 2.0, o)]
    arrays = [x, y, np.zeros_like(x), np.zeros_like(x)]
    want, got, n_plain, n_fused = _run_both(steps, arrays)
    assert n_fused == 1 < n_plain
    for w, g in zip(want, got):
        assert _bits_equal(w, g)
    (loop,) = fuse.fuse(steps(*[a.copy() for a in arrays]))
    assert loop.func is fuse._loop_or_steps and loop.args[0](*loop.args[1]) is False


def test_fused_loops_are_compiled_in_memory_and_write_nothing(tmp_path):
    """numba's disk cache (which loads pickles) stays off, and a fused training run
    leaves the package folder and the working folder as they were."""
    import os
    import subprocess
    import sys
    package = os.path.dirname(cr.__file__)
    code = ("import numpy as np, chainrule as cr\n"
            "from chainrule.compiler import fuse\n"
            "net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))\n"
            "opt = cr.optim.Adam(net.parameters())\n"
            "@cr.compile(mode='max-autotune')\n"
            "def step(x, y):\n"
            "    loss = cr.nn.functional.cross_entropy(net(x), y)\n"
            "    opt.zero_grad(); loss.backward(); opt.step()\n"
            "    return loss\n"
            "x, y = cr.randn(6, 4), cr.tensor([0, 1, 0, 1, 1, 0])\n"
            "for _ in range(5): step(x, y)\n"
            "assert fuse._KERNELS and opt._fused_loops\n"
            "from numba.core.caching import NullCache\n"
            "assert all(isinstance(k._cache, NullCache) for k in fuse._KERNELS.values())\n")

    def files():
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(package) for f in fs)
    before = files()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300,
                   cwd=tmp_path)
    assert files() == before
    assert list(tmp_path.iterdir()) == []


def test_compile_refuses_an_unknown_mode_naming_the_known_ones():
    with pytest.raises(RuntimeError, match="unrecognized mode='fastest'.*max-autotune"):
        cr.compile(lambda x: x, mode="fastest")


def test_max_autotune_without_numba_warns_naming_the_extra_and_replays_numpy(monkeypatch):
    monkeypatch.setattr(switch, "ENABLED", [False])
    eager_net, eager_step = _mlp_step(cr, 4)
    net, step = _mlp_step(cr, 4)
    with pytest.warns(RuntimeWarning, match=r"chainrule\[fast\]"):
        compiled = cr.compile(step, mode="max-autotune")
    x, y = cr.randn(8, 12), cr.tensor(np.arange(8) % 3)
    for _ in range(4):
        eager_step(x, y)
        compiled(x, y)
    for (k, w), (_, v) in zip(net.state_dict().items(), eager_net.state_dict().items()):
        assert _bits_equal(w.numpy(), v.numpy()), k
    assert not compiled.fused


def _fit(compile):
    from chainrule.train import fit
    rng = np.random.default_rng(0)
    X = rng.standard_normal((160, 10)).astype(np.float32)
    y = rng.integers(0, 3, 160)
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(10, 16), cr.nn.ReLU(), cr.nn.Linear(16, 3))
    history = fit(model, (X, y), loss="cross_entropy", optimizer="adam", lr=1e-2, epochs=3,
                  batch_size=32, seed=1, progress=False, compile=compile)
    return history, model


def test_fit_compiles_its_step_in_the_mode_named_with_eagers_history_and_weights(
        monkeypatch):
    planned = []
    real = fuse.fuse
    monkeypatch.setattr(fuse, "fuse", lambda steps: planned.append(len(steps)) or real(steps))
    fused_run, fused_model = _fit("max-autotune")
    assert planned  # the replays ran planned (fused) steps
    eager_run, eager_model = _fit(False)
    assert fused_run.history["loss"] == eager_run.history["loss"]
    for (k, w), (_, v) in zip(fused_model.state_dict().items(),
                              eager_model.state_dict().items()):
        assert _bits_equal(w.numpy(), v.numpy()), k


def test_fit_refuses_an_unknown_compile_mode_before_training():
    with pytest.raises(RuntimeError, match="unrecognized mode='fastest'"):
        _fit("fastest")


def test_max_autotune_steps_an_optimizer_without_a_loop_with_numpy_and_eagers_bits():
    """SGD with momentum has no compiled loop: the mode marks it like any optimizer it
    steps, and its update stays the NumPy one (flat groups included)."""
    results = []
    for mode in ("max-autotune", None):
        cr.manual_seed(3)
        net = cr.nn.Sequential(cr.nn.Linear(6, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        opt = cr.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            loss = cr.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        run = cr.compile(step, mode=mode) if mode else step
        x, y = cr.randn(10, 6), cr.tensor(np.arange(10) % 2)
        for _ in range(5):
            run(x, y)
        results.append(b"".join(p.detach().numpy().tobytes() for p in net.parameters()))
    assert results[0] == results[1]
