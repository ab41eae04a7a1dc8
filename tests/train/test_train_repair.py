"""repair(build_model, data, fit_kwargs, rounds): train, diagnose, apply the top fix,
train again; each round's verdict, change and validation metric before and after."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import repair
from chainrule.train.model_edits import apply_activation, apply_init


def _blobs(rows=300, seed=0, spread=1.0):
    """Three Gaussian classes in 8 features; the centres `spread` apart (overlapping at 1)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, spread, (3, 8))
    labels = rng.integers(0, 3, rows)
    X = (centres[labels] + rng.normal(size=(rows, 8))).astype(np.float32)
    return X, labels


def build_model(hidden=(32,), activation="relu", dropout=0.0):
    cr.manual_seed(0)
    layers, width = [], 8
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    for h in hidden:
        layers += [nn.Linear(width, h), acts[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 3))


def test_a_learning_rate_far_too_high_is_lowered_and_the_metric_improves():
    X, y = _blobs()
    result = repair(build_model, (X, y), fit_kwargs=dict(
        loss="cross_entropy", optimizer="adam", lr=3.0, epochs=8, seed=0,
        validation_split=0.25), rounds=3)
    first = result.rounds[0]
    assert first.verdict == "learning rate too high" and list(first.fix) == ["lr"]
    assert first.fix["lr"] < 3.0 and first.kept and first.after[0] > first.before[0]
    assert result.settings["lr"] == first.fix["lr"] and result.improved
    assert result.history.params["lr"] == result.settings["lr"]
    text = str(result)
    assert "round 1: learning rate too high" in text and "kept" in text


def test_too_few_epochs_gets_more_epochs():
    X, y = _blobs()
    result = repair(build_model, (X, y), fit_kwargs=dict(
        loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=1, seed=0,
        validation_split=0.25), rounds=1)
    (r,) = result.rounds
    assert r.verdict == "too few epochs" and r.fix == {"epochs": 10} and r.kept
    assert len(result.history) == 10


def test_unscaled_inputs_are_standardised_for_training_and_validation():
    X, y = _blobs()
    result = repair(build_model, (X * 500, y), fit_kwargs=dict(
        loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=6, seed=0,
        validation_split=0.25), rounds=1)
    (r,) = result.rounds
    assert r.verdict == "inputs not normalised" and r.fix == {"normalize": True}
    assert r.kept and result.history.params["normalize"] is True
    assert result.history.signals["inputs"]["rms"] == pytest.approx(1.0, abs=0.2)


def _loaders(X, y, val_rows=75, batch_size=32):
    from chainrule.utils.data import DataLoader, TensorDataset
    cut = len(X) - val_rows
    train = DataLoader(TensorDataset(cr.tensor(X[:cut]), cr.tensor(y[:cut])),
                       batch_size=batch_size, shuffle=True,
                       generator=cr.Generator().manual_seed(0))
    val = DataLoader(TensorDataset(cr.tensor(X[cut:]), cr.tensor(y[cut:])), batch_size=64)
    return train, val


def test_unscaled_inputs_in_a_dataloader_are_standardised_with_the_training_rows_statistics():
    X, y = _blobs()
    train, val = _loaders(X * 500, y)
    result = repair(build_model, train, fit_kwargs=dict(
        loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=6, seed=0, val=val), rounds=1)
    (r,) = result.rounds
    assert r.verdict == "inputs not normalised" and r.fix == {"normalize": True}
    assert r.kept and result.history.params["normalize"] is True
    assert result.history.signals["inputs"]["rms"] == pytest.approx(1.0, abs=0.2)


def test_a_standardised_dataloader_serves_its_rows_in_its_own_order():
    from chainrule.train.standardize import standardise
    X, y = _blobs()
    X = X * 500 + 40
    train, val = _loaders(X, y)
    std_train, std_val = standardise(train, val)
    rows = X[:225].astype(np.float64)
    mean, std = rows.mean(axis=0), rows.std(axis=0)
    # the same shuffle as the loader itself with a generator in the same state
    train.generator.manual_seed(7)
    plain = [(xb.numpy(), yb.numpy()) for xb, yb in train]
    train.generator.manual_seed(7)
    scaled = [(xb.numpy(), yb.numpy()) for xb, yb in std_train]
    assert len(scaled) == len(plain) == len(std_train)
    for (px, py), (sx, sy) in zip(plain, scaled):
        np.testing.assert_array_equal(py, sy)
        np.testing.assert_allclose(sx, (px - mean) / std, rtol=1e-5, atol=1e-5)
    # validation rows: the training rows' statistics, not their own
    (vx, _), *_ = list(std_val)
    np.testing.assert_allclose(vx.numpy(), (X[225:289] - mean) / std, rtol=1e-5, atol=1e-5)


def test_a_dataloader_to_repair_needs_validation_rows_and_pairs_as_batches():
    from chainrule.train.standardize import standardise
    from chainrule.utils.data import DataLoader
    X, y = _blobs()
    train, _ = _loaders(X, y)
    with pytest.raises(TypeError, match="needs val="):
        repair(build_model, train, fit_kwargs=dict(loss="cross_entropy", optimizer="sgd"))
    with pytest.raises(TypeError, match=r"batches must be \(inputs, targets\) pairs"):
        standardise(DataLoader(cr.tensor(X), batch_size=16), None)


def test_a_good_fit_needs_no_round():
    X, y = _blobs(spread=2.0)
    result = repair(build_model, (X, y), fit_kwargs=dict(
        loss="cross_entropy", optimizer="adam", lr=0.01, epochs=15, seed=0,
        validation_split=0.25), rounds=3)
    assert result.rounds == [] and result.diagnosis.verdict == "good fit"
    assert result.initial == result.final


def test_without_validation_rows_the_last_fifth_validates_and_says_so():
    X, y = _blobs()
    result = repair(build_model, (X, y), fit_kwargs=dict(
        loss="cross_entropy", optimizer="sgd", lr=0.05, epochs=1, seed=0), rounds=1)
    assert "last 20%" in str(result)


def test_repair_explains_what_it_needs():
    X, y = _blobs()
    with pytest.raises(TypeError, match="needs loss="):
        repair(build_model, (X, y), fit_kwargs=dict(optimizer="sgd", epochs=1))
    with pytest.raises(TypeError, match=r"data must be \(X, y\) arrays or tensors, or a DataLoader"):
        repair(build_model, X, fit_kwargs=dict(loss="cross_entropy", optimizer="sgd"))
    with pytest.raises(ValueError, match="optimizer must be given by name"):
        repair(build_model, (X, y), fit_kwargs=dict(loss="cross_entropy",
                                                    optimizer=lambda p: None, epochs=1))
    with pytest.raises(ValueError, match="settings keys must be among"):
        repair(build_model, (X, y), fit_kwargs=dict(loss="cross_entropy", optimizer="sgd",
                                                    settings={"colour": "red"}))


def test_init_and_activation_edits_apply_to_a_built_model():
    net = build_model(hidden=(16, 16), activation="sigmoid")
    apply_activation(net, "relu")
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    with cr.no_grad():
        net[0].bias.fill_(-5.0)
    apply_init(net, "kaiming")
    assert float(net[0].bias.abs().sum()) == 0.0
    std = float(net[0].weight.std())
    assert std == pytest.approx(np.sqrt(2 / 8), rel=0.3)
    with pytest.raises(ValueError, match="init must be one of"):
        apply_init(net, "orthogonal")
    with pytest.raises(ValueError, match="activation must be one of"):
        apply_activation(net, "swish")
