"""Keras habits that map onto chainrule without changing PyTorch's semantics: losses and
optimizers named by string in `fit`, `lr` / `learning_rate`, and a clear error when a
loss function was written in Keras's order `loss(y_true, y_pred)`."""
import functools
import inspect

__all__ = ["LOSSES", "OPTIMIZERS", "resolve_loss", "resolve_optimizer", "KerasOrderGuard"]

# name -> class name in chainrule.nn. Every loss takes (input, target) as PyTorch's do;
# 'cross_entropy' takes logits, so Keras's probability-based names are not aliased.
LOSSES = {
    "cross_entropy": "CrossEntropyLoss", "nll": "NLLLoss", "nll_loss": "NLLLoss",
    "mse": "MSELoss", "mean_squared_error": "MSELoss",
    "mae": "L1Loss", "l1": "L1Loss", "mean_absolute_error": "L1Loss",
    "huber": "HuberLoss", "smooth_l1": "SmoothL1Loss",
    "bce": "BCELoss", "binary_cross_entropy": "BCELoss",
    "bce_with_logits": "BCEWithLogitsLoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}
# Keras names whose meaning differs (they expect probabilities): say what to use instead
_KERAS_HINTS = {
    "sparse_categorical_crossentropy": "'cross_entropy' (it takes logits and integer labels)",
    "categorical_crossentropy": "'cross_entropy' (it takes logits; one-hot or probability "
                                "targets are accepted)",
    "binary_crossentropy": "'bce' for probabilities or 'bce_with_logits' for logits",
}
# name -> class name in chainrule.optim; without lr the class's own default is used
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}


def _cr():
    import chainrule
    return chainrule


def _unknown(kind, name, table, hints=None):
    hint = (hints or {}).get(name.lower())
    extra = f"; for Keras's {name!r} use {hint}" if hint else ""
    return ValueError(f"unknown {kind} {name!r}{extra}; valid names: {', '.join(sorted(table))}")


def resolve_loss(loss):
    """A loss module for a loss name; a user function gets a guard that recognises
    Keras's argument order; loss modules pass through unchanged."""
    cr = _cr()
    if isinstance(loss, str):
        key = loss.lower()
        if key not in LOSSES:
            raise _unknown("loss", loss, LOSSES, _KERAS_HINTS)
        return getattr(cr.nn, LOSSES[key])()
    if callable(loss) and not isinstance(loss, (cr.nn.Module, KerasOrderGuard)):
        return KerasOrderGuard(loss)
    return loss


def _learning_rate(lr, learning_rate):
    if lr is not None and learning_rate is not None:
        raise ValueError("give lr or learning_rate (the same thing), not both")
    value = lr if lr is not None else learning_rate
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or not value > 0):
        raise ValueError(f"lr must be a positive number, got {value!r}")
    return value


def resolve_optimizer(optimizer, lr=None, learning_rate=None):
    """What `fit` accepts as optimizer: an optimizer, a factory params -> optimizer, or a
    name. `lr` / `learning_rate` apply to a name, a class or a factory (passed as lr=)."""
    cr = _cr()
    rate = _learning_rate(lr, learning_rate)
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise _unknown("optimizer", optimizer, OPTIMIZERS)
        optimizer = getattr(cr.optim, OPTIMIZERS[key])
    if rate is None:
        return optimizer
    if hasattr(optimizer, "param_groups") or not callable(optimizer):
        raise ValueError(f"lr / learning_rate applies to an optimizer given by name, class "
                         f"or factory; set it on the {type(optimizer).__name__} you passed")
    return functools.partial(optimizer, lr=rate)  # a class or factory taking lr=


def _shapes(a, b):
    return f"{tuple(getattr(a, 'shape', ()))} and {tuple(getattr(b, 'shape', ()))}"


def _keras_named(fn):
    try:
        names = list(inspect.signature(fn).parameters)[:2]
    except (TypeError, ValueError):
        return False
    return len(names) == 2 and names[0] in ("y_true", "true", "target", "labels") \
        and names[1] in ("y_pred", "pred", "output", "logits", "input", "y_hat")


class KerasOrderGuard:
    """Calls a user loss as loss(y_pred, y_true). On its first call, if it fails but
    would work with the arguments swapped, or its parameters are named (y_true, y_pred)
    while the shapes differ, the loss was written in Keras's order: say so."""

    def __init__(self, fn):
        self.fn, self.checked = fn, False
        functools.update_wrapper(self, fn)

    def __call__(self, y_pred, y_true):
        if self.checked:
            return self.fn(y_pred, y_true)
        if _keras_named(self.fn) and tuple(y_pred.shape) != tuple(y_true.shape):
            raise self._error(y_pred, y_true, "its parameters are named (y_true, y_pred)")
        try:
            out = self.fn(y_pred, y_true)
        except Exception as exc:
            if self._works_swapped(y_pred, y_true):
                raise self._error(y_pred, y_true, f"it raised {exc!r}") from exc
            raise
        self.checked = True
        return out

    def _works_swapped(self, y_pred, y_true):
        try:
            with _cr().no_grad():
                self.fn(y_true, y_pred)
        except Exception:
            return False
        return True

    def _error(self, y_pred, y_true, why):
        name = getattr(self.fn, "__name__", type(self.fn).__name__)
        return TypeError(
            f"loss {name!r} looks written in Keras's order loss(y_true, y_pred): {why} when "
            f"called as loss(y_pred, y_true) with shapes {_shapes(y_pred, y_true)} "
            "(model output, then targets). chainrule follows PyTorch: a loss takes "
            "(input, target); swap your function's parameters")
