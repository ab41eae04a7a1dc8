"""Read a training history the way a teacher would: did it diverge, overfit, underfit,
stop too early, or fit well? Every verdict comes with the numbers behind it and the
usual remedies (Dive into Deep Learning ch. 3.6-3.7, 5.5-5.6)."""
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Diagnosis", "diagnose", "REMEDIES"]

REMEDIES = {
    "learning rate too high": ["lower the learning rate (e.g. by 10x)",
                               "clip gradients (fit(..., clip_grad_norm=1.0))",
                               "normalise the inputs"],
    "diverged": ["lower the learning rate (e.g. by 10x)",
                 "clip gradients (fit(..., clip_grad_norm=1.0))",
                 "use a better initialisation (Xavier/He) and normalise the inputs",
                 "check the loss for log(0) / exp overflow (use CrossEntropyLoss on logits)"],
    "overfitting": ["add weight decay (optimizer weight_decay=...)",
                    "add dropout between hidden layers",
                    "use early stopping (EarlyStopping(restore_best_weights=True))",
                    "get more training data or augment it", "use a smaller model"],
    "underfitting": ["give the model more capacity (more hidden units / layers, a "
                     "non-linearity)", "train longer", "lower the regularisation (weight "
                     "decay, dropout)", "check the features: the inputs may not carry the signal"],
    "not converged": ["train longer (more epochs)", "raise the learning rate",
                      "use a better optimiser (Adam) or momentum"],
    "good fit": ["nothing urgent; evaluate once on the held-out test set"],
}


@dataclass
class Diagnosis:
    verdict: str
    reason: str
    evidence: dict = field(default_factory=dict)
    remedies: list = field(default_factory=list)

    def __str__(self):
        nums = ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items() if v is not None)
        lines = [f"Diagnosis: {self.verdict.upper()} - {self.reason}", f"  evidence: {nums}"]
        if self.remedies:
            lines.append("  try: " + "; ".join(self.remedies))
        return "\n".join(lines)

    def to_dict(self):
        return {"verdict": self.verdict, "reason": self.reason, "evidence": dict(self.evidence),
                "remedies": list(self.remedies)}


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _series(history, key):
    if history is None:
        return None
    h = history.history if hasattr(history, "history") else history
    if not hasattr(h, "get"):
        raise TypeError("diagnose needs a History (from fit), a dict of per-epoch lists "
                        "such as {'loss': [...]}, or the result of d2l.train_ch3; got "
                        f"{type(history).__name__}")
    vals = h.get(key)
    if vals is None or len(vals) == 0:
        return None
    return np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)


def _rel_slope(values, with_noise=False):
    """Least-squares slope of the values per epoch, relative to their mean level (and,
    with_noise, whether it stands out of the epoch-to-epoch noise: |slope| > 2 s.e.)."""
    y = values[np.isfinite(values)]
    if len(y) < 2:
        return (0.0, False) if with_noise else 0.0
    x = np.arange(len(y), dtype=np.float64)
    slope, icpt = np.polyfit(x, y, 1)
    scale = max(abs(float(np.mean(y))), 1e-12)
    rel = float(slope / scale)
    if not with_noise:
        return rel
    if len(y) < 3:
        return rel, True
    resid = y - (slope * x + icpt)
    se = math.sqrt(float(np.sum(resid ** 2)) / (len(y) - 2) / float(np.sum((x - x.mean()) ** 2)))
    return rel, abs(slope) > 2 * se


def _lr_too_high(loss, acc, initial_loss):
    """Evidence that the steps overshoot: the loss ends above where it started and the
    accuracy (when logged) learnt nothing - never better than its first epoch, which for
    an untrained classifier is chance. A model that lacks capacity still descends."""
    if len(loss) < 2 or acc is None or not np.isfinite(acc).all():
        return None
    start = float(loss[0])
    if initial_loss is not None and math.isfinite(initial_loss):
        start = min(start, float(initial_loss))
    if not loss[-1] > start or acc[-1] > acc[0] + 0.05:  # a few points of batch noise
        return None
    return {"first_loss": start, "first_accuracy": float(acc[0]),
            "final_accuracy": float(acc[-1])}


def diagnose(history, *, window=None, plateau_tol=0.01, overfit_rise=0.1, gap_ratio=2.0,
             underfit_ratio=0.5, initial_loss=None):
    """Diagnose a History (or a dict of per-epoch lists with 'loss' and maybe 'val_loss').

    Rules, in order (relative numbers, so they do not depend on the loss's scale):
    - diverged: a loss is NaN/Inf, or the final training loss is above its first value
      and 10x above its best;
    - learning rate too high: the training loss ends above its start while the logged
      'accuracy' stays where the untrained model had it (chance);
    - overfitting: validation loss rose more than `overfit_rise` (10%) above its minimum
      while training loss kept falling, or validation loss ends more than `gap_ratio`
      times the training loss (and clearly above it);
    - not converged: training loss still falls by more than `plateau_tol` (1%) of its
      level per epoch over the last `window` epochs (default: last third, >= 3), or
      falls steadily (in >= 80% of epochs) with no flattening (too small a learning rate);
    - underfitting: the curve is flat but the loss is still more than `underfit_ratio`
      of the loss of the untrained model (training learnt little), with train and
      validation close together;
    - good fit otherwise."""
    if history is None:  # what d2l.train_ch3 returns, as in the book
        raise TypeError("diagnose got None: d2l.train_ch3 returns None, as d2l's does; "
                        "diagnose(d2l.last_history()) reads the curves of its latest run")
    loss = _series(history, "loss")
    if loss is None:
        raise ValueError("diagnose needs a history with a 'loss' entry (one value per epoch)")
    val = _series(history, "val_loss")
    n = len(loss)
    if initial_loss is None:
        initial_loss = getattr(history, "initial_loss", None)
    ev = {"epochs": n}

    def verdict(v, reason):
        return Diagnosis(v, reason, ev, list(REMEDIES[v]))

    bad = [i for i in range(n) if not math.isfinite(loss[i])]
    vbad = [] if val is None else [i for i in range(len(val)) if np.isinf(val[i]) or
                                   (np.isnan(val[i]) and math.isfinite(loss[i]))]
    finite = loss[np.isfinite(loss)]
    ev["final_loss"] = float(loss[-1])
    if bad or vbad:
        first = (bad or vbad)[0]
        ev["first_bad_epoch"] = first + 1
        what = "training loss" if bad else "validation loss"
        return verdict("diverged", f"the {what} became NaN/Inf at epoch {first + 1}")
    best = float(finite.min())
    ev["best_loss"] = best
    if n >= 2 and loss[-1] > loss[0] and loss[-1] > 10 * max(best, 1e-12):
        ev["first_loss"] = float(loss[0])
        return verdict("diverged", f"training loss grew from {loss[0]:.4g} to {loss[-1]:.4g} "
                                   f"(best {best:.4g})")

    too_high = _lr_too_high(loss, _series(history, "accuracy"), initial_loss)
    if too_high:
        ev.update(too_high)
        return verdict("learning rate too high",
                       f"training loss ended at {loss[-1]:.4g}, above its start "
                       f"{too_high['first_loss']:.4g}, and accuracy stayed at chance "
                       f"({too_high['final_accuracy']:.3g}): the steps overshoot instead of "
                       "descending")

    w = window or max(3, n // 3)
    w = min(w, n)
    slope, significant = _rel_slope(loss[-w:], with_noise=True)
    ev["train_slope_last"] = slope
    ref = initial_loss if initial_loss is not None and math.isfinite(initial_loss) else float(loss[0])
    ev["initial_loss"] = ref

    if val is not None and np.isfinite(val).any():
        vbest_i = int(np.nanargmin(val))
        vbest, vlast = float(val[vbest_i]), float(val[-1])
        ev.update(best_val_epoch=vbest_i + 1, best_val_loss=vbest, final_val_loss=vlast,
                  gap=vlast - float(loss[-1]),
                  gap_ratio=vlast / max(float(loss[-1]), 1e-12))
        rise = (vlast - vbest) / max(abs(vbest), 1e-12)
        ev["val_rise"] = rise
        train_fell = loss[-1] < loss[min(vbest_i, n - 1)]
        if rise > overfit_rise and train_fell and vbest_i < len(val) - 1:
            return verdict("overfitting",
                           f"validation loss turned at epoch {vbest_i + 1} ({vbest:.4g}) and "
                           f"rose {rise:.0%} to {vlast:.4g} while training loss kept falling "
                           f"to {loss[-1]:.4g}")
        scale = max(ref, abs(vlast), 1e-12)
        if vlast > gap_ratio * float(loss[-1]) and (vlast - loss[-1]) / scale > 0.1:
            return verdict("overfitting",
                           f"validation loss {vlast:.4g} is {vlast / max(loss[-1], 1e-12):.3g}x "
                           f"the training loss {loss[-1]:.4g}: the model fits the training "
                           "rows much better than new ones")
    if slope < -plateau_tol and significant and n >= 2:
        return verdict("not converged",
                       f"training loss still falls {-slope:.1%} per epoch over the last {w} "
                       f"epochs ({loss[-w]:.4g} -> {loss[-1]:.4g})")
    # slow but steady: falling almost every epoch and not flattening (the last epochs
    # fall at least half as fast as the run's average): a learning rate too small
    if n >= 3:
        slope_all = _rel_slope(loss)
        falling = float(np.mean(np.diff(loss) < 0))
        ev["train_slope_all"], ev["epochs_falling"] = slope_all, falling
        if slope_all < 0 and falling >= 0.8 and slope <= 0.5 * slope_all:
            return verdict("not converged",
                           f"training loss falls slowly but steadily ({-slope:.2%} per epoch, "
                           f"in {falling:.0%} of the epochs) without flattening: training "
                           "stopped long before the minimum")
    learnt = float(loss[-1]) / max(ref, 1e-12)
    ev["loss_vs_initial"] = learnt
    if learnt > underfit_ratio:
        return verdict("underfitting",
                       f"training loss has flattened at {loss[-1]:.4g}, still "
                       f"{learnt:.0%} of the untrained model's {ref:.4g}: the model cannot "
                       "fit even the training data")
    return verdict("good fit", f"training loss flattened at {loss[-1]:.4g} "
                   f"({learnt:.1%} of the untrained model's)"
                   + ("" if val is None else f"; validation loss {val[-1]:.4g} is not rising "
                      f"and the gap to training is {abs(ev['gap']) / max(ref, 1e-12):.1%} of the "
                      "initial loss"))
