"""One-line differential checks against PyTorch (the oracle): forward and gradients."""
import os

import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:  # the differential tests need the oracle; in CI it must be there
    if os.environ.get("CI") == "true":
        raise
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) not installed")


def _needs(module, what):
    import importlib.util
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{what} needs {module}, which is not installed")


# optional extras: a machine without them skips these tests and says why
needs_matplotlib = _needs("matplotlib", "drawing figures")

# rtol, and atol per unit of scale (see assert_close)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}


def magnitude(*arrays):
    """The scale of the values involved: the largest finite |value| over all the arrays,
    at least 1 (as the fuzzer's comparison)."""
    scale = 1.0
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        finite = np.abs(a[np.isfinite(a)])
        if finite.size:
            scale = max(scale, float(finite.max()))
    return scale


def assert_close(actual, expected, rtol, atol, scale=None, err_msg=""):
    """assert_allclose whose atol is per unit of `scale` (default: magnitude(expected)).
    A value near zero that came out of cancelling terms of size `scale` carries their
    rounding error, which differs between CPUs (SIMD width, FMA): a fixed tiny atol would
    pass on one machine and fail on the next."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = magnitude(expected) if scale is None else max(scale, magnitude(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale,
                               err_msg=err_msg)


def make_inputs(shapes, dtype=np.float64, seed=0, low=-2.0, high=2.0, positive=False):
    rng = np.random.default_rng(seed)
    arrays = []
    for s in shapes:
        a = rng.uniform(low, high, size=s)
        if positive:
            a = np.abs(a) + 0.5
        arrays.append(np.asarray(a, dtype=dtype))
    return arrays


def compare(cr_fn, torch_fn, shapes, dtype=np.float64, seed=0, positive=False, grad=True,
            arrays=None, tol=None):
    """Run both frameworks on the same random inputs; compare outputs and input gradients."""
    arrays = arrays if arrays is not None else make_inputs(shapes, dtype, seed, positive=positive)
    cx = [cr.tensor(a, requires_grad=grad) for a in arrays]
    tx = [torch.tensor(a, requires_grad=grad) for a in arrays]
    cout, tout = cr_fn(*cx), torch_fn(*tx)
    tol = tol or TOL[np.dtype(dtype).type]
    scale = magnitude(*arrays)  # outputs near zero can come from inputs of this size
    assert tuple(cout.shape) == tuple(tout.shape), (cout.shape, tout.shape)
    assert cout.dtype.name == str(tout.dtype).replace("torch.", ""), (cout.dtype, tout.dtype)
    assert_close(cout.detach().numpy(), tout.detach().numpy(), scale=scale, **tol)
    if not grad or not tout.requires_grad:
        return cx, tx
    weights = np.random.default_rng(seed + 1).uniform(0.5, 1.5, size=tuple(tout.shape)).astype(dtype)
    (cout * cr.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    for i, (c, t) in enumerate(zip(cx, tx)):
        if t.grad is None:
            assert c.grad is None or np.all(c.grad.numpy() == 0), f"input {i}: unexpected grad"
            continue
        assert c.grad is not None, f"input {i}: no gradient"
        assert c.grad.dtype.name == str(t.grad.dtype).replace("torch.", "")
        assert_close(c.grad.numpy(), t.grad.numpy(), err_msg=f"grad of input {i}",
                     scale=magnitude(tout.detach().numpy()), **tol)
    return cx, tx


def replaying(compiled):
    """Whether a `chainrule.compile`d function replays a checked recording (no eager
    fallback)."""
    return compiled._eager is None and any(
        e.verified for entries in compiled._cache.values() for e in entries)


def cross_entropy_train_step(model, opt):
    """A classification training step: zero_grad, cross-entropy, backward, step."""
    def step(X, y):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss
    return step


def assert_compiled_training_replays_eager(model, make_optimizer, batch_shape, classes,
                                           rounds=3):
    """A compiled cross-entropy training step of `model` against eager steps of a deep copy
    over three seeded random batches of `batch_shape` with targets below `classes`, `rounds`
    times: the same losses, a replay reached without a fallback to eager (a fallback warning
    fails), and the same weights and gradients, bit for bit."""
    import copy
    import warnings
    rng = np.random.default_rng(0)
    data = [(cr.tensor(rng.standard_normal(batch_shape).astype(np.float32)),
             cr.tensor(rng.integers(0, classes, batch_shape[0]))) for _ in range(3)]
    twin = copy.deepcopy(model)
    compiled = cr.compile(cross_entropy_train_step(model, make_optimizer(model.parameters())))
    eager = cross_entropy_train_step(twin, make_optimizer(twin.parameters()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(rounds):
            ours = [compiled(X, y).item() for X, y in data]
            assert ours == [eager(X, y).item() for X, y in data]
    assert replaying(compiled)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert np.array_equal(p._data, q._data), name
        assert np.array_equal(p.grad._data, q.grad._data), name


def functional_matches_torch(fn, a, tol, *args, **kw):
    """nn.functional.`fn` on array `a` against PyTorch's: dtype, values and the gradient of a
    weighted sum, within `tol` (rtol=, atol=); returns both results."""
    import torch
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours = getattr(cr.nn.functional, fn)(x, *args, **kw)
    theirs = getattr(torch.nn.functional, fn)(t, *args, **kw)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert_close(ours.detach().numpy(), theirs.detach().numpy(), **tol)
    w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(theirs.shape)).astype(a.dtype)
    (ours * cr.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), **tol)
    return ours, theirs


def functional_raises_like_torch(call, a, *words):
    """call(functional_module, tensor) on array `a` raises the exception type PyTorch's
    nn.functional raises, with a message that carries each of `words`."""
    import pytest
    import torch
    with pytest.raises(Exception) as want:
        call(torch.nn.functional, torch.tensor(a))
    with pytest.raises(want.type) as got:
        call(cr.nn.functional, cr.tensor(a))
    for word in words:
        assert word in str(got.value), (word, str(got.value))
