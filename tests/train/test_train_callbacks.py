"""Callbacks against Keras's documented semantics, driven both by hand-made log
sequences (exact counting) and through real `fit` runs."""
import csv
import math
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import (Callback, CSVLogger, EarlyStopping, GradientMonitor,
                             LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                             TerminateOnNaN, fit)
from chainrule.train.fit import Trainer


def drive(cb, seq, monitor="val_loss", model=None):
    """Feed one monitored value per epoch; return the number of epochs run."""
    t = Trainer(model or nn.Linear(1, 1), None, {})
    cb.set_trainer(t)
    cb.on_train_begin({})
    for e, v in enumerate(seq):
        cb.on_epoch_end(e, {monitor: v})
        if t.should_stop():
            return e + 1
    return len(seq)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(np.int64)


def run(callbacks, epochs=6, lr=0.1, model=None, **kw):
    cr.manual_seed(0)
    net = model or nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    h = fit(net, data(), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=lr),
            epochs=epochs, callbacks=callbacks, batch_size=16, progress=False, seed=0, **kw)
    return net, h


# ---- EarlyStopping ---------------------------------------------------------------------
def test_patience_counts_epochs_without_improvement():
    # Keras docstring example: constant loss, patience=3 -> only 4 epochs are run
    assert drive(EarlyStopping(monitor="loss", patience=3), [1.0] * 10, "loss") == 4
    assert drive(EarlyStopping(patience=0), [3, 2, 2.5, 1]) == 3
    assert drive(EarlyStopping(patience=2), [3, 2, 2.5, 1.9, 2, 2, 2]) == 6
    assert drive(EarlyStopping(patience=2), [5, 4, 3, 2, 1]) == 5  # always improving


def test_patience_through_fit_with_a_frozen_model():
    # (min_delta absorbs float rounding of the batch means, which shuffling reorders)
    _, h = run([EarlyStopping(monitor="loss", patience=3, min_delta=1e-5)], epochs=10, lr=0.0)
    assert len(h) == 4 and h.stop_reason == "early_stopping"


def test_min_delta_ignores_small_improvements():
    seq = [1.0, 0.95, 0.9, 0.85, 0.8]
    assert drive(EarlyStopping(patience=1), seq) == 5
    assert drive(EarlyStopping(patience=1, min_delta=0.1), seq) == 2
    assert drive(EarlyStopping(patience=1, min_delta=-0.1), seq) == 2  # sign ignored
    # max mode: accuracy must rise by more than min_delta
    acc = [0.5, 0.52, 0.54, 0.7, 0.71]
    assert drive(EarlyStopping("val_accuracy", patience=1, min_delta=0.05), acc, "val_accuracy") == 2
    assert drive(EarlyStopping("val_accuracy", patience=1), acc, "val_accuracy") == 5


def test_baseline_must_be_beaten_to_reset_patience():
    flat = [5.0, 5.0, 5.0, 5.0, 5.0]
    assert drive(EarlyStopping(patience=2), flat) == 3
    assert drive(EarlyStopping(patience=2, baseline=2.0), flat) == 2
    # improving but never under the baseline: improvements never trigger a stop ...
    assert drive(EarlyStopping(patience=2, baseline=0.5), [5, 4, 3, 2, 1]) == 5
    # ... but a stall above it does, earlier than without a baseline
    assert drive(EarlyStopping(patience=2, baseline=0.5), [5, 4, 4, 4, 4, 4]) == 3
    assert drive(EarlyStopping(patience=2), [5, 4, 4, 4, 4, 4]) == 4


def test_start_from_epoch_ignores_warm_up():
    worse = [1, 2, 3, 4, 5, 6]
    assert drive(EarlyStopping(patience=1), worse) == 2
    assert drive(EarlyStopping(patience=1, start_from_epoch=2), worse) == 4


def test_auto_mode_and_bad_arguments():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    assert EarlyStopping("rmse").mode == "min"
    with pytest.raises(ValueError, match="maximised or minimised"):
        EarlyStopping("val_foo")
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.warns(UserWarning, match="not logged"):
        drive(EarlyStopping("val_loss"), [1.0], "loss")


class Snapshots(Callback):
    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append(self.model[0].weight.detach().clone().numpy())


@pytest.mark.parametrize("patience, epochs_run", [(100, 5), (1, 3)])
def test_restore_best_weights_with_and_without_early_stop(patience, epochs_run):
    snap = Snapshots([3.0, 1.0, 2.0, 4.0, 5.0])
    es = EarlyStopping("score", mode="min", patience=patience, restore_best_weights=True)
    net, h = run([snap, es], epochs=5)
    assert len(h) == epochs_run
    assert es.best_epoch == 1
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), snap.weights[1])
    assert not np.array_equal(snap.weights[1], snap.weights[-1])


def test_without_restore_the_last_weights_stay():
    snap = Snapshots([3.0, 1.0, 2.0, 4.0, 5.0])
    net, _ = run([snap, EarlyStopping("score", mode="min", patience=100)], epochs=5)
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), snap.weights[-1])


# ---- ModelCheckpoint -------------------------------------------------------------------
def test_model_checkpoint_save_best_only(tmp_path):
    snap = Snapshots([3.0, 1.0, 2.0, 0.5, 0.7])
    path = str(tmp_path / "ck-{epoch:02d}-{score:.1f}.pt")
    mc = ModelCheckpoint(path, monitor="score", mode="min", save_best_only=True)
    run([snap, mc], epochs=5)
    names = sorted(os.listdir(tmp_path))
    assert names == ["ck-01-3.0.pt", "ck-02-1.0.pt", "ck-04-0.5.pt"]
    saved = cr.load(str(tmp_path / "ck-04-0.5.pt"))
    np.testing.assert_array_equal(saved["0.weight"].numpy(), snap.weights[3])


def test_model_checkpoint_every_epoch_overwrites_atomically(tmp_path):
    snap = Snapshots([1.0] * 3)
    mc = ModelCheckpoint(tmp_path / "last.pt", monitor="val_accuracy")
    run([snap, mc], epochs=3)
    assert os.listdir(tmp_path) == ["last.pt"] and len(mc.saved) == 3
    np.testing.assert_array_equal(cr.load(str(tmp_path / "last.pt"))["0.weight"].numpy(),
                                  snap.weights[-1])


# ---- CSVLogger -------------------------------------------------------------------------
def test_csv_logger_and_append(tmp_path):
    path = tmp_path / "log.csv"
    run([CSVLogger(path)], epochs=2, validation_split=0.25)
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    run([CSVLogger(path, append=True)], epochs=2, validation_split=0.25)
    rows = list(csv.reader(open(path)))
    assert len(rows) == 5 and rows.count(rows[0]) == 1
    run([CSVLogger(path)], epochs=1, validation_split=0.25)
    assert len(list(csv.reader(open(path)))) == 2


# ---- learning-rate schedules -----------------------------------------------------------
def test_learning_rate_scheduler_function():
    _, h = run([LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)], epochs=4)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    _, h = run([LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], epochs=3)
    assert h["lr"] == pytest.approx([0.01, 0.02, 0.03])
    with pytest.raises(ValueError, match="finite"):
        run([LearningRateScheduler(lambda e, lr: float("nan"))], epochs=1)


def test_chainrule_schedulers_step_per_epoch():
    cr.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = optim.SGD(net.parameters(), lr=0.1)
    h = fit(net, data(), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=4, progress=False,
            scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    # ReduceLROnPlateau is given val_loss: a 50% relative threshold is never met, so the
    # lr halves after every `patience` + 1 epochs
    net = nn.Linear(4, 2)
    opt = optim.SGD(net.parameters(), lr=1e-3)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, threshold=0.5)
    h = fit(net, data(), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=6, progress=False,
            callbacks=[LearningRateScheduler(plateau)], validation_split=0.25)
    assert h["lr"] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])


# ---- NaN handling ----------------------------------------------------------------------
class Weights(Callback):
    def __init__(self):
        super().__init__()
        self.before, self.epoch_start = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start.append(self.model.weight.detach().clone().numpy())

    def on_batch_begin(self, batch, logs=None):
        self.before.append(self.model.weight.detach().clone().numpy())


def test_nan_loss_stops_and_restores_the_weights_from_the_start_of_the_epoch():
    X, y = data()
    Y = (X @ np.ones((4, 1), np.float32)) * 100
    cr.manual_seed(0)
    net = nn.Linear(4, 1)
    w = Weights()
    with np.errstate(all="ignore"):
        h = fit(net, (X, Y), loss=nn.MSELoss(), optimizer=optim.SGD(net.parameters(), lr=10.0),
                epochs=50, metrics=(), callbacks=[w, TerminateOnNaN()], batch_size=8,
                progress=False)
    assert h.stop_reason == "nan"
    assert math.isnan(h["loss"][-1]) and len(h) < 50
    note = h.notes[0]
    assert f"epoch {len(h)}" in note and "batch" in note
    final = net.weight.detach().numpy()
    assert np.isfinite(final).all()
    # the steps of the bad epoch spoiled the weights: those from its start come back
    assert len(w.before) > len(w.epoch_start) + 1  # steps were taken in that epoch
    np.testing.assert_array_equal(final, w.epoch_start[-1])
    assert f"weights from the start of epoch {len(h)} restored" in " ".join(h.notes)


def test_nan_rollback_keeps_one_weight_copy_per_epoch_not_per_batch(monkeypatch):
    X, y = data()
    Y = (X @ np.ones((4, 1), np.float32)) * 100
    cr.manual_seed(0)
    net = nn.Linear(4, 1)
    clones = []
    real_clone = cr.Tensor.clone

    def counting_clone(self, *args, **kwargs):
        clones.append(self.shape)
        return real_clone(self, *args, **kwargs)

    monkeypatch.setattr(cr.Tensor, "clone", counting_clone)
    h = fit(net, (X, Y), loss=nn.MSELoss(), optimizer=optim.SGD(net.parameters(), lr=1e-4),
            epochs=3, metrics=(), batch_size=4, progress=False)
    assert len(h) == 3 and h.params["steps"] > 3
    # one copy of each of the two parameters per epoch
    assert len(clones) == 3 * 2


def test_nan_loss_in_the_first_batch_leaves_untouched_weights_and_says_no_restore():
    X, y = data()
    cr.manual_seed(0)
    net = nn.Linear(4, 1)
    start = net.weight.detach().clone().numpy()
    h = fit(net, (X, y[:, None].astype(np.float32)),
            loss=lambda out, t: ((out - t) ** 2).mean() * float("nan"), optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=3, metrics=(),
            batch_size=8, progress=False)
    assert h.stop_reason == "nan" and len(h) == 1
    np.testing.assert_array_equal(net.weight.detach().numpy(), start)
    assert not any("restored" in n for n in h.notes)


def test_terminate_on_nan_callback_stops_on_nan_val_loss():
    t = Trainer(nn.Linear(1, 1), None, {})
    cb = TerminateOnNaN()
    cb.set_trainer(t)
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": float("nan")})
    assert t.should_stop() and "val_loss" in t.messages[0]


# ---- user callbacks ----------------------------------------------------------------------
def test_hook_order_and_stop_flag_on_model():
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None): calls.append("train_begin")
        def on_train_end(self, logs=None): calls.append("train_end")
        def on_epoch_begin(self, epoch, logs=None): calls.append(f"epoch_begin {epoch}")
        def on_batch_begin(self, batch, logs=None): calls.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            assert set(logs) >= {"loss", "size"}
            calls.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch}")
            if epoch == 1:
                self.model.stop_training = True

    _, h = run([Recorder()], epochs=5, validation_split=0.5)  # 32 rows / 16 = 2 batches
    assert len(h) == 2
    assert calls == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0",
                     "batch_begin 1", "batch_end 1", "epoch_end 0", "epoch_begin 1",
                     "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
                     "epoch_end 1", "train_end"]


def test_lambda_callback_and_type_checks():
    seen = []
    run([LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))], epochs=2)
    assert seen == [0, 1]
    with pytest.raises(ValueError, match="unknown hook"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="Callback"):
        run([lambda: None], epochs=1)


# ---- GradientMonitor ---------------------------------------------------------------------
def test_gradient_monitor_flags_vanishing_sigmoid_stack():
    layers = []
    for _ in range(8):
        lin = nn.Linear(8, 8)
        nn.init.normal_(lin.weight, std=0.1)
        layers += [lin, nn.Sigmoid()]
    cr.manual_seed(0)
    deep = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), *layers, nn.Linear(8, 2))
    gm = GradientMonitor()
    _, h = run([gm], epochs=2, model=deep)
    assert gm.vanishing and not gm.exploding
    assert "vanishing" in " ".join(h.notes)
    assert len(gm.norms["0.weight"]) == 2

    gm2 = GradientMonitor()
    run([gm2], epochs=2)  # a shallow ReLU net is healthy
    assert not gm2.flags


def test_gradient_monitor_flags_exploding():
    layers = []
    for _ in range(6):
        lin = nn.Linear(8, 8)
        nn.init.normal_(lin.weight, std=3.0)
        layers.append(lin)
    cr.manual_seed(0)
    deep = nn.Sequential(nn.Linear(4, 8), *layers, nn.Linear(8, 2))
    gm = GradientMonitor()
    run([gm], epochs=1, model=deep, lr=1e-9)
    assert gm.exploding and not gm.vanishing
