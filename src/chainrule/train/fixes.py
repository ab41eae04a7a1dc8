"""Fixes: concrete changes to a run's settings, as the diagnosis proposes them and
`repair` applies them. A fix is a dict whose keys are among FIX_KEYS; every value in it
differs from the run's own value for that key (read from `history.params`), so no fix
tells a learner to do what the run already does."""
import math

from ..runtime.i18n import N_, _

__all__ = ["FIX_KEYS", "run_value", "novel", "describe_fix", "lower", "higher"]

FIX_KEYS = ("lr", "epochs", "optimizer", "weight_decay", "dropout", "hidden", "init",
            "activation", "clip_grad_norm", "normalize", "early_stopping", "batch_size")

# what a run has when history.params does not say otherwise
_UNSET = {"weight_decay": 0.0, "dropout": 0.0, "clip_grad_norm": None, "early_stopping": False}


def run_value(params, key):
    """The run's own value for a fix key, or None when the run does not say."""
    params = params or {}
    if key == "early_stopping":
        return bool(params.get("early_stopping")) or "EarlyStopping" in (params.get("callbacks") or [])
    if key == "optimizer":
        name = params.get("optimizer")
        return name.lower() if isinstance(name, str) else None
    if key in params:
        value = params[key]
        return value.lower() if isinstance(value, str) else value
    return _UNSET.get(key)


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-6)
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def novel(fix, params):
    """The fix without the keys whose value the run already has (None when nothing is
    left); keys outside FIX_KEYS are refused, as a programming error."""
    unknown = set(fix) - set(FIX_KEYS)
    if unknown:
        raise ValueError(f"fix keys must be among {FIX_KEYS}; got {sorted(unknown)}")
    kept = {k: v for k, v in fix.items()
            if v is not None and not (run_value(params, k) is not None
                                      and _same(v, run_value(params, k)))}
    return kept or None


def _nice(x):
    """A round number near x (1, 2, 3 or 5 times a power of ten)."""
    if not x > 0 or not math.isfinite(x):
        return x
    exp = math.floor(math.log10(x))
    for m in (1, 2, 3, 5, 10):
        if m * 10 ** exp >= x * 0.85:
            return float(f"{m * 10 ** exp:.3g}")
    return x


def lower(value, factor=10.0):
    return _nice(value / factor)


def higher(value, factor=10.0):
    return _nice(value * factor)


_WORDS = {
    "epochs": N_("train for {v} epochs"), "optimizer": N_("use the {v} optimizer"),
    "weight_decay": N_("weight decay {v:g}"),
    "dropout": N_("dropout {v:g} after each hidden layer"),
    "hidden": N_("hidden layers {v}"), "init": N_("{v} initialisation"),
    "activation": N_("{v} activations"), "clip_grad_norm": N_("clip the gradient norm at {v:g}"),
    "batch_size": N_("batch size {v}"),
}


def _lr_words(v, params):
    old = run_value(params, "lr")
    if isinstance(old, (int, float)) and math.isfinite(old) and old > 0:
        words = (_("lower the learning rate to {v:g} (from {old:g})") if v < old
                 else _("raise the learning rate to {v:g} (from {old:g})"))
        return words.format(v=v, old=old)
    return _("learning rate {v:g}").format(v=v)


def _hidden_words(v, params):
    old = run_value(params, "hidden") or []
    if not v:
        return _("no hidden layer")
    if sum(v) > sum(old) or len(v) > len(old):
        return _("give the model more capacity: hidden layers {v}").format(v=list(v))
    return _("use a smaller model: hidden layers {v}").format(v=list(v))


def describe_fix(fix, params=None):
    """One line a learner can act on, with the setting as fit / repair name it."""
    parts = []
    for key, v in fix.items():
        if key == "lr":
            parts.append(_lr_words(v, params))
        elif key == "normalize":
            parts.append(_("standardise the inputs (mean 0, std 1 per feature)") if v
                         else _("feed the inputs unscaled"))
        elif key == "early_stopping":
            parts.append(_("stop early on the validation loss and keep the best weights "
                           "(EarlyStopping(restore_best_weights=True))") if v
                         else _("drop early stopping"))
        elif key == "hidden":
            parts.append(_hidden_words(v, params))
        elif key == "epochs":
            old = run_value(params, "epochs")
            parts.append((_("train longer: {v} epochs") if old is None or v > old
                          else _("train for {v} epochs")).format(v=v))
        elif key == "weight_decay" and not v:
            parts.append(_("no weight decay"))
        else:
            parts.append(_(_WORDS[key]).format(v=v))
    code = ", ".join(f"{k}={v!r}" for k, v in fix.items())
    return f"{_('; ').join(parts)} ({code})"
