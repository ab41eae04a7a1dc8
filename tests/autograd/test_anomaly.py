"""Anomaly mode names the op that first produced NaN/inf, forward or backward, and is
off (and free) by default."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import detect_anomaly, is_anomaly_enabled, set_detect_anomaly


def test_off_by_default_nan_flows_silently():
    x = cr.tensor([-1.0, 1.0, 2.0], requires_grad=True)
    y = cr.log(x).sum()
    y.backward()
    assert not is_anomaly_enabled()
    assert np.isnan(y.item())


def test_forward_names_the_op_and_shapes():
    x = cr.tensor([-1.0, 1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        h = x * 2  # finite: fine
        with pytest.raises(RuntimeError, match=r"'LogBackward0' produced nan values .*\(3,\)"):
            cr.log(h)
    assert not is_anomaly_enabled()


def test_forward_inf_from_finite_inputs():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError, match="LogBackward0' produced inf"):
        cr.log(x)


def test_forward_does_not_blame_ops_fed_bad_values():
    # -inf from a deliberate masked_fill (attention masks) is passed on, not reported
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    mask = cr.tensor([[False, True], [False, False]])
    with detect_anomaly():
        s = x.masked_fill(mask, float("-inf")).softmax(dim=1)
        s.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_backward_names_the_rule_and_its_output():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = cr.sqrt(x)  # forward is finite: sqrt(0) = 0
        with pytest.raises(RuntimeError, match=r"'SqrtBackward0' returned inf values in its "
                                               r"0th output .*input shapes \(2,\)"):
            (y * 3).sum().backward()


def test_backward_nan_from_finite_gradient():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = cr.sqrt(x) * 0.0  # out = 0, gradient 0 * inf = nan inside the chain
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.sum().backward()


def test_set_detect_anomaly_function_and_context():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_decorator_and_clean_graph_passes():
    @detect_anomaly()
    def step():
        w = cr.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        loss = (w @ w).tanh().sum()
        loss.backward()
        return w.grad
    assert np.isfinite(step().numpy()).all()
    assert not is_anomaly_enabled()


def test_create_graph_gradients_are_checked():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        (g,) = cr.autograd.grad((x ** 3).sum(), x, create_graph=True)
        g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
