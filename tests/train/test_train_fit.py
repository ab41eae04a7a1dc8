"""fit / evaluate / predict: data forms, validation_split, metrics, History files,
progress output and clear errors for bad arguments."""
import io
import json
import math
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import EarlyStopping, History, evaluate, fit, metrics, predict
from chainrule.utils.data import DataLoader, TensorDataset


def data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def model():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))


def sgd(net, lr=0.1):
    return optim.SGD(net.parameters(), lr=lr)


def kw(net, **extra):
    return {**dict(loss=nn.CrossEntropyLoss(), optimizer=sgd(net), epochs=2, progress=False),
            **extra}


# ---- data forms ---------------------------------------------------------------------------
def test_arrays_tensors_datasets_and_loaders_train_the_same_way():
    X, y = data()
    results = []
    for form in ("numpy", "tensor", "dataset"):
        net = model()
        train = {"numpy": (X, y), "tensor": (cr.tensor(X), cr.tensor(y)),
                 "dataset": TensorDataset(cr.tensor(X), cr.tensor(y))}[form]
        h = fit(net, train, **kw(net, seed=3, batch_size=10))
        results.append((h["loss"], net[0].weight.detach().numpy().copy()))
    for loss, w in results[1:]:
        assert loss == results[0][0]
        np.testing.assert_array_equal(w, results[0][1])
    net = model()
    loader = DataLoader(TensorDataset(cr.tensor(X), cr.tensor(y)), batch_size=10, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    h = fit(net, loader, (X[:20], y[:20]), **kw(net))
    assert set(h.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert len(h["loss"]) == 2 and h.params["steps"] == 6


def test_validation_split_takes_the_last_rows():
    X, y = data(40)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x):
            if not self.training:
                seen.append(x.detach().numpy().copy())
            return self.lin(x)

    net = Spy()
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=sgd(net), epochs=1, progress=False,
        validation_split=0.25)
    np.testing.assert_array_equal(np.concatenate(seen), X[30:])   # Keras: the LAST 25%


def test_evaluate_and_predict_restore_mode_and_use_no_grad():
    X, y = data()
    net = model()
    net.train()
    out = predict(net, X, batch_size=7)
    assert out.shape == (60, 2) and not out.requires_grad and net.training
    np.testing.assert_allclose(out.numpy(), predict(net, X).numpy(), rtol=1e-6)  # eval: no dropout
    net.eval()
    res = evaluate(net, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy", "top2_accuracy"])
    assert not net.training
    assert set(res) == {"loss", "accuracy", "top2_accuracy"} and res["top2_accuracy"] == 1.0
    ref = nn.CrossEntropyLoss()(net(cr.tensor(X)), cr.tensor(y)).item()
    assert res["loss"] == pytest.approx(ref, rel=1e-5)
    assert all(p.grad is None for p in net.parameters())


# ---- metrics -------------------------------------------------------------------------------
def test_builtin_metrics():
    scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    labels = np.array([1, 0, 1, 1])
    assert metrics.accuracy(scores, labels) == 0.5
    assert metrics.top_k_accuracy(scores, labels, k=2) == 1.0
    assert metrics.confusion_matrix(scores, labels, 3).tolist() == [[1, 0, 0], [1, 1, 1], [0, 0, 0]]
    p, t = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    assert metrics.mse(p, t) == pytest.approx(5 / 3)
    assert metrics.mae(p, t) == pytest.approx(1.0)
    assert metrics.rmse(p, t) == pytest.approx(math.sqrt(5 / 3))
    # d2l log_rmse clamps predictions below 1 to 1
    assert metrics.log_rmse(np.array([0.5, 10.0]), np.array([1.0, 10.0])) == 0.0
    assert metrics.log_rmse(np.array([200.0]), np.array([100.0])) == pytest.approx(math.log(2))
    assert metrics.accuracy(np.array([[0.2], [0.9]]), np.array([0, 1])) == 1.0  # binary


def test_user_metrics_by_callable_and_name():
    X, y = data()

    def frac_class_one(y_pred, y_true):
        return float((y_pred.argmax(1) == 1).float().mean())

    metrics.register_metric("frac_one", frac_class_one)
    net = model()
    h = fit(net, (X, y), **kw(net, metrics=[frac_class_one, "accuracy"], validation_split=0.2))
    assert "frac_class_one" in h and "val_frac_class_one" in h
    net = model()
    h = fit(net, (X, y), **kw(net, metrics=["frac_one"]))
    assert 0 <= h["frac_one"][-1] <= 1


# ---- History -------------------------------------------------------------------------------
def test_history_files_round_trip(tmp_path):
    X, y = data()
    net = model()
    h = fit(net, (X, y), **kw(net, validation_split=0.2, epochs=3))
    assert h.history["loss"] is h["loss"] is h.loss and len(h) == 3
    table = h.to_table()
    assert table.splitlines()[0].split() == ["epoch", "loss", "accuracy", "val_loss",
                                             "val_accuracy", "lr", "seconds"]
    assert len(table.splitlines()) == 5
    h.to_csv(tmp_path / "h.csv")
    lines = open(tmp_path / "h.csv").read().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds" and len(lines) == 4
    assert float(lines[1].split(",")[1]) == h["loss"][0]
    h.to_json(tmp_path / "h.json")
    back = History.from_json(tmp_path / "h.json")
    assert back.history == h.history and back.epoch == h.epoch
    assert back.initial_loss == h.initial_loss
    h.history["loss"][0] = float("nan")
    text = h.to_json()
    json.loads(text)  # still valid JSON
    assert math.isnan(History.from_json(text)["loss"][0])
    assert h.best_epoch("val_accuracy") == int(np.argmax(h["val_accuracy"]))
    with pytest.raises(KeyError, match="recorded"):
        h["val_top5"]


# ---- progress ------------------------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_lines_when_not_a_terminal(capsys):
    X, y = data()
    net = model()
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=sgd(net), epochs=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Epoch 1/2  loss ") and "accuracy" in out[0]
    assert out[1].startswith("Epoch 2/2")


def test_progress_bar_on_a_terminal_and_without_tqdm(monkeypatch):
    pytest.importorskip("tqdm", reason="the progress bar needs tqdm, which is not installed")
    X, y = data()
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    monkeypatch.setattr(sys, "stderr", tty)
    net = model()
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=sgd(net), epochs=1, batch_size=10)
    text = tty.getvalue()
    assert "Epoch 1/1" in text and "6/6" in text and "batch" in text
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)   # tqdm missing: plain lines
    tty2 = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty2)
    net = model()
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=sgd(net), epochs=1)
    assert tty2.getvalue().startswith("Epoch 1/1  loss")


# ---- training options ----------------------------------------------------------------------
def test_optimizer_factory_clip_and_seed_reproducibility():
    X, y = data()
    runs = []
    for _ in range(2):
        net = model()
        fit(net, (X, y), loss=nn.CrossEntropyLoss(), epochs=2, progress=False, seed=5,
            optimizer=lambda ps: optim.SGD(ps, lr=0.1), clip_grad_norm=0.01)
        runs.append(net[0].weight.detach().numpy().copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    net = model()
    w0 = net[0].weight.detach().numpy().copy()
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), epochs=1, progress=False, batch_size=60,
        optimizer=optim.SGD(net.parameters(), lr=1.0), clip_grad_norm=1e-3)
    step = net[0].weight.detach().numpy() - w0
    assert np.linalg.norm(step) <= 1e-3 * 1.01   # one step of lr 1 on a clipped gradient


def test_loss_without_reduction_is_averaged():
    X, y = data()
    net = model()
    h = fit(net, (X, y), loss=nn.CrossEntropyLoss(reduction="none"), optimizer=sgd(net),
            epochs=1, progress=False)
    assert math.isfinite(h["loss"][0])


# ---- bad arguments --------------------------------------------------------------------------
@pytest.mark.parametrize("change, err, match", [
    (dict(epochs=0), ValueError, "epochs must be positive"),
    (dict(epochs=-3), ValueError, "epochs must be positive"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer"),
    (dict(metrics=["acuracy"]), ValueError, "unknown metric 'acuracy'"),
    (dict(metrics=[3]), TypeError, "metric must be a name or a callable"),
    (dict(validation_split=0.0), ValueError, r"validation_split must be a fraction in \(0, 1\)"),
    (dict(validation_split=1.5), ValueError, "validation_split"),
    (dict(resume=True), ValueError, "resume=True needs checkpoint_dir"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    (dict(clip_grad_norm=-1), ValueError, "clip_grad_norm"),
    (dict(loss=None), TypeError, "loss must be"),
    (dict(optimizer=None), TypeError, "optimizer"),
    (dict(optimizer=42), TypeError, "optimizer must be"),
    (dict(optimizer="sgdd"), ValueError, "unknown optimizer 'sgdd'"),
])
def test_bad_arguments(change, err, match):
    X, y = data()
    net = model()
    args = dict(kw(net), **change)
    with pytest.raises(err, match=match):
        fit(net, (X, y), **args)


def test_bad_data():
    X, y = data()
    net = model()
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        fit(net, (X, y[:-1]), **kw(net))
    with pytest.raises(TypeError, match="pair"):
        fit(net, X, **kw(net))
    with pytest.raises(ValueError, match="either val or validation_split"):
        fit(net, (X, y), (X, y), **kw(net, validation_split=0.2))
    loader = DataLoader(TensorDataset(cr.tensor(X), cr.tensor(y)), batch_size=10)
    with pytest.raises(ValueError, match="batch_size is set by the DataLoader"):
        fit(net, loader, **kw(net, batch_size=5))
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        fit(net, loader, **kw(net, validation_split=0.2))
    with pytest.raises(ValueError, match="empty"):
        fit(net, (X[:1], y[:1]), **kw(net, validation_split=0.5))
    with pytest.raises(TypeError, match="nn.Module"):
        fit("net", (X, y), **kw(net))
    with pytest.raises(ValueError, match="used twice"):
        fit(net, (X, y), **kw(net, metrics=["accuracy", "accuracy"]))


def test_keras_verbose_and_validation_data_are_accepted(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = nn.Linear(3, 2)
    h = fit(net, (X[:30], y[:30]), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
            verbose=0, validation_data=(X[30:], y[30:]))
    assert capsys.readouterr().out == "" and len(h["val_loss"]) == 3
    fit(net, (X, y), loss="cross_entropy", optimizer="sgd", epochs=3, verbose=1)
    assert "Epoch 3/3" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not both"):
        fit(net, (X, y), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1,
            validation_data=(X, y))
    with pytest.raises(ValueError, match="progress=True/False"):
        fit(net, (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=3)


def test_an_epochs_line_comes_before_the_early_stopping_it_caused(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    net = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 2))
    h = fit(net, (X, y), loss="cross_entropy", optimizer="adam", lr=0.05, epochs=50,
            validation_split=0.5, callbacks=[EarlyStopping(patience=1)])
    lines = capsys.readouterr().out.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("early stopping at epoch"))
    assert lines[stop - 1].startswith(f"Epoch {len(h)}/50"), lines[stop - 1:stop + 1]
