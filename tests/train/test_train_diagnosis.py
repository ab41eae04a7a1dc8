"""diagnose(): verdicts on constructed curves and on real runs that really over-fit,
under-fit, stop too early, diverge and fit well."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import History, diagnose, fit


def hist(loss, val=None, initial=None, lr=0.1):
    h = History({"loss": list(loss), **({"val_loss": list(val)} if val is not None else {}),
                 "lr": [lr] * len(loss)}, list(range(len(loss))))
    h.initial_loss = initial
    return h


# ---- constructed curves ------------------------------------------------------------------
def test_constructed_curves():
    e = np.arange(30)
    flat = 0.1 + 2 * np.exp(-e / 2)
    assert diagnose(hist(flat, flat * 1.05)).verdict == "good fit"
    turning = 0.2 + 2 * np.exp(-e / 3) + np.maximum(0, e - 10) * 0.05
    d = diagnose(hist(flat * 0.5, turning))
    assert d.verdict == "overfitting"
    assert d.evidence["best_val_epoch"] == 11 and d.evidence["val_rise"] > 0.1
    assert "turned at epoch 11" in d.reason
    assert diagnose(hist(flat * 0.1, flat * 0.1 + 1.0)).verdict == "overfitting"  # gap
    assert diagnose(hist(2 - 0.05 * e)).verdict == "not converged"
    assert diagnose(hist(np.full(30, 0.69) + 0.001 * np.sin(e), initial=0.7)).verdict == "underfitting"
    assert diagnose(hist([1.0, 0.5, float("nan")])).verdict == "diverged"
    assert diagnose(hist([1.0, 5.0, 50.0, 500.0])).verdict == "diverged"
    assert diagnose(hist([1.0, 0.5, 0.4], [1.0, float("inf"), 2.0])).verdict == "diverged"


def test_remedies_and_printing():
    d = diagnose(hist(2 - 0.05 * np.arange(30)))
    assert any("train longer" in r for r in d.remedies)
    assert any("learning rate" in r for r in diagnose(hist([1.0, float("nan")])).remedies)
    text = str(d)
    assert "NOT CONVERGED" in text and "train_slope_last" in text and "try:" in text
    assert d.to_dict()["verdict"] == "not converged"
    assert diagnose({"loss": [1.0, 0.5]}).verdict  # plain dicts work too
    with pytest.raises(ValueError, match="loss"):
        diagnose({"accuracy": [0.5]})


# ---- real runs ----------------------------------------------------------------------------
def _weight_decay_data(rng, n):
    # d2l 3.7: y = 0.05 + sum(0.01 x_i) + noise with 200 features
    X = rng.normal(size=(n, 200)).astype(np.float32)
    y = 0.05 + 0.01 * X.sum(1, keepdims=True) + rng.normal(0, 0.01, size=(n, 1))
    return X, y.astype(np.float32)


def test_real_overfitting_d2l_weight_decay():
    rng = np.random.default_rng(0)
    train, val = _weight_decay_data(rng, 20), _weight_decay_data(rng, 100)
    cr.manual_seed(0)
    net = nn.Linear(200, 1)
    h = fit(net, train, val, loss=nn.MSELoss(), optimizer=optim.SGD(net.parameters(), lr=0.003),
            epochs=100, batch_size=5, metrics=(), progress=False, seed=0)
    d = diagnose(h)
    assert d.verdict == "overfitting", d
    assert d.evidence["gap_vs_baseline"] > 1
    assert any("weight decay" in r for r in d.remedies)
    # the same setup with weight decay: the gap to the validation loss shrinks tenfold
    cr.manual_seed(0)
    net = nn.Linear(200, 1)
    h = fit(net, train, val, loss=nn.MSELoss(),
            optimizer=optim.SGD(net.parameters(), lr=0.003, weight_decay=3.0),
            epochs=100, batch_size=5, metrics=(), progress=False, seed=0)
    assert diagnose(h).evidence["gap_vs_baseline"] < d.evidence["gap_vs_baseline"] / 10


def _circles(rng, n=300):
    r = np.sqrt(rng.uniform(0, 1, n))
    th = rng.uniform(0, 2 * np.pi, n)
    return np.c_[r * np.cos(th), r * np.sin(th)].astype(np.float32), (r > 0.7).astype(np.int64)


def test_real_underfitting_linear_model_on_circles():
    X, y = _circles(np.random.default_rng(0))
    cr.manual_seed(0)
    net = nn.Linear(2, 2)  # no hidden layer: cannot draw a circle
    h = fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.5),
            epochs=30, validation_split=0.25, progress=False, seed=0)
    d = diagnose(h)
    assert d.verdict == "underfitting", d
    assert any("capacity" in r for r in d.remedies)


def test_real_not_converged_tiny_learning_rate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    h = fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=1e-3),
            epochs=5, validation_split=0.25, progress=False, seed=0)
    d = diagnose(h)
    assert d.verdict == "not converged", d


def test_real_divergence_huge_learning_rate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    with np.errstate(all="ignore"):
        h = fit(net, (X, y), loss=nn.CrossEntropyLoss(),
                optimizer=optim.SGD(net.parameters(), lr=5000.0), epochs=10,
                validation_split=0.25, progress=False, seed=0)
    d = diagnose(h)
    assert d.verdict == "diverged", d
    assert h.stop_reason == "nan" and len(h) < 10
    assert all(np.isfinite(p.detach().numpy()).all() for p in net.parameters())


def test_real_good_fit_noisy_linear_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = (X @ np.arange(1, 6) + rng.normal(0, 0.3, 300)).astype(np.float32)[:, None]
    cr.manual_seed(0)
    net = nn.Linear(5, 1)
    h = fit(net, (X, y), loss=nn.MSELoss(), optimizer=optim.SGD(net.parameters(), lr=0.05),
            epochs=15, validation_split=0.25, progress=False, metrics=("rmse",), seed=0)
    d = diagnose(h)
    assert d.verdict == "good fit", d
    assert h["val_rmse"][-1] == pytest.approx(math.sqrt(h["val_loss"][-1]), rel=1e-5)


def test_fit_prints_the_diagnosis(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = nn.Linear(3, 2)
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.1),
        epochs=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "Diagnosis:" in out
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.1),
        epochs=2, progress=False)
    assert capsys.readouterr().out == ""
