"""max-autotune's choice of memory order for matrix products (compiler/autotune.py): a
variant replaces a product only with the product's bits, and a compiled training step
with every variant that qualifies keeps eager's weights bit for bit."""
import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import autotune

pytest.importorskip("numba")


def _product(rng, rows=32, inner=64, cols=256, dtype=np.float32):
    a = rng.standard_normal((rows, inner)).astype(dtype)
    w = rng.standard_normal((cols, inner)).astype(dtype)
    out = np.empty((rows, cols), dtype)
    return a, w.T, out  # a Linear's forward: the weight read transposed


def _variants_first(monkeypatch):
    """Time every variant as faster than the product, so the first that keeps the bits
    is chosen whatever this machine's BLAS prefers."""
    monkeypatch.setattr(autotune, "_timed", lambda options, timer: [1.0] + [
        0.1 * (k + 1) for k in range(len(options) - 1)])


def test_a_faster_variant_replaces_the_product_and_leaves_its_bits(monkeypatch):
    _variants_first(monkeypatch)
    a, b, out = _product(np.random.default_rng(0))
    step = functools.partial(np.matmul, a, b, out)
    tuned = autotune.products([step])
    assert tuned != [step] and tuned[0].func is autotune.reorder  # an operand copied first
    want = a @ b
    for step in tuned:
        step()
    assert out.tobytes() == want.tobytes()


def test_a_variant_with_other_bits_is_never_chosen_however_fast(monkeypatch):
    _variants_first(monkeypatch)

    def one_ulp_off(a, b, out):  # a "variant" whose last step rounds differently
        return [[functools.partial(np.matmul, a, b, out),
                 functools.partial(np.nextafter, out, np.inf, out)]]
    monkeypatch.setattr(autotune, "variants", one_ulp_off)
    a, b, out = _product(np.random.default_rng(1))
    step = functools.partial(np.matmul, a, b, out)
    assert autotune.products([step]) == [step]


def test_a_variant_equal_only_on_the_recorded_values_is_refused(monkeypatch):
    """Operands of zeros hide any difference of summation order; the random probe
    exposes it."""
    _variants_first(monkeypatch)
    calls = []

    def equal_on_zeros(a, b, out):
        calls.append(a)
        return [[functools.partial(np.matmul, a, b, out),
                 functools.partial(np.multiply, out, np.float32(1.0000001), out)]]
    monkeypatch.setattr(autotune, "variants", equal_on_zeros)
    a, b, out = _product(np.random.default_rng(2))
    a[...] = 0
    step = functools.partial(np.matmul, a, b, out)
    assert autotune.products([step]) == [step]
    assert len(calls) == 2  # built for the recorded operands and for the probes


def test_tuning_leaves_operands_and_the_recorded_result_as_found():
    a, b, out = _product(np.random.default_rng(3))
    out[...] = 7.0
    before = [x.copy(order="K") for x in (a, b, out)]
    autotune.products([functools.partial(np.matmul, a, b, out)])
    for x, y in zip((a, b, out), before):
        assert x.tobytes(order="A") == y.tobytes(order="A") and x.strides == y.strides


@pytest.mark.parametrize("case", ["small", "int64", "float16", "strided", "overlapping",
                                  "keywords", "3-d"])
def test_products_tuning_cannot_apply_to_stay_as_recorded(monkeypatch, case):
    _variants_first(monkeypatch)
    rng = np.random.default_rng(4)
    dtype = {"int64": np.int64, "float16": np.float16}.get(case, np.float32)
    a, b, out = _product(rng, rows=2 if case == "small" else 32, dtype=dtype)
    if case == "strided":
        a = np.empty((32, 128), np.float32)[:, ::2]
    if case == "overlapping":
        out = np.empty((32, 256), np.float32)
        a = out[:, :64]
    step = functools.partial(np.matmul, a, b, out)
    if case == "keywords":
        step = functools.partial(np.matmul, a, b, out=out)
    if case == "3-d":
        step = functools.partial(np.matmul, a[None], b[None], out[None])
    assert autotune.products([step]) == [step]


def _main_job_step(seed):
    cr.manual_seed(seed)
    net = cr.nn.Sequential(cr.nn.Linear(64, 256), cr.nn.ReLU(), cr.nn.Linear(256, 128),
                           cr.nn.ReLU(), cr.nn.Linear(128, 10))
    opt = cr.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = cr.nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return net, step


@pytest.mark.parametrize("forced", [False, True], ids=["timed", "every-variant-faster"])
def test_autotuned_training_keeps_eagers_weights_and_losses_bit_for_bit(monkeypatch, forced):
    if forced:
        _variants_first(monkeypatch)
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((32, 64)).astype(np.float32), rng.integers(0, 10, 32))
               for _ in range(6)]
    eager_net, eager_step = _main_job_step(3)
    net, step = _main_job_step(3)
    compiled = cr.compile(step, mode="max-autotune")
    for x, y in batches:
        want = eager_step(cr.from_numpy(x), cr.from_numpy(y))
        got = compiled(cr.from_numpy(x), cr.from_numpy(y))
        assert got.detach().numpy().tobytes() == want.detach().numpy().tobytes()
    (entry,) = [e for es in compiled._cache.values() for e in es if e.replay_steps]
    copies = [s for s in entry.replay_steps
              if isinstance(s, functools.partial) and s.func is autotune.reorder]
    if forced:
        assert copies  # the tuning did replace products: the test ran what it pins
    for (k, w), (_, v) in zip(net.state_dict().items(), eager_net.state_dict().items()):
        assert w.detach().numpy().tobytes() == v.detach().numpy().tobytes(), k


def test_a_tuned_product_meeting_a_nan_gives_the_recorded_calls_nan(monkeypatch):
    """A layout may swap the operands of a multiplication, which only changes which of
    two NaNs wins: simulated here by a variant that flips the sign of every NaN it makes.
    It has the product's bits on NaN-free operands, so it is chosen; with NaNs in the
    operands the replay must still give the recorded call's NaN bits."""
    _variants_first(monkeypatch)

    def flip_nan_signs(out):
        np.copyto(out, -out, where=np.isnan(out))

    def nan_flipping(a, b, out):
        return [[functools.partial(np.matmul, a, b, out), functools.partial(flip_nan_signs, out),
                 functools.partial(autotune.nan_again, out, a, b)]]
    monkeypatch.setattr(autotune, "variants", nan_flipping)
    a, b, out = _product(np.random.default_rng(6))
    step = functools.partial(np.matmul, a, b, out)
    tuned = autotune.products([step])
    assert tuned != [step]
    a[3, 5], a[7, 0], b[2, 9] = np.nan, -np.nan, np.inf
    want = a @ b
    assert np.isnan(want).any()
    for s in tuned:
        s()
    assert out.tobytes() == want.tobytes()
