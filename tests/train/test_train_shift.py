"""Distribution shift (d2l 4.9): covariate-shift detection and weights, label-shift weights."""
import numpy as np
import pytest

from chainrule.train import covariate_shift, label_shift_weights


def test_covariate_shift_is_detected_and_weights_favour_test_like_rows():
    rng = np.random.default_rng(0)
    train, test = rng.normal(0, 1, (600, 2)), rng.normal(1.5, 1, (400, 2))
    report = covariate_shift(train, test)
    assert report.shifted and report.balanced_accuracy > 0.75
    assert report.weights.shape == (600,) and abs(report.weights.mean() - 1) < 1e-9
    # rows lying towards the test distribution get larger weights
    assert np.corrcoef(report.weights, train.sum(1))[0, 1] > 0.4
    assert "shift detected" in str(report)


def test_no_covariate_shift_when_both_sets_come_from_one_distribution():
    rng = np.random.default_rng(1)
    report = covariate_shift(rng.normal(0, 1, (600, 3)), rng.normal(0, 1, (400, 3)))
    assert not report.shifted and report.balanced_accuracy < 0.6
    assert report.weights.max() < 2.0


def test_label_shift_recovers_the_test_label_distribution():
    rng = np.random.default_rng(2)
    confusion = np.array([[0.8, 0.1, 0.2], [0.1, 0.8, 0.2], [0.1, 0.1, 0.6]])  # P(pred i | true j)

    def predict(labels):
        return np.array([rng.choice(3, p=confusion[:, y]) for y in labels])
    train_true = rng.choice(3, size=3000, p=[1 / 3, 1 / 3, 1 / 3])
    val_true = rng.choice(3, size=3000, p=[1 / 3, 1 / 3, 1 / 3])
    q_true = np.array([0.6, 0.3, 0.1])
    test_true = rng.choice(3, size=4000, p=q_true)
    weights, q = label_shift_weights(predict(val_true), val_true, predict(test_true), train_true)
    np.testing.assert_allclose(q, q_true, atol=0.04)
    np.testing.assert_allclose(weights, q_true / np.bincount(train_true) * len(train_true), rtol=0.15)


def test_shift_bad_inputs_are_named():
    with pytest.raises(ValueError, match="X_train has 2 features but X_test has 3"):
        covariate_shift(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="X_test: expected a non-empty 2-D array"):
        covariate_shift(np.zeros((5, 2)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="X_train: contains NaN"):
        covariate_shift(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="val_pred has 3 rows but val_true has 2"):
        label_shift_weights([0, 1, 1], [0, 1], [0], [0, 1])
    with pytest.raises(ValueError, match="test_pred must be a non-empty 1-D array of class indices"):
        label_shift_weights([0, 1], [0, 1], [0.5], [0, 1])
