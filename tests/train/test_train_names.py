"""Keras habits in fit: losses, optimizers and metrics by name, lr / learning_rate, and
the error for a loss written in Keras's order loss(y_true, y_pred)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import evaluate, fit
from chainrule.train.names import LOSSES, OPTIMIZERS, resolve_optimizer


def _blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)).astype(np.float32) + 3 * np.eye(3, 4, dtype=np.float32)[y]
    return X, y.astype(np.int64)


def _net():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _train(**kw):
    X, y = _blobs()
    args = dict(loss="cross_entropy", optimizer="adam", epochs=3, batch_size=16, seed=0,
                progress=False, metrics=["accuracy"])
    args.update(kw)
    return fit(_net(), (X, y), **args)


def test_loss_and_optimizer_by_name_train_like_the_objects_they_name():
    X, y = _blobs()
    by_name = fit(_net(), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
                  batch_size=16, seed=0, progress=False)
    net = _net()
    by_object = fit(net, (X, y), loss=nn.CrossEntropyLoss(),
                    optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=3, batch_size=16,
                    seed=0, progress=False)
    assert by_name.history["loss"] == by_object.history["loss"]
    assert by_name.history["accuracy"] == by_object.history["accuracy"]


def test_lr_and_learning_rate_are_the_same_setting():
    a = _train(lr=0.05).history["loss"]
    b = _train(learning_rate=0.05).history["loss"]
    c = _train(lr=0.001).history["loss"]
    assert a == b
    assert a != c


def test_lr_applies_to_an_optimizer_class_or_factory():
    factory = resolve_optimizer(optim.SGD, lr=0.3)
    opt = factory(_net().parameters())
    assert isinstance(opt, optim.SGD) and opt.param_groups[0]["lr"] == 0.3
    made = resolve_optimizer(lambda ps, lr: optim.RMSprop(ps, lr=lr), learning_rate=0.2)
    assert made(_net().parameters()).param_groups[0]["lr"] == 0.2
    assert _train(optimizer=optim.Adam, lr=0.01).history["loss"] == \
        _train(optimizer="adam", lr=0.01).history["loss"]


def test_lr_with_an_optimizer_instance_is_refused():
    net = _net()
    with pytest.raises(ValueError, match="lr / learning_rate applies to an optimizer given by name"):
        fit(net, _blobs(), loss="mse", optimizer=optim.SGD(net.parameters()), lr=0.1,
            epochs=1, progress=False)


def test_lr_and_learning_rate_together_or_non_positive_are_refused():
    with pytest.raises(ValueError, match="lr or learning_rate"):
        _train(lr=0.1, learning_rate=0.1)
    for bad in (0, -1.0, True, "0.1"):
        with pytest.raises(ValueError, match="lr must be a positive number"):
            _train(lr=bad)


def test_names_are_case_insensitive_and_every_table_entry_builds():
    assert _train(loss="Cross_Entropy", optimizer="Adam").history["loss"] == \
        _train().history["loss"]
    for name, cls in LOSSES.items():
        from chainrule.train.names import resolve_loss
        assert type(resolve_loss(name)).__name__ == cls
    for name in OPTIMIZERS:
        assert isinstance(resolve_optimizer(name)(_net().parameters()), optim.Optimizer)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'crossentropy'.*cross_entropy, .*mse"):
        _train(loss="crossentropy")
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamax'.*adam, adamw, rmsprop"):
        _train(optimizer="adamax")
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        _train(metrics=["f2"])


def test_keras_probability_loss_names_point_to_the_logit_ones():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*'cross_entropy'"):
        _train(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="'bce' for probabilities or 'bce_with_logits'"):
        _train(loss="binary_crossentropy")


def test_keras_accuracy_names_log_the_same_accuracy():
    h = _train(metrics=["sparse_categorical_accuracy", "accuracy"])
    assert h.history["sparse_categorical_accuracy"] == h.history["accuracy"]


def test_regression_by_name_with_mse_and_mae():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32))
    cr.manual_seed(0)
    net = nn.Linear(3, 1)
    h = fit(net, (X, y), loss="mse", optimizer="sgd", learning_rate=0.1, epochs=20,
            batch_size=8, seed=0, progress=False, metrics=["mae"])
    assert h.history["loss"][-1] < 0.05 * h.history["loss"][0]
    logs = evaluate(net, (X, y), loss="mse", metrics=["mse"])
    assert logs["loss"] == pytest.approx(logs["mse"], rel=1e-5)


def test_loss_in_keras_order_that_fails_is_named_with_the_shapes():
    def my_loss(a, b):  # Keras order: (y_true, y_pred), with neutral names
        return nn.functional.cross_entropy(b, a)
    with pytest.raises(TypeError, match=r"Keras's order loss\(y_true, y_pred\).*\(16, 3\) "
                                        r"and \(16,\).*swap your function's parameters"):
        _train(loss=my_loss)


def test_loss_with_keras_parameter_names_and_different_shapes_is_refused():
    def keras_mse(y_true, y_pred):  # runs either way by broadcasting, silently wrong
        return ((y_true - y_pred) ** 2).mean()
    X, y = _blobs()
    with pytest.raises(TypeError, match="its parameters are named \\(y_true, y_pred\\)"):
        fit(nn.Linear(4, 1), (X, y.astype(np.float32)), loss=keras_mse, optimizer="sgd",
            epochs=1, progress=False, metrics=[])


def test_loss_in_pytorch_order_passes_and_keeps_its_name_for_metrics():
    def bce_with_logits(input, target):
        return nn.functional.binary_cross_entropy_with_logits(input, target)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(32, 2)).astype(np.float32)
    y = (X[:, :1] > 0).astype(np.float32)
    cr.manual_seed(0)
    h = fit(nn.Linear(2, 1), (X, y), loss=bce_with_logits, optimizer="sgd", lr=0.5,
            epochs=15, batch_size=8, seed=0, progress=False)
    # the name survives the guard, so accuracy thresholds the logits at 0
    assert h.history["accuracy"][-1] > 0.8


def test_a_genuine_error_in_a_loss_is_not_blamed_on_argument_order():
    def broken(y_pred, y_true):
        raise RuntimeError("bug in my loss")
    with pytest.raises(RuntimeError, match="bug in my loss"):
        _train(loss=broken)
