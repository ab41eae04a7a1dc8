"""Distribution shift (d2l 4.9): when the data a model meets differs from its training data.

- Covariate shift: p(x) changes, p(y | x) does not. Detected by training a classifier to
  tell training rows from test rows: if it cannot beat chance, the inputs look alike.
  Corrected by weighting each training row by beta(x) = p_test(x) / p_train(x), which
  that classifier's logit h(x) estimates as exp(h(x)) (d2l's recipe).
- Label shift: p(y) changes, p(x | y) does not. With the classifier's confusion on
  validation data, C[i, j] = P(predict i | true j), and its mean prediction mu on the test
  inputs, the test label distribution q solves C q = mu; class weights are q(y) / p(y).
- Concept shift (what a label means changes) cannot be seen in the inputs; only fresh
  labels reveal it.
The weights go into a loss with reduction='none': `(loss(out, y) * w).mean()`."""
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..random import manual_seed
from ..tensors.tensor import Tensor


def _array(x, name):
    arr = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (rows × features), got "
                         f"shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or Inf")
    return arr


@dataclass
class CovariateShift:
    """What the train-vs-test classifier found. `balanced_accuracy` is measured on rows it
    did not train on (0.5 = chance); `weights` holds beta for each training row."""
    balanced_accuracy: float
    shifted: bool
    weights: np.ndarray

    def __str__(self):
        verdict = "shift detected" if self.shifted else "no shift detected"
        return (f"covariate shift: {verdict} — a classifier tells training rows from test "
                f"rows with balanced accuracy {self.balanced_accuracy:.3f} (0.5 is chance); "
                f"importance weights range {self.weights.min():.3g}–{self.weights.max():.3g}")


def covariate_shift(X_train, X_test, epochs=200, lr=0.1, threshold=0.6, max_weight=20.0,
                    seed=0):
    """Logistic regression between training (0) and test (1) rows: its held-out balanced
    accuracy says whether the inputs shifted, its logit gives each training row's weight."""
    a, b = _array(X_train, "X_train"), _array(X_test, "X_test")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"covariate_shift: X_train has {a.shape[1]} features but X_test has "
                         f"{b.shape[1]}")
    X = np.concatenate([a, b])
    mean, std = X.mean(0), X.std(0) + 1e-12
    X = ((X - mean) / std).astype(np.float32)
    d = np.concatenate([np.zeros(len(a)), np.ones(len(b))]).astype(np.float32)
    rng = np.random.default_rng(seed)
    held = rng.random(len(X)) < 0.25
    manual_seed(seed)
    model = nn.Linear(X.shape[1], 1)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=Tensor._wrap(np.float32([len(a) / len(b)])))
    Xt, dt = Tensor._wrap(X[~held]), Tensor._wrap(d[~held].reshape(-1, 1))
    for _ in range(epochs):  # full batch: the problem is small and convex
        opt.zero_grad()
        loss_fn(model(Xt), dt).backward()
        opt.step()
    from ..autograd import no_grad
    with no_grad():
        logits = model(Tensor._wrap(X))._data.reshape(-1).astype(np.float64)
    pred = logits[held] > 0
    truth = d[held] > 0.5
    recalls = [np.mean(pred[truth] == 1) if truth.any() else 0.5,
               np.mean(pred[~truth] == 0) if (~truth).any() else 0.5]
    balanced = float(np.mean(recalls))
    # the classifier was trained with balanced classes (pos_weight), so exp(h) is the
    # density ratio itself; weights are clipped (rare rows would dominate) and mean 1
    beta = np.minimum(np.exp(logits[:len(a)]), max_weight)
    return CovariateShift(balanced, balanced > threshold, beta / beta.mean())


def label_shift_weights(val_pred, val_true, test_pred, train_true, num_classes=None):
    """Class weights q(y) / p(y) for label shift, and the estimated test label distribution q.
    `*_pred` are predicted class indices (or logits/probabilities, reduced by argmax)."""
    def labels(v, name):
        arr = np.asarray(v._data if isinstance(v, Tensor) else v)
        if arr.ndim == 2:
            arr = arr.argmax(1)
        if arr.ndim != 1 or len(arr) == 0 or arr.dtype.kind not in "iu":
            raise ValueError(f"label_shift_weights: {name} must be a non-empty 1-D array of "
                             f"class indices (or 2-D scores), got {arr.dtype} {arr.shape}")
        return arr.astype(np.int64)
    vp, vt, tp, tt = (labels(v, n) for v, n in ((val_pred, "val_pred"), (val_true, "val_true"),
                                                 (test_pred, "test_pred"),
                                                 (train_true, "train_true")))
    if len(vp) != len(vt):
        raise ValueError(f"label_shift_weights: val_pred has {len(vp)} rows but val_true has "
                         f"{len(vt)}")
    k = int(num_classes or max(a.max() for a in (vp, vt, tp, tt)) + 1)
    counts = np.zeros((k, k))
    np.add.at(counts, (vp, vt), 1)
    C = counts / np.maximum(counts.sum(0, keepdims=True), 1)   # P(predict i | true j)
    mu = np.bincount(tp, minlength=k) / len(tp)
    q = np.clip(np.linalg.lstsq(C, mu, rcond=None)[0], 0, None)
    q = q / q.sum() if q.sum() > 0 else np.full(k, 1.0 / k)
    p = np.bincount(tt, minlength=k) / len(tt)
    weights = np.where(p > 0, q / np.where(p > 0, p, 1), 0.0)
    return weights, q
