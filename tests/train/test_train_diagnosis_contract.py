"""The diagnosis's contract: its verdicts, too few epochs, fixes as dicts of changed
settings that never repeat the run's own, remedies derived from them, each rule on the
signals fit records, and the defects a new user met first."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import EarlyStopping, History, diagnose, fit
from chainrule.train.diagnosis import VERDICTS
from chainrule.train.fixes import FIX_KEYS, describe_fix, run_value


def hist(loss, val=None, signals=None, params=None, initial=None):
    h = History({"loss": list(loss), **({"val_loss": list(val)} if val is not None else {})},
                list(range(len(loss))), params={"lr": 0.1, "optimizer": "SGD",
                                                "epochs": len(loss), "batch_size": 32,
                                                "weight_decay": 0.0, "callbacks": [],
                                                **(params or {})})
    h.signals, h.initial_loss = dict(signals or {}), initial
    return h


def assert_fixes_honour_the_contract(d, params):
    if d.verdict != "good fit":
        assert d.fixes, d
    assert len(d.remedies) == len(d.fixes) or d.verdict == "good fit"
    for fix, remedy in zip(d.fixes, d.remedies):
        assert isinstance(fix, dict) and fix and set(fix) <= set(FIX_KEYS), fix
        for key, value in fix.items():
            assert value != run_value(params, key), (key, value, params)
        assert remedy == describe_fix(fix, params)


def test_the_verdicts_are_the_contracts_twelve():
    assert set(VERDICTS) == {
        "too few epochs", "diverged", "exploding gradients", "learning rate too high",
        "vanishing gradients", "dead ReLUs", "inputs not normalised", "nothing to learn",
        "overfitting", "underfitting", "not converged", "good fit"}


@pytest.mark.parametrize("loss", [[2.3], [2.3, 2.2], [2.3, 0.1]])
def test_fewer_than_three_epochs_is_too_few_epochs(loss):
    d = diagnose(hist(loss))
    assert d.verdict == "too few epochs" and d.fixes[0]["epochs"] > len(loss)


def test_two_epochs_with_a_nan_loss_diverged_rather_than_too_few():
    assert diagnose(hist([2.3, float("nan")])).verdict == "diverged"


def test_three_epochs_are_enough_to_read_a_curve():
    assert diagnose(hist([2.0, 1.0, 0.9], initial=2.3)).verdict != "too few epochs"


# ---- each rule on recorded signals -------------------------------------------------------
GRADS = {"0.weight": 1.0, "0.bias": 1.0, "2.weight": 1.0, "2.bias": 1.0, "4.weight": 1.0,
         "4.bias": 1.0}
FLAT = [2.31, 2.30, 2.30, 2.30, 2.30]


def signals(**extra):
    base = {"baseline_loss": 2.3, "inputs": {"rms": 0.5, "mean": 0.3, "absmax": 1.0},
            "grad_norm_initial": dict(GRADS), "dead_relu": [[0, 0.1]],
            "weight_change": {"0.weight": [0.05] * 5}}
    base.update(extra)
    return base


@pytest.mark.parametrize("verdict,sig,params", [
    ("inputs not normalised", {"inputs": {"rms": 120.0, "mean": 80.0, "absmax": 255.0}}, {}),
    ("exploding gradients", {"grad_norm_initial": dict(GRADS, **{"0.bias": 5e3})},
     {"activation": "relu"}),
    ("vanishing gradients", {"grad_norm_initial": dict(GRADS, **{"0.weight": 1e-9})},
     {"activation": "sigmoid"}),
    ("dead ReLUs", {"dead_relu": [[0, 1.0], [4, 1.0]]}, {"activation": "relu"}),
])
def test_signals_name_the_cause_of_a_stalled_run(verdict, sig, params):
    h = hist(FLAT, signals=signals(**sig), params=params, initial=2.3)
    d = diagnose(h)
    assert d.verdict == verdict, d
    assert_fixes_honour_the_contract(d, h.params)


def test_a_first_epoch_far_above_the_untrained_loss_is_a_learning_rate_too_high():
    h = hist([40.0, 2.5, 2.4, 2.35, 2.3], signals=signals(), initial=2.3)
    d = diagnose(h)
    assert d.verdict == "learning rate too high" and d.fixes[0] == {"lr": 0.01}


def test_validation_that_never_beats_a_constant_while_training_falls_is_nothing_to_learn():
    h = hist([2.3, 2.0, 1.7, 1.5, 1.3], [2.3, 2.35, 2.4, 2.5, 2.6], initial=2.3,
             signals=signals(val_baseline_loss=2.3))
    d = diagnose(h)
    assert d.verdict == "nothing to learn" and d.fixes[0] == {"early_stopping": True}


def test_weights_still_jumping_late_in_a_run_that_got_somewhere_are_a_learning_rate_too_high():
    # Adam at lr 3 on a linear regression: the loss ends near 3 % of learning nothing, but
    # the weights keep moving by half their size each epoch
    loss = [6.0, 2.0, 0.9, 0.5, 0.3, 0.25, 0.2, 0.22, 0.18, 0.2]
    wc = {"0.weight": [7.0, 0.8, 0.7, 0.6, 0.3, 0.45, 0.5, 0.57, 0.4, 0.42]}
    h = hist(loss, initial=6.0, params={"optimizer": "Adam", "lr": 3.0},
             signals=signals(baseline_loss=6.0, weight_change=wc))
    d = diagnose(h)
    assert d.verdict == "learning rate too high" and d.fixes[0] == {"lr": 0.3}, d
    assert d.evidence["late_weight_change"] == pytest.approx(0.45)
    settled = dict(wc, **{"0.weight": wc["0.weight"][:5] + [0.03] * 5})
    calm = diagnose(hist(loss, initial=6.0, params={"optimizer": "Adam", "lr": 3.0},
                         signals=signals(baseline_loss=6.0, weight_change=settled)))
    assert calm.verdict != "learning rate too high", calm


def test_training_loss_creeping_down_while_validation_rises_is_nothing_to_learn():
    # shuffled labels a small network cannot memorise fast: both curves stay near the
    # constant prediction, but they move apart steadily
    epochs = np.arange(30)
    wobble = 0.004 * np.sin(1.7 * epochs)
    loss = 2.3 * (1.0 - 0.001 * epochs + wobble)
    val = 2.3 * (1.0 + 0.0008 * epochs - wobble)
    d = diagnose(hist(loss, val, initial=2.3, signals=signals(val_baseline_loss=2.3)))
    assert d.verdict == "nothing to learn", d
    # a model too small for learnable data: validation follows the training loss down
    follows = diagnose(hist(loss, 2.3 * (1.0 - 0.0008 * epochs - wobble), initial=2.3,
                            signals=signals(val_baseline_loss=2.3)))
    assert follows.verdict == "underfitting", follows


def test_a_loss_falling_slowly_without_slowing_down_is_not_converged_not_underfitting():
    # plain SGD at lr 1e-4: half a percent of learning nothing per epoch, every epoch
    loss = 2.3 * (1.17 - 0.0045 * np.arange(15))
    d = diagnose(hist(loss, initial=2.3, signals=signals(
        weight_change={"0.weight": [0.013] * 15})))
    assert d.verdict == "not converged" and d.fixes[0] == {"lr": 1.0}, d
    # the same level reached along a curve that flattens: the model is too small
    flattening = 2.3 * (1.05 + 0.12 * np.exp(-np.arange(15) / 2.0))
    d = diagnose(hist(flattening, initial=2.3, signals=signals(
        weight_change={"0.weight": [0.013] * 15})))
    assert d.verdict == "underfitting", d


def test_a_first_epoch_overshoot_then_memorising_is_overfitting():
    # 30 rows, a wide net: epoch 1 overshoots, then the rows are memorised and the
    # validation loss climbs for the rest of the run
    epochs = np.arange(40)
    loss = np.r_[2.2, 0.7 * np.exp(-epochs[1:] / 6.0) + 0.01]
    val = np.r_[1.0, 0.8, 0.6, 0.5, 0.45, 0.5 + 0.03 * epochs[5:]]
    h = hist(loss, val, initial=0.69, signals=signals(baseline_loss=0.69,
                                                       val_baseline_loss=0.69))
    d = diagnose(h)
    assert d.verdict == "overfitting" and d.fixes[0] == {"early_stopping": True}, d
    # the same overshoot with a validation loss that follows the training loss down
    follows = diagnose(hist(loss, loss + 0.15, initial=0.69, signals=signals(
        baseline_loss=0.69, val_baseline_loss=0.69)))
    assert follows.verdict == "learning rate too high", follows


def test_a_noisy_validation_loss_that_ends_on_a_bump_is_not_overfitting():
    # SGD with momentum on two rings: the validation loss settles and jumps around its
    # level; its lowest epoch is a dip, its last one a bump
    epochs = np.arange(40)
    loss = 0.69 * (0.15 + 0.85 * np.exp(-epochs / 3.0))
    val = 0.69 * (0.22 + 0.8 * np.exp(-epochs / 3.0)
                  + 0.04 * np.random.default_rng(0).standard_normal(40))
    val[15], val[-1] = 0.69 * 0.12, 0.69 * 0.30
    d = diagnose(hist(loss, val, initial=0.69, signals=signals(
        baseline_loss=0.69, val_baseline_loss=0.69)))
    assert d.verdict != "overfitting", d
    # the same dip followed by a steady climb is a turn
    val[16:] = 0.69 * (0.13 + 0.007 * np.arange(24))
    d = diagnose(hist(loss, val, initial=0.69, signals=signals(
        baseline_loss=0.69, val_baseline_loss=0.69)))
    assert d.verdict == "overfitting", d


def test_weights_that_barely_move_are_a_learning_rate_too_small():
    h = hist(FLAT, initial=2.3, signals=signals(weight_change={"0.weight": [1e-4] * 5}))
    d = diagnose(h)
    assert d.verdict == "not converged" and d.fixes[0] == {"lr": 1.0}


def test_a_small_bump_in_a_tiny_validation_loss_is_a_good_fit():
    # chainrule train's default run: early stopping after val_loss 0.030 -> 0.035
    loss = list(np.geomspace(2.0, 6e-4, 30))
    val = list(np.geomspace(1.9, 0.030, 25)) + [0.032, 0.033, 0.034, 0.035, 0.035]
    d = diagnose(hist(loss, val, initial=2.3, signals=signals(val_baseline_loss=2.3)))
    assert d.verdict == "good fit" and d.fixes == []


# ---- fixes never repeat the run's settings -----------------------------------------------
def _digits(rows=400):
    from chainrule.vision.datasets import Digits
    ds = Digits(train=True)
    X = ds.data.numpy().reshape(len(ds), 64).astype(np.float32)[:rows] / 16
    return X, ds.targets.numpy().astype(np.int64)[:rows]


def test_no_adam_fix_for_a_run_that_is_adam():
    X, y = _digits()
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    h = fit(net, (X, y), loss="cross_entropy", optimizer="adam", lr=1e-5, epochs=4,
            validation_split=0.2, progress=False, seed=0)
    d = diagnose(h)
    assert d.verdict == "not converged", d
    assert {"optimizer": "adam"} not in d.fixes
    assert all(f.get("optimizer") != "adam" for f in d.fixes)
    assert_fixes_honour_the_contract(d, h.params)


def test_no_early_stopping_fix_after_early_stopping_ran():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(30, 256), nn.ReLU(), nn.Linear(256, 2))
    h = fit(net, (X, y), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=40,
            validation_split=0.5, progress=False, seed=0,
            callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
    d = diagnose(h)
    assert "EarlyStopping" in h.params["callbacks"]
    assert d.verdict in ("nothing to learn", "overfitting"), d
    assert all("early_stopping" not in f for f in d.fixes)
    assert_fixes_honour_the_contract(d, h.params)


def test_every_fix_of_a_real_run_changes_a_setting():
    X, y = _digits()
    for lr, epochs in ((5.0, 5), (1e-4, 5), (0.01, 1)):
        cr.manual_seed(0)
        net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
        with np.errstate(all="ignore"):
            h = fit(net, (X, y), loss="cross_entropy", optimizer=optim.SGD(
                net.parameters(), lr=lr, weight_decay=1e-4), epochs=epochs,
                validation_split=0.2, progress=False, seed=0)
        assert_fixes_honour_the_contract(diagnose(h), h.params)


def test_fixes_of_plain_dict_histories_follow_the_logged_learning_rate():
    d = diagnose({"loss": [2.4, 3.1, 2.9, 3.3, 3.0, 3.2], "lr": [0.5] * 6,
                  "accuracy": [0.11, 0.09, 0.1, 0.1, 0.12, 0.1]})
    assert d.verdict == "learning rate too high" and d.fixes[0] == {"lr": 0.05}
    assert d.remedies[0] == "lower the learning rate to 0.05 (from 0.5) (lr=0.05)"


def test_describe_fix_names_every_key_with_its_setting():
    for key, value in (("lr", 0.01), ("epochs", 30), ("optimizer", "adam"),
                       ("weight_decay", 1e-3), ("dropout", 0.5), ("hidden", [64]),
                       ("init", "kaiming"), ("activation", "relu"), ("clip_grad_norm", 1.0),
                       ("normalize", True), ("early_stopping", True), ("batch_size", 64)):
        assert f"{key}={value!r}" in describe_fix({key: value}, {"lr": 0.1, "epochs": 10})


# ---- the defects a new user met first -------------------------------------------------------
def _regression(rows=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3)).astype(np.float32)
    return X, (X @ [1.0, 2.0, 3.0]).astype(np.float32)[:, None]


def test_a_regression_loss_gets_no_accuracy_by_default():
    X, y = _regression()
    h = fit(nn.Linear(3, 1), (X, y), loss="mse", optimizer="sgd", epochs=2, progress=False)
    assert "accuracy" not in h.history and h.params["metrics"] == []
    h = fit(nn.Linear(3, 1), (X, y), loss=nn.L1Loss(), optimizer="sgd", epochs=1,
            progress=False, validation_split=0.2)
    assert not any("accuracy" in k for k in h.history)
    labels = (X[:, 0] > 0).astype(np.int64)
    h = fit(nn.Linear(3, 2), (X, labels), loss="cross_entropy", optimizer="sgd", epochs=1,
            progress=False)
    assert "accuracy" in h.history  # classification keeps its default


def test_sgd_too_slow_on_a_regression_is_never_called_a_learning_rate_too_high():
    X, y = _regression()
    cr.manual_seed(0)
    h = fit(nn.Linear(3, 1), (X, y), loss="mse", optimizer="sgd", epochs=2, progress=False)
    assert diagnose(h).verdict == "too few epochs"
    cr.manual_seed(0)
    h = fit(nn.Linear(3, 1), (X, y), loss="mse", optimizer="sgd", epochs=10, progress=False)
    d = diagnose(h)
    assert d.verdict == "not converged", d
    assert d.fixes[0] == {"lr": 0.01}  # SGD's default 0.001, raised
