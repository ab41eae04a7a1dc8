"""What an epoch writes outside the checkpoint (CSV rows, TensorBoard events) is made
idempotent on resume: a run that fails between its CSV row and its checkpoint and is then
resumed has each epoch once. A finished, early-stopped run stays finished."""
import csv
import errno

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import CSVLogger, EarlyStopping, fit
from chainrule.train import trainer as trainer_mod


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return X, y


def _fit(tmp_path, epochs=5, callbacks=(), resume=False):
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    history = fit(net, _data(), loss=nn.CrossEntropyLoss(),
                  optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=epochs,
                  batch_size=16, validation_split=0.25, seed=1, progress=False,
                  checkpoint_dir=tmp_path / "ckpt", resume=resume, callbacks=list(callbacks))
    return net, history


def _disk_full_at(monkeypatch, epoch):
    real = trainer_mod.save_training_state

    def save(directory, state):
        if state["epoch"] == epoch:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(directory, state)
    monkeypatch.setattr(trainer_mod, "save_training_state", save)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_failed_checkpoint_write_then_resume_leaves_each_epoch_once_in_csv(
        tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    _disk_full_at(monkeypatch, epoch=2)
    with pytest.raises(OSError):
        _fit(tmp_path, callbacks=[CSVLogger(log)])
    assert [r[0] for r in _rows(log)] == ["epoch", "0", "1", "2"]  # row 2 not committed
    monkeypatch.undo()
    _, history = _fit(tmp_path, callbacks=[CSVLogger(log)], resume=True)
    rows = _rows(log)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3", "4"]
    loss = rows[0].index("loss")
    assert [float(r[loss]) for r in rows[1:]] == history.history["loss"]


def _events(folder):
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.step for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_failed_checkpoint_write_then_resume_leaves_each_step_once_in_tensorboard(
        tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    from chainrule.train import TensorBoard
    logs = tmp_path / "tb"
    _disk_full_at(monkeypatch, epoch=2)
    with pytest.raises(OSError):
        _fit(tmp_path, callbacks=[TensorBoard(logs, update_freq="batch")])
    monkeypatch.undo()
    _fit(tmp_path, callbacks=[TensorBoard(logs, update_freq="batch")], resume=True)
    train = _events(logs / "train")
    assert train["epoch_loss"] == [0, 1, 2, 3, 4]
    assert train["batch_loss"] == list(range(1, 3 * 5 + 1))  # 3 batches an epoch
    assert _events(logs / "validation")["epoch_loss"] == [0, 1, 2, 3, 4]


def _early_stopping():
    # patience 0 on a metric that cannot improve: stops at epoch 2 of 6
    return EarlyStopping(monitor="lr", mode="min", patience=0, restore_best_weights=True)


def test_finished_early_stopped_run_resumed_trains_no_more_and_keeps_its_weights(tmp_path):
    net, history = _fit(tmp_path, epochs=6, callbacks=[_early_stopping()])
    assert len(history) == 2 and history.stop_reason == "early_stopping"
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    again, resumed = _fit(tmp_path, epochs=6, callbacks=[_early_stopping()], resume=True)
    assert len(resumed) == 2 and resumed.stop_reason == "early_stopping"
    for key, value in again.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
