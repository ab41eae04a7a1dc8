"""Cross-entropy and nll_loss with -inf logits, zero class weights and a zero total weight
give PyTorch's loss and gradients in every form: class indices or probabilities, weight=,
ignore_index, label_smoothing, each reduction. PyTorch multiplies every class's
log-probability for probabilities and smoothing (0 · -inf is NaN there), only the target's
for plain class indices, and divides a `mean` by the total weight even when it is 0."""
import itertools

import numpy as np
import pytest

import chainrule as cr
from helpers import requires_torch, torch

pytestmark = requires_torch
INF = np.inf
LOGITS = np.array([[0.5, -INF, 1.0], [-INF, 2.0, 0.0], [0.3, 0.1, -0.2]])
TARGETS = {"indices": np.array([0, 1, 2]), "ignored": np.array([0, -100, 1]),
           "all_ignored": np.array([-100, -100, -100]),
           "probs": np.array([[0.2, 0.0, 0.8], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])}
WEIGHTS = {"none": None, "one_zero": np.array([1.0, 0.0, 2.0]), "all_zero": np.zeros(3)}


def _run(m, loss_fn, logits, target, weight, kwargs):
    x = m.tensor(logits, requires_grad=True)
    t = m.tensor(target, requires_grad=target.dtype.kind == "f")
    w = None if weight is None else m.tensor(weight)
    out = getattr(m.nn.functional, loss_fn)(x, t, weight=w, **kwargs)
    (out * m.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))).sum().backward()
    return [out.detach().numpy(), x.grad.numpy()] + ([t.grad.numpy()] if t.requires_grad else [])


def _assert_same(got, want):
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(np.isinf(g) * np.sign(g), np.isinf(w) * np.sign(w))
        np.testing.assert_allclose(np.nan_to_num(g), np.nan_to_num(w), rtol=1e-6, atol=1e-9)


CE_CASES = list(itertools.product(sorted(TARGETS), sorted(WEIGHTS), ["mean", "sum", "none"],
                                  [0.0, 0.3], ["inf", "finite"]))


@pytest.mark.parametrize("target,weight,reduction,smoothing,logits", CE_CASES)
def test_cross_entropy_with_inf_logits_and_zero_weights_matches_torch(target, weight,
                                                                       reduction, smoothing,
                                                                       logits):
    x = LOGITS if logits == "inf" else np.nan_to_num(LOGITS, neginf=-3.0)
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    got = _run(cr, "cross_entropy", x, TARGETS[target], WEIGHTS[weight], kwargs)
    want = _run(torch, "cross_entropy", x, TARGETS[target], WEIGHTS[weight], kwargs)
    _assert_same(got, want)


@pytest.mark.parametrize("target,weight,reduction",
                         list(itertools.product(["indices", "ignored", "all_ignored"],
                                                sorted(WEIGHTS), ["mean", "sum", "none"])))
def test_nll_loss_with_a_zero_total_weight_matches_torch(target, weight, reduction):
    logp = np.log(np.array([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    kwargs = {"reduction": reduction}
    got = _run(cr, "nll_loss", logp, TARGETS[target], WEIGHTS[weight], kwargs)
    want = _run(torch, "nll_loss", logp, TARGETS[target], WEIGHTS[weight], kwargs)
    _assert_same(got, want)


@pytest.mark.parametrize("target", ["indices", "probs"])
def test_cross_entropy_with_a_zero_class_weight_second_order_matches_torch(target):
    x0 = np.nan_to_num(LOGITS, neginf=-3.0)
    out = []
    for m in (cr, torch):
        x = m.tensor(x0, requires_grad=True)
        loss = m.nn.functional.cross_entropy(x, m.tensor(TARGETS[target]), label_smoothing=0.2,
                                             weight=m.tensor(WEIGHTS["one_zero"]))
        g, = m.autograd.grad(loss, x, create_graph=True)
        (g * g).sum().backward()
        out.append([g.detach().numpy(), x.grad.numpy()])
    _assert_same(out[0], out[1])


def test_smoothed_mean_over_a_zero_total_weight_is_nan_as_torch():
    x = np.array([[0.5, 1.0, -1.0], [0.2, 0.1, 0.0]])
    for m in (cr, torch):
        loss = m.nn.functional.cross_entropy(m.tensor(x), m.tensor([2, -100]), label_smoothing=0.1,
                                             weight=m.tensor([0.5, 2.0, 0.0], dtype=m.float64))
        assert np.isnan(loss.item())
