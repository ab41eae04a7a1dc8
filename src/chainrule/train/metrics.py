"""Metrics computed from predictions and targets. Built-ins work on whole-epoch
predictions (so RMSE is the RMSE of the epoch, not a mean of batch RMSEs); user metrics
are any `f(y_pred, y_true) -> float`, given by callable or registered by name."""
import math

import numpy as np

__all__ = ["accuracy", "top_k_accuracy", "mse", "mae", "rmse", "log_rmse",
           "confusion_matrix", "register_metric", "get_metric", "METRICS"]


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _labels(y_pred, threshold=0.5):
    y_pred = _np(y_pred)
    if y_pred.ndim > 1 and y_pred.shape[-1] > 1:
        return y_pred.argmax(-1)
    if y_pred.dtype.kind == "f":  # one probability (or logit) per row: binary
        # a fixed threshold: a row's class never depends on the other rows of the batch
        flat = y_pred.reshape(len(y_pred)) if y_pred.ndim else y_pred
        return (flat > threshold).astype(np.int64)
    return y_pred.reshape(-1)


def accuracy(y_pred, y_true, threshold=0.5):
    """Fraction of rows whose predicted class (argmax of the scores) equals the label.
    With one score per row (binary), class 1 is `score > threshold`: 0.5 for
    probabilities, pass threshold=0.0 for logits (fit and evaluate do so by themselves
    when the loss takes logits, e.g. BCEWithLogitsLoss)."""
    pred, true = _labels(y_pred, threshold), _np(y_true)
    if true.ndim > 1 and true.shape[-1] > 1:  # one-hot targets
        true = true.argmax(-1)
    true = true.reshape(-1)
    if pred.shape[0] != true.shape[0]:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions for {true.shape[0]} labels")
    return float((pred.astype(np.int64) == true.astype(np.int64)).mean()) if len(true) else float("nan")


def logit_accuracy(y_pred, y_true):
    """accuracy of binary logits: class 1 is a score above 0."""
    return accuracy(y_pred, y_true, threshold=0.0)


def takes_logits(loss):
    """Whether a binary loss reads its input as logits (BCEWithLogitsLoss and
    binary_cross_entropy_with_logits), so that accuracy must threshold at 0, not 0.5."""
    name = type(loss).__name__ if not hasattr(loss, "__name__") else loss.__name__
    return "with_logits" in name.lower() or "withlogits" in name.lower()


def top_k_accuracy(y_pred, y_true, k=5):
    """Fraction of rows whose label is among the k highest scores."""
    scores, true = _np(y_pred), _np(y_true).reshape(-1)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy needs scores of shape (n, classes), got {scores.shape}")
    k = min(int(k), scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == true[:, None]).any(1).mean())


def _pair(y_pred, y_true, name):
    p, t = _np(y_pred).astype(np.float64), _np(y_true).astype(np.float64)
    if p.size != t.size:
        raise ValueError(f"{name}: predictions have {p.size} values, targets {t.size}")
    return p.reshape(-1), t.reshape(-1)


def mse(y_pred, y_true):
    p, t = _pair(y_pred, y_true, "mse")
    return float(np.mean((p - t) ** 2))


def mae(y_pred, y_true):
    p, t = _pair(y_pred, y_true, "mae")
    return float(np.mean(np.abs(p - t)))


def rmse(y_pred, y_true):
    return math.sqrt(mse(y_pred, y_true))


def log_rmse(y_pred, y_true):
    """d2l's house-price score: RMSE between log(clamp(pred, 1)) and log(y), so that
    relative errors count, not absolute ones."""
    p, t = _pair(y_pred, y_true, "log_rmse")
    return float(np.sqrt(np.mean((np.log(np.clip(p, 1.0, None)) - np.log(t)) ** 2)))


def confusion_matrix(y_pred, y_true, num_classes=None):
    """Matrix C with C[i, j] = number of rows of true class i predicted as class j."""
    pred, true = _labels(y_pred).astype(np.int64), _np(y_true).reshape(-1).astype(np.int64)
    n = int(num_classes or max(pred.max(initial=0), true.max(initial=0)) + 1)
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


METRICS = {
    "accuracy": accuracy, "acc": accuracy,
    # Keras's names: the same accuracy (integer or one-hot targets both work)
    "sparse_categorical_accuracy": accuracy, "categorical_accuracy": accuracy,
    "top5_accuracy": top_k_accuracy,
    "mse": mse, "mean_squared_error": mse,
    "mae": mae, "mean_absolute_error": mae,
    "rmse": rmse, "root_mean_squared_error": rmse,
    "log_rmse": log_rmse,
}
# higher is better for these; every other metric is treated as an error (lower is better)
MAXIMIZE = {"accuracy", "acc", "top5_accuracy", "sparse_categorical_accuracy",
            "categorical_accuracy"}


def register_metric(name, fn, higher_is_better=False):
    """Make `fn(y_pred, y_true) -> float` usable by name in `fit(metrics=[name])`."""
    if not callable(fn):
        raise TypeError(f"register_metric: {fn!r} is not callable")
    METRICS[name] = fn
    if higher_is_better:
        MAXIMIZE.add(name)
    return fn


def get_metric(spec, loss=None):
    """(name, fn) for a metric given by name ('accuracy', 'top3_accuracy', 'rmse', ...)
    or by callable (its __name__ becomes the log key). `loss` chooses the binary
    threshold of 'accuracy': 0 when the loss takes logits, 0.5 otherwise."""
    if spec in ("accuracy", "acc") and loss is not None and takes_logits(loss):
        return spec, logit_accuracy
    if callable(spec):
        name = getattr(spec, "__name__", None) or type(spec).__name__
        if name == "<lambda>":
            name = "metric"
        return name, spec
    if not isinstance(spec, str):
        raise TypeError(f"a metric must be a name or a callable (y_pred, y_true) -> float, "
                        f"got {type(spec).__name__}")
    if spec in METRICS:
        return spec, METRICS[spec]
    if spec.startswith("top") and spec.endswith("_accuracy") and spec[3:-9].isdigit():
        k = int(spec[3:-9])

        def topk(y_pred, y_true, k=k):
            return top_k_accuracy(y_pred, y_true, k)
        topk.__name__ = spec
        return spec, topk
    raise ValueError(f"unknown metric {spec!r}; known: {sorted(METRICS)} and "
                     "'topK_accuracy' (e.g. 'top3_accuracy'), or pass a function "
                     "(y_pred, y_true) -> float")


def resolve_mode(monitor, mode="auto"):
    """'min' or 'max': which way `monitor` improves; mode 'auto' decides from its name
    (losses and errors go down, accuracies up) and refuses names it cannot place."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    base = monitor[4:] if monitor.startswith("val_") else monitor
    if base == "loss" or base in ("mse", "mae", "rmse", "log_rmse") or "loss" in base \
            or "error" in base:
        return "min"
    if higher_is_better(monitor):
        return "max"
    raise ValueError(f"cannot tell whether {monitor!r} should be maximised or minimised; "
                     "pass mode='max' or mode='min'")


def higher_is_better(name):
    base = name[4:] if name.startswith("val_") else name
    return base in MAXIMIZE or (base.startswith("top") and base.endswith("_accuracy")) \
        or "accuracy" in base or base.endswith("acc") or base in ("auc", "f1", "precision",
                                                                   "recall", "r2")


_REGRESSION_LOSSES = ("MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "GaussianNLLLoss",
                      "PoissonNLLLoss")
_REGRESSION_WORDS = ("mse", "squared", "l1", "huber", "mae", "mean_absolute")


def is_regression(loss, targets=None):
    """Whether `loss` (module or function) measures a regression: by its name, or, for a
    loss whose name says nothing, by float targets that are not all 0/1."""
    fn = getattr(loss, "fn", loss)  # a user function behind fit's argument-order guard
    name = type(fn).__name__ if not hasattr(fn, "__name__") else fn.__name__
    if type(fn).__name__ in _REGRESSION_LOSSES or any(w in name.lower() for w in _REGRESSION_WORDS):
        return True
    if "entropy" in name.lower() or "nll" in name.lower() or type(fn).__name__.startswith("BCE"):
        return False
    if targets is None:
        return False
    y = _np(targets)
    return y.dtype.kind == "f" and not ((y == 0) | (y == 1)).all()


def default_metrics(loss, targets=None):
    """fit's metrics when none are named: accuracy for classification, none for a
    regression (an accuracy of real-valued predictions means nothing)."""
    return () if is_regression(loss, targets) else ("accuracy",)
