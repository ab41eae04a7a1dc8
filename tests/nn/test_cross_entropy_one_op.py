"""Cross-entropy is one op for every target form (class indices, weights, smoothing,
ignore_index, probabilities, nll), and its rules are differentiable in every input."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn._losses import CROSS_ENTROPY
from helpers import assert_close, requires_torch, torch

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4))
T = np.array([0, 3, 1, 1, 2])
P = rng.dirichlet(np.ones(4), 5)


@pytest.mark.parametrize("kwargs,target", [
    ({}, T), ({"weight": np.arange(1.0, 5.0)}, T), ({"label_smoothing": 0.2}, T),
    ({"ignore_index": 1}, T), ({}, P)], ids=["indices", "weight", "smoothing", "ignore", "probs"])
def test_every_target_form_records_the_one_cross_entropy_op(kwargs, target):
    x = cr.tensor(X, requires_grad=True)
    kw = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss = cr.nn.functional.cross_entropy(x, cr.tensor(target), **kw)
    assert loss.grad_fn.op is CROSS_ENTROPY


@requires_torch
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_gradient_wrt_probability_targets_is_differentiable_in_the_logits(smoothing):
    grads = []
    for lib in (cr, torch):
        x, p = lib.tensor(X, requires_grad=True), lib.tensor(P, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, p, label_smoothing=smoothing)
        gp, = lib.autograd.grad(loss, p, create_graph=True)
        (gp ** 2).sum().backward()
        grads.append(x.grad.detach().numpy())
    assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_index_second_order_matches_torch(reduction):
    results = []
    for lib in (cr, torch):
        x = lib.tensor(X, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(T), reduction=reduction)
        gx, = lib.autograd.grad(loss.sum(), x, create_graph=True)
        (gx * lib.tensor(X)).sum().backward()
        results.append(x.grad.detach().numpy())
    assert_close(results[0], results[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_of_class_index_cross_entropy_reuses_the_forwards_log_probabilities(
        monkeypatch, dtype):
    """The forward keeps log_softmax's result (as PyTorch saves it), so the backward does
    not compute it again; its bits are those of log_softmax computed afresh, edge
    logits included, and a second backward (retain_graph) reads the same values."""
    from chainrule.nn import _losses
    x_np = (rng.standard_normal((7, 5)) * 20).astype(dtype)
    x_np[0, 1], x_np[3, 2], x_np[5, 0] = 1e30, -np.inf, np.finfo(dtype).tiny / 4
    y = cr.tensor(np.array([1, 0, 4, 2, 2, 3, 0]))
    want = cr.tensor(x_np, requires_grad=True)
    cr.nn.functional.log_softmax(want, 1).gather(1, y[:, None]).mean().neg().backward()
    x = cr.tensor(x_np, requires_grad=True)
    loss = cr.nn.functional.cross_entropy(x, y)

    def refuse(*args):
        raise AssertionError("log_softmax computed again in the backward")
    monkeypatch.setattr(_losses.LOG_SOFTMAX, "forward", refuse)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    assert first.tobytes() == x.grad.numpy().tobytes()
    np.testing.assert_allclose(first, want.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_target_range_check_in_one_comparison_covers_every_integer_width(dtype):
    """The range check compares once in the unsigned type of the target's width, so a
    negative index (read there as a huge one) is refused like one past the last class,
    at each width's extremes; in range, the loss is the int64 targets' one."""
    info = np.iinfo(dtype)
    x = cr.tensor(X)
    ok = cr.nn.functional.cross_entropy(x, cr.tensor(T.astype(dtype)))
    assert ok.item() == cr.nn.functional.cross_entropy(x, cr.tensor(T)).item()
    bad_values = {4, int(info.max)} | ({-1, int(info.min)} if info.min < 0 else set())
    for bad in sorted(bad_values):
        t = T.astype(dtype)
        t[2] = bad
        with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
            cr.nn.functional.cross_entropy(x, cr.tensor(t))


def test_compiled_cross_entropy_with_a_target_out_of_range_refuses_instead_of_wrapping():
    x = cr.tensor(X)
    loss = cr.compile(lambda t: cr.nn.functional.cross_entropy(x, t))
    for _ in range(3):
        loss(cr.tensor(T))
    t = T.copy()
    t[0] = -1  # NumPy's indexing would read the last class
    with pytest.raises(RuntimeError, match="branch"):
        loss(cr.tensor(t))


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_backward_scatter_on_transposed_logits_matches_torch(dtype, reduction):
    """The backward subtracts at each row's target through a flat index into its
    probabilities: logits that are a transposed (Fortran-ordered) view must still get
    PyTorch's gradient (a reshape of a non-contiguous array would be a copy)."""
    base = rng.standard_normal((4, 6)) * 3
    y = np.array([1, 0, 3, 2, 2, 1])
    ours = cr.tensor(base, dtype=getattr(cr, dtype), requires_grad=True)
    theirs = torch.tensor(base, dtype=getattr(torch, dtype), requires_grad=True)
    weights = np.linspace(0.5, 2.0, 6)
    out = cr.nn.functional.cross_entropy(ours.t(), cr.tensor(y), reduction=reduction)
    want = torch.nn.functional.cross_entropy(theirs.t(), torch.tensor(y), reduction=reduction)
    (out * cr.tensor(weights, dtype=out.dtype) if reduction == "none" else out).sum().backward()
    (want * torch.tensor(weights, dtype=want.dtype) if reduction == "none"
     else want).sum().backward()
    tol = 2e-3 if dtype == "float16" else 1e-6
    assert_close(ours.grad.numpy().astype(np.float64), theirs.grad.double().numpy(),
                 rtol=tol, atol=tol)
