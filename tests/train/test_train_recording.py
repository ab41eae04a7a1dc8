"""What fit records by default for the diagnosis: the run's settings in history.params
and training signals in history.signals (gradient norms per layer, ReLU units that never
fire, the inputs' scale, the loss of learning nothing), kept through JSON and resume."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import EarlyStopping, History, LambdaCallback, fit
from chainrule.train.recording import baseline_loss, dead_relu_share
from chainrule.utils.data import DataLoader, TensorDataset


def _data(rows=120, scale=1.0):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(rows, 6)) * scale).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _mlp():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 8),
                         nn.ReLU(), nn.Linear(8, 2))


def test_params_hold_the_settings_a_fix_may_change():
    X, y = _data()
    net = _mlp()
    stop = EarlyStopping(patience=5)
    h = fit(net, (X, y), loss="cross_entropy",
            optimizer=optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4),
            epochs=3, batch_size=16, validation_split=0.25, progress=False, callbacks=[stop],
            clip_grad_norm=2.0, settings={"init": "xavier"})
    p = h.params
    assert (p["lr"], p["optimizer"], p["epochs"], p["batch_size"]) == (0.05, "SGD", 3, 16)
    assert p["weight_decay"] == 1e-4 and p["momentum"] == 0.9 and p["clip_grad_norm"] == 2.0
    assert p["callbacks"] == ["EarlyStopping"]
    assert (p["hidden"], p["activation"], p["dropout"], p["layers"]) == ([16, 8], "relu", 0.2, 3)
    assert p["init"] == "xavier" and p["metrics"] == ["accuracy"]


def test_params_take_the_batch_size_of_a_data_loader():
    X, y = _data()
    loader = DataLoader(TensorDataset(cr.from_numpy(X), cr.from_numpy(y)), batch_size=24)
    h = fit(_mlp(), loader, loss="cross_entropy", optimizer="adam", epochs=1, progress=False)
    assert h.params["batch_size"] == 24 and h.params["optimizer"] == "Adam"


def test_settings_must_be_a_dict_by_name():
    X, y = _data()
    with pytest.raises(TypeError, match="settings must be a dict"):
        fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=1,
            progress=False, settings=["xavier"])


def test_signals_record_gradients_per_layer_dead_units_inputs_and_baseline():
    X, y = _data(scale=3.0)
    h = fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=3, progress=False,
            validation_split=0.25)
    s = h.signals
    names = ["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"]
    assert list(s["grad_norm_initial"]) == names
    assert all(len(s["grad_norm"][n]) == 3 for n in names)
    assert sorted(s["weight_change"]) == names[::2]  # weight matrices only
    assert all(len(s["weight_change"][n]) == 3 and s["weight_change"][n][0] > 0
               for n in names[::2])
    assert all(v > 0 for v in s["grad_norm_initial"].values())
    assert [epoch for epoch, _ in s["dead_relu"]] == [0, 2]
    assert all(0.0 <= share <= 1.0 for _, share in s["dead_relu"])
    assert s["inputs"]["rms"] == pytest.approx(float(np.sqrt((X[:90] ** 2).mean())), rel=1e-6)
    assert s["inputs"]["absmax"] == pytest.approx(float(np.abs(X[:90]).max()))
    p = np.bincount(y[:90]) / 90
    assert s["baseline_loss"] == pytest.approx(float(-(p * np.log(p)).sum()))
    q = np.bincount(y[90:], minlength=2) / 30
    assert s["val_baseline_loss"] == pytest.approx(float(-(q * np.log(p)).sum()))


def test_record_false_records_nothing():
    X, y = _data()
    h = fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=2, progress=False,
            record=False)
    assert h.signals == {} and h.params["lr"] == 0.001


def test_recording_changes_no_number_of_the_run():
    X, y = _data()
    runs = [fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=3, seed=0,
                progress=False, record=flag, validation_split=0.25) for flag in (True, False)]
    assert runs[0].history["loss"] == runs[1].history["loss"]
    assert runs[0].history["val_loss"] == runs[1].history["val_loss"]


def test_signals_survive_json_and_a_resume(tmp_path):
    X, y = _data()
    ckpt = tmp_path / "ckpt"

    def stop_after_two(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=4, seed=0,
            progress=False, checkpoint_dir=ckpt,
            callbacks=[LambdaCallback(on_epoch_end=stop_after_two)])
    resumed = fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=4, seed=0,
                  progress=False, checkpoint_dir=ckpt, resume=True,
                  callbacks=[LambdaCallback()])
    whole = fit(_mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=4, seed=0,
                progress=False, callbacks=[LambdaCallback()])
    assert resumed.signals["inputs"] == whole.signals["inputs"]
    assert len(resumed.signals["grad_norm"]["0.weight"]) == 4
    back = History.from_json(resumed.to_json())
    assert back.signals["grad_norm_initial"] == resumed.signals["grad_norm_initial"]


def test_non_finite_signals_round_trip_through_json():
    h = History({"loss": [1.0]}, [0])
    h.signals = {"grad_norm": {"w": [float("inf"), 1.0]}, "baseline_loss": float("nan")}
    back = History.from_json(h.to_json())
    assert back.signals["grad_norm"]["w"][0] == math.inf
    assert math.isnan(back.signals["baseline_loss"])


def test_baseline_loss_is_the_best_constant_predictions():
    y = np.array([0, 0, 1, 2])
    assert baseline_loss(nn.CrossEntropyLoss(), y) == pytest.approx(
        -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))
    t = np.array([[1.0], [3.0]])
    assert baseline_loss(nn.MSELoss(), t) == pytest.approx(1.0)
    assert baseline_loss(nn.MSELoss(), np.array([[5.0]]), t) == pytest.approx(9.0)
    assert baseline_loss(nn.CrossEntropyLoss(label_smoothing=0.1), y) is None
    assert baseline_loss(nn.MSELoss(reduction="sum"), t) is None


def test_dead_relu_share_counts_units_that_never_fire():
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    with cr.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(cr.tensor([1.0, -1.0, -1.0, -1.0]))
    rows = [np.ones((5, 2), dtype=np.float32)]
    assert dead_relu_share(net, rows) == 0.75
    assert net.training  # the probe puts the mode back
    assert dead_relu_share(nn.Linear(2, 1), rows) is None
