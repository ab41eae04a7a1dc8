"""repair: AutoTrainer's loop on chainrule's diagnosis. Train, diagnose, apply the top
fix the run has not tried, train again from scratch, keep the change when the validation
metric improved; report every round (verdict, change, metric before and after)."""
import functools
import inspect
from dataclasses import dataclass, field

import numpy as np

from . import data as _data
from .fixes import FIX_KEYS, describe_fix
from .standardize import standardise

__all__ = ["repair", "RepairResult", "RepairRound", "train_with"]

MODEL_KEYS = ("hidden", "activation", "dropout", "init")
# fit's own settings that repair takes over (the others pass through as they are)
_TAKEN = ("lr", "learning_rate", "optimizer", "epochs", "batch_size", "clip_grad_norm",
          "weight_decay", "momentum", "val", "validation_split", "settings")


@dataclass
class RepairRound:
    round: int
    verdict: str
    fix: dict
    metric: str
    before: object  # a number, or (accuracy, loss) for classification
    after: object
    kept: bool

    def __str__(self):
        change = describe_fix(self.fix) if self.fix else "no fix to try"
        tail = "" if self.fix is None else (f": {self.metric} {show_score(self.before)} -> "
                                            f"{show_score(self.after)} "
                                            f"({'kept' if self.kept else 'undone'})")
        return f"round {self.round}: {self.verdict}; {change}{tail}"


def show_score(score):
    if isinstance(score, tuple):
        return f"{score[0]:.4g} (loss {score[1]:.4g})"
    return f"{score:.4g}"


@dataclass
class RepairResult:
    rounds: list
    settings: dict
    model: object
    history: object
    metric: str
    initial: float
    final: float
    diagnosis: object = None
    notes: list = field(default_factory=list)

    @property
    def improved(self):
        return _better(self.metric, self.final, self.initial)

    def __str__(self):
        lines = [str(r) for r in self.rounds] or ["no round: the first run needs no fix"]
        lines.append(f"{self.metric}: {show_score(self.initial)} -> {show_score(self.final)}; settings "
                     f"{ {k: v for k, v in self.settings.items() if v is not None} }")
        return "\n".join(self.notes + lines)


def _better(metric, new, old):
    """Whether the score `new` beats `old`: a value, or (value, validation loss) where
    the loss breaks ties of accuracy; NaN loses to everything."""
    new, old = (tuple(x) if isinstance(x, tuple) else (x,) for x in (new, old))
    for i, (a, b) in enumerate(zip(new, old)):
        if np.isnan(a) or np.isnan(b):
            return not np.isnan(a) and np.isnan(b)
        higher = "accuracy" in metric and i == 0
        if a != b:
            return a > b if higher else a < b
    return False


# ---- settings -> a model and fit's arguments ----------------------------------------------
def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _default_of(fn, name):
    try:
        p = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if p is None or p.default is inspect.Parameter.empty else p.default


def initial_settings(build_model, fit_kwargs):
    """The run's settings by fix key, from fit's arguments and build_model's defaults."""
    kw = fit_kwargs
    opt = kw.get("optimizer", "sgd")
    name = opt.lower() if isinstance(opt, str) else getattr(opt, "__name__", "").lower()
    cbs = [type(c).__name__ for c in kw.get("callbacks", ())]
    settings = {"optimizer": name, "lr": kw.get("lr", kw.get("learning_rate")),
                "epochs": kw.get("epochs", 10), "batch_size": kw.get("batch_size", 32),
                "weight_decay": kw.get("weight_decay", 0.0),
                "clip_grad_norm": kw.get("clip_grad_norm"), "normalize": False,
                "early_stopping": "EarlyStopping" in cbs}
    for key in MODEL_KEYS:
        if _accepts(build_model, key):
            settings[key] = _default_of(build_model, key)
    settings.update(kw.get("settings") or {})
    return settings


def _optimizer(settings, fit_kwargs):
    from .. import optim
    from .names import OPTIMIZERS
    name = settings["optimizer"]
    if name not in OPTIMIZERS:
        raise ValueError(f"repair: optimizer must be given by name ({', '.join(OPTIMIZERS)}) so "
                         f"a fix can change it; got {fit_kwargs.get('optimizer')!r}")
    extra = {"weight_decay": float(settings.get("weight_decay") or 0.0)}
    if settings.get("lr") is not None:
        extra["lr"] = float(settings["lr"])
    if name == "sgd" and fit_kwargs.get("momentum"):
        extra["momentum"] = float(fit_kwargs["momentum"])
    return functools.partial(getattr(optim, OPTIMIZERS[name]), **extra)


def _build(build_model, settings):
    from .model_edits import apply_activation, apply_init
    kwargs = {k: settings[k] for k in MODEL_KEYS
              if settings.get(k) is not None and _accepts(build_model, k)}
    model = build_model(**kwargs)
    if settings.get("init") is not None and "init" not in kwargs:
        apply_init(model, settings["init"], settings.get("activation") or "relu")
    if settings.get("activation") is not None and "activation" not in kwargs:
        apply_activation(model, settings["activation"])
    return model


def train_with(build_model, train, val, settings, fit_kwargs):
    """A fresh model built and trained under `settings`: (model, history, the validation
    rows as the model sees them)."""
    from .callbacks import EarlyStopping
    from .fit import fit
    if settings.get("normalize"):
        train, val = standardise(train, val)
    model = _build(build_model, settings)
    callbacks = list(fit_kwargs.get("callbacks", ()))
    if settings.get("early_stopping") and not any(isinstance(c, EarlyStopping) for c in callbacks):
        patience = max(3, int(settings["epochs"]) // 10)
        callbacks.append(EarlyStopping(monitor="val_loss", patience=patience,
                                       restore_best_weights=True))
    kwargs = {k: v for k, v in fit_kwargs.items() if k not in _TAKEN}
    kwargs.update(callbacks=callbacks, progress=fit_kwargs.get("progress", False))
    known = {k: settings.get(k) for k in ("init", "normalize") if settings.get(k) is not None}
    # a DataLoader brings its own batch size
    batch_size = None if _data.is_loader(train) else int(settings["batch_size"])
    with np.errstate(over="ignore", invalid="ignore"):  # trying bad settings is the point
        history = fit(model, train, val, optimizer=_optimizer(settings, fit_kwargs),
                      epochs=int(settings["epochs"]), batch_size=batch_size,
                      clip_grad_norm=settings.get("clip_grad_norm"), settings=known, **kwargs)
    return model, history, val


def _split(data, fit_kwargs):
    loader = _data.is_loader(data)
    if not (loader or isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError("repair: data must be (X, y) arrays or tensors, or a DataLoader of "
                        f"(inputs, targets) batches; got {type(data).__name__}")
    if loader and fit_kwargs.get("val") is None:
        raise TypeError("repair: a DataLoader as data needs val= (validation rows as (X, y) "
                        "or a DataLoader): its rows are shuffled, so none are split off")
    if loader:
        return data, fit_kwargs["val"], None
    if fit_kwargs.get("val") is not None:
        return tuple(data), tuple(fit_kwargs["val"]), None
    fraction = fit_kwargs.get("validation_split") or 0.2
    n = len(_data.as_tensor(data[0]))
    cut = int(np.ceil(n * (1 - fraction)))
    note = (None if fit_kwargs.get("validation_split") else
            f"repair: no val= or validation_split= given; the last {fraction:.0%} of the rows "
            "validate each round")
    return (data[0][:cut], data[1][:cut]), (data[0][cut:], data[1][cut:]), note


def _score(model, history, val, fit_kwargs):
    """(metric name, (value, validation loss)) of the trained model on the (possibly
    standardised) validation rows: accuracy when fit logged it, ties broken by the
    loss; the loss alone otherwise."""
    from .fit import evaluate
    from .names import resolve_loss
    metrics = history.params.get("metrics") or []
    name = "val_accuracy" if "accuracy" in metrics else "val_loss"
    loss = resolve_loss(fit_kwargs["loss"])
    with np.errstate(all="ignore"):
        logs = evaluate(model, val, loss=loss, metrics=["accuracy"] if "accuracy" in metrics else ())
    clean = [float(v) if np.isfinite(v) else float("nan")
             for v in (logs.get(name[4:], float("nan")), logs.get("loss", float("nan")))]
    return name, tuple(clean) if name == "val_accuracy" else clean[0]


def _applicable(fix, build_model, train):
    for key in fix:
        if key in ("hidden", "dropout") and not _accepts(build_model, key):
            return False
        if key == "batch_size" and _data.is_loader(train):  # the DataLoader's own
            return False
    return True


def repair(build_model, data, fit_kwargs=None, rounds=3, *, verbose=False):
    """Train `build_model()` on `data` ((X, y), or a DataLoader with val=) with `fit_kwargs` (fit's arguments; the
    optimizer by name, weight_decay and momentum accepted here for it; val= or
    validation_split= for the rows that judge each round), then up to `rounds` times:
    diagnose, apply the top fix not yet tried, train a fresh model, and keep the change
    only if the validation metric (accuracy when logged, else loss) improved.
    build_model may take hidden / activation / dropout / init keywords; init and
    activation fixes are applied to the built model otherwise. Returns a RepairResult."""
    from .diagnosis import diagnose
    fit_kwargs = dict(fit_kwargs or {})
    if "loss" not in fit_kwargs:
        raise TypeError("repair: fit_kwargs needs loss= (and optimizer= by name)")
    unknown = set(fit_kwargs.get("settings") or {}) - set(FIX_KEYS)
    if unknown:
        raise ValueError(f"repair: settings keys must be among {FIX_KEYS}; got {sorted(unknown)}")
    train, val, note = _split(data, fit_kwargs)
    settings = initial_settings(build_model, fit_kwargs)
    if _data.is_loader(train):
        settings["batch_size"] = train.batch_size
    model, history, seen_val = train_with(build_model, train, val, settings, fit_kwargs)
    metric, score = _score(model, history, seen_val, fit_kwargs)
    result = RepairResult([], dict(settings), model, history, metric, score, score,
                          notes=[note] if note else [])
    tried = []
    for r in range(1, rounds + 1):
        d = result.diagnosis = diagnose(history)
        if d.verdict == "good fit":
            break
        fix = next((f for f in d.fixes if f not in tried and _applicable(f, build_model, train)),
                   None)
        if fix is None:
            result.rounds.append(RepairRound(r, d.verdict, None, metric, score, score, False))
            break
        tried.append(fix)
        trial = dict(settings, **fix)
        new_model, new_history, new_val = train_with(build_model, train, val, trial, fit_kwargs)
        _, new_score = _score(new_model, new_history, new_val, fit_kwargs)
        kept = _better(metric, new_score, score)
        result.rounds.append(RepairRound(r, d.verdict, fix, metric, score, new_score, kept))
        if verbose:
            print(result.rounds[-1], flush=True)
        if kept:
            settings, model, history, score = trial, new_model, new_history, new_score
    result.settings, result.model, result.history, result.final = settings, model, history, score
    return result
