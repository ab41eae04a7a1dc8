"""NeuralNetClassifier and NeuralNetRegressor: scikit-learn estimators around a
chainrule module, with skorch's parameters."""
import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets

from .net import NeuralNet

_DOC = """

    module: an nn.Module class (built in fit with the `module__*` parameters; an
    argument named {widths} not given is filled in from the data) or an instance
    (fit trains a copy). Lazy layers (nn.LazyLinear) take the input width from the data.
    criterion: a loss class, a loss instance or a name ('cross_entropy', 'mse', ...),
    with `criterion__*` parameters. optimizer: a name ('sgd', 'adam', ...) or an
    optimizer class, built with lr and `optimizer__*`. train_split: None (train on all
    rows), a fraction held out for validation, or a callable (X, y) -> (train, val).
    callbacks: chainrule.train callbacks or (name, callback) pairs, configured with
    `callbacks__<name>__<param>`. random_state: seeds the initialization and the
    shuffling (None: a fresh seed every fit). verbose: show fit's progress.
    Fitted attributes: module_, criterion_, optimizer_, history_ (a History),
    n_features_in_ and, for the classifier, classes_."""


class NeuralNetClassifier(ClassifierMixin, NeuralNet):
    """A classifier: predict gives the class of the highest score; predict_proba the
    softmax of the scores (exp for NLLLoss's log-probabilities, sigmoid for one logit
    with BCEWithLogitsLoss)."""
    __doc__ += _DOC.format(widths="num_classes / n_classes")

    default_criterion = "cross_entropy"
    metrics = ("accuracy",)
    multi_output = False
    output_width_names = ("num_classes", "n_classes")

    def _prepare_targets(self, y, reset, classes=None):
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            return
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(f"partial_fit: labels {unseen.tolist()} are not among the classes "
                             f"seen first {self.classes_.tolist()}; pass classes= to the "
                             "first partial_fit")

    def _output_width(self, y):
        return len(self.classes_)

    def _binary_logit(self):
        return type(self.criterion_).__name__ in ("BCEWithLogitsLoss", "BCELoss")

    def _encode_targets(self, y):
        idx = np.searchsorted(self.classes_, y).astype(np.int64)
        if self._binary_logit():
            return idx.astype(np.float32).reshape(-1, 1)
        return idx

    def _stratify(self, y, split):
        counts = np.unique(y, return_counts=True)[1]
        return counts.min() >= 2 and len(counts) <= round(len(y) * split)

    def predict_proba(self, X):
        """Class probabilities, one column per entry of classes_."""
        out = self.forward(X).astype(np.float64)
        name = type(self.criterion_).__name__
        if out.ndim != 2:
            raise ValueError(f"predict_proba: the module's output has shape {out.shape}; "
                             "expected (rows, classes)")
        if out.shape[1] == 1 and self._binary_logit():
            p = out[:, 0] if name == "BCELoss" else 1 / (1 + np.exp(-out[:, 0]))
            return np.stack([1 - p, p], axis=1)
        if name == "NLLLoss":
            return np.exp(out)
        z = np.exp(out - out.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The class (an entry of classes_) with the highest probability."""
        best = self.predict_proba(X).argmax(axis=1)  # checks fitted before classes_
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class NeuralNetRegressor(RegressorMixin, NeuralNet):
    """A regressor trained with MSELoss by default; y of shape (n,) or (n, outputs),
    predictions have the same shape."""
    __doc__ += _DOC.format(widths="num_outputs / n_outputs")

    default_criterion = "mse"
    metrics = ()
    multi_output = True
    output_width_names = ("num_outputs", "n_outputs")

    def _prepare_targets(self, y, reset, classes=None):
        if classes is not None:
            raise TypeError("partial_fit: classes= is for classifiers")
        width = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = width
            self._y_1d = y.ndim == 1
        elif width != self.n_outputs_:
            raise ValueError(f"y has {width} columns but the regressor was fitted on "
                             f"{self.n_outputs_}")

    def _output_width(self, y):
        return self.n_outputs_

    def _encode_targets(self, y):
        return np.asarray(y, dtype=np.float32).reshape(len(y), -1)

    def predict(self, X):
        """Predictions shaped as the y given to fit: (n,) or (n, outputs), as float64
        (scikit-learn's scorers expect it; the module computes in its own dtype)."""
        out = self.forward(X).astype(np.float64)
        if out.ndim == 2 and out.shape[1] == self.n_outputs_ and self._y_1d:
            return out[:, 0]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
