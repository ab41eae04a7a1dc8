"""The diagnosis as a table of rules, tried in order: each rule is a small function that
reads a RunFacts and returns None or a Finding (why, the numbers behind it, candidate
fixes). Earlier rules name causes, later ones symptoms: unscaled inputs or a bad
initialisation explain a divergence, so they are tried before it."""
import math
from dataclasses import dataclass, field

import numpy as np

from ..runtime.i18n import N_, _
from .evidence import rel_slope, trend
from .fixes import higher, lower

__all__ = ["Finding", "RULES", "MIN_EPOCHS"]

MIN_EPOCHS = 3
STALLED = 0.5        # final training loss above this share of learning nothing: stalled
UNDERFIT = 0.3       # ... above this share, flat and close to validation: underfitting
INPUT_RMS = (0.01, 5.0)  # inputs outside this root-mean-square range are not normalised
RATIO = 100.0        # gradient ratio first/last layer beyond which gradients explode
VANISH = 1e-3        # ... below which they vanish
DEAD = 0.6           # share of ReLU units that never fire
WILD = 5.0           # weights moving several times their own size in an epoch
FROZEN = 0.01        # ... less than 1 % of it: the learning rate is too small to matter
JITTER = 0.2         # ... a fifth of it per epoch late in a run that got somewhere: bouncing


@dataclass
class Finding:
    reason: str
    evidence: dict = field(default_factory=dict)
    fixes: list = field(default_factory=list)


def _lr_down(f, factor=10.0):
    return [{"lr": lower(f.lr, factor)}] if f.lr else []


def _init_for(f):
    return "kaiming" if f.params.get("activation", "relu") == "relu" else "xavier"


# ---- causes ---------------------------------------------------------------------------------
def too_few_epochs(f):
    if f.n >= MIN_EPOCHS or f.first_bad_epoch() is not None:
        return None
    return Finding(_("only {n} epoch(s): too few to read a learning curve (at least "
                     "{needed} are needed)").format(n=f.n, needed=MIN_EPOCHS), {"epochs": f.n},
                   [{"epochs": max(10, 10 * f.n)}])


def inputs_not_normalised(f):
    rms = f.input_rms
    if rms is None or INPUT_RMS[0] <= rms <= INPUT_RMS[1]:
        return None
    return Finding(_("the inputs' root-mean-square is {rms:.3g} where about 1 is expected: "
                     "on unscaled inputs one learning rate is too large for some weights and "
                     "too small for others").format(rms=rms), {"input_rms": rms, "loss_vs_baseline": f.learnt},
                   [{"normalize": True}] + _lr_down(f))


def exploding_gradients(f):
    ratios = [r for r in (f.grad_ratio("bias"), f.grad_ratio("weight")) if r is not None]
    if len(f.layers) < 3 or not ratios or max(ratios) <= RATIO:
        return None
    return Finding(_("on the untrained model the first layer's gradient is {ratio:.3g}x "
                     "the last layer's: the signal grows through the layers (too large an "
                     "initialisation)").format(ratio=max(ratios)), {"grad_ratio_first_last": max(ratios),
                                       "layers": len(f.layers)},
                   [{"init": _init_for(f)}, {"clip_grad_norm": 1.0}] + _lr_down(f))


def vanishing_gradients(f):
    ratios = [r for r in (f.grad_ratio("weight"), f.grad_ratio("bias")) if r is not None]
    if len(f.layers) < 3 or not ratios or min(ratios) >= VANISH or not f.stalled():
        return None
    if (f.dead_relu or 0.0) >= DEAD:  # units that never fire pass no gradient back
        return None
    return Finding(_("on the untrained model the first layer's gradient is {ratio:.2g} "
                     "of the last layer's and the loss stayed near the level of learning "
                     "nothing: the early layers do not learn").format(ratio=min(ratios)),
                   {"grad_ratio_first_last": min(ratios), "loss_vs_baseline": f.learnt},
                   [{"activation": "relu", "init": "kaiming"}, {"init": "xavier"},
                    {"optimizer": "adam", "lr": 0.001}])


def dead_relus(f):
    dead = f.dead_relu
    if dead is None or dead < DEAD or not f.stalled():
        return None
    return Finding(_("{dead:.0%} of the ReLU units never fire on the training rows: their "
                     "gradients are zero, so they cannot recover").format(dead=dead),
                   {"dead_relu_share": dead, "loss_vs_baseline": f.learnt},
                   [{"init": "kaiming"}, {"activation": "tanh"}] + _lr_down(f))


# ---- how training went ----------------------------------------------------------------------
def diverged(f):
    bad = f.first_bad_epoch()
    loss = f.loss
    fixes = _lr_down(f) + [{"clip_grad_norm": 1.0}]
    if bad is not None:
        why = (_("the training loss became NaN/Inf at epoch {epoch}") if bad[1] == "training"
               else _("the validation loss became NaN/Inf at epoch {epoch}"))
        return Finding(why.format(epoch=bad[0]),
                       {"first_bad_epoch": bad[0]}, fixes)
    best = float(np.min(loss))
    if f.n >= 2 and loss[-1] > loss[0] and loss[-1] > 10 * max(best, 1e-12):
        return Finding(_("training loss grew from {first:.4g} to {last:.4g} (best "
                         "{best:.4g})").format(first=loss[0], last=loss[-1], best=best),
                       {"first_loss": float(loss[0]), "best_loss": best}, fixes)
    return None


def _memorising_after_recovery(f):
    """Training loss ended under a quarter of learning nothing while the validation loss
    rose steadily (beyond noise, by over a tenth of a constant prediction's loss) for
    several epochs after its best."""
    if f.val is None or f.learnt > 0.25 or not np.isfinite(f.val).all():
        return False
    after = f.val[int(np.argmin(f.val)):]
    if len(after) < 2 * MIN_EPOCHS:
        return False
    rise, t = trend(after, f.val_baseline)
    return rise > 0.1 and t > 2


def learning_rate_too_high(f):
    start = f.initial_loss
    # a first epoch that overshot is no verdict on a run that then fit its training
    # rows and went on to memorise them: that is overfitting
    blow_up = (start is not None and float(f.loss[0]) > 3 * start
               and not _memorising_after_recovery(f))
    change = f.max_weight_change
    wild = change is not None and change > WILD
    stuck_acc = (f.accuracy is not None and np.isfinite(f.accuracy).all() and f.n >= 2
                 and f.accuracy[-1] <= f.accuracy[0] + 0.05 and f.final > float(f.loss[0]))
    # settled runs move their weights a few percent per epoch; this one keeps jumping
    late = f.late_weight_change
    jitter = late is not None and late > JITTER and not f.stalled()
    if not ((blow_up or wild) and not f.healthy() or stuck_acc or jitter):
        return None
    if blow_up:
        why = _("the first epoch's loss {first:.4g} is {times:.3g}x the untrained model's "
                "{start:.4g}").format(first=f.loss[0], times=f.loss[0] / start, start=start)
    elif wild and not f.healthy():
        why = _("in one epoch the weights changed by {change:.3g}x their own size").format(
            change=change)
    elif jitter:
        why = _("in the second half of the run the weights still change by {late:.0%} of "
                "their size per epoch").format(late=late)
    else:
        why = _("training loss ended at {final:.4g}, above its first epoch's {first:.4g}, "
                "and accuracy stayed where it started").format(final=f.final, first=f.loss[0])
    # the further the first epoch overshot, the larger the cut
    factor = 100.0 if blow_up and f.loss[0] > 20 * start else 10.0
    return Finding(_("{why}: the steps overshoot instead of descending").format(why=why),
                   {"first_loss": float(f.loss[0]), "initial_loss": start,
                    "max_weight_change": change, "late_weight_change": late,
                    "loss_vs_baseline": f.learnt},
                   _lr_down(f, factor) + [{"clip_grad_norm": 1.0}])


def nothing_to_learn(f):
    if f.val is None or not f.baseline_known or not np.isfinite(f.val).any():
        return None
    best_val, vb = float(np.nanmin(f.val)), f.val_baseline
    memorised = best_val - f.final > 0.2 * vb
    if best_val < 0.9 * vb or float(f.val[0]) > 2 * vb or not (memorised or _diverging(f)):
        return None
    return Finding(_("validation loss never beat {best:.0%} of a constant prediction's "
                     "({constant:.4g}) while the training loss fell to {learnt:.0%} of it: "
                     "the model memorises rows whose labels the inputs do not predict (check "
                     "the labels and the features)").format(best=best_val / vb, constant=vb,
                                                            learnt=f.learnt),
                   {"best_val_vs_baseline": best_val / vb, "loss_vs_baseline": f.learnt},
                   _regularise(f, stop_first=True))


def _diverging(f):
    """Whether, after the first epoch, the training loss falls (by 1 % of learning nothing
    or more) while the validation loss rises, both beyond the epoch-to-epoch noise: what
    the model picks up from the training rows makes new rows worse. A model too small
    for learnable data moves both curves the same way."""
    if f.n < 2 * MIN_EPOCHS:
        return False
    fall, t_train = trend(f.loss[1:], f.baseline)
    rise, t_val = trend(f.val[1:], f.val_baseline)
    return fall < -0.01 and t_train < -2 and rise > 0 and t_val > 2


def _regularise(f, stop_first=False):
    """Fixes against memorising: a penalty, dropout, early stopping, a smaller model."""
    wd = f.params.get("weight_decay") or 0.0
    hidden = f.params.get("hidden") or []
    fixes = [{"weight_decay": higher(wd) if wd else 1e-2}]
    if hidden:
        fixes.append({"dropout": 0.5 if (f.params.get("dropout") or 0) < 0.5 else 0.7})
        fixes.append({"hidden": [max(1, h // 4) for h in hidden]})
    fixes.insert(0 if stop_first else len(fixes), {"early_stopping": True})
    return fixes


def _rise_stands_out(after_best, scale):
    """Whether the validation loss after its best epoch rises beyond its epoch-to-epoch
    noise (a least-squares trend over 2 standard errors); with too few epochs after the
    best to tell, the rise is taken as it is."""
    if len(after_best) < 2 * MIN_EPOCHS:
        return True
    return trend(after_best, scale)[1] > 2


def overfitting(f):
    if f.val is None or not np.isfinite(f.val).any():
        return None
    val, loss, scale = f.val, f.loss, max(f.val_baseline, 1e-12)
    best_i = int(np.nanargmin(val))
    best, last = float(val[best_i]), float(val[-1])
    rise, gap = (last - best) / max(abs(best), 1e-12), last - float(loss[-1])
    ev = {"best_val_epoch": best_i + 1, "best_val_loss": best, "final_val_loss": last,
          "val_rise": rise, "gap_vs_baseline": gap / scale}
    if (rise > 0.1 and (last - best) / scale > 0.05 and loss[-1] < loss[best_i]
            and _rise_stands_out(val[best_i:], scale)):
        # a validation curve that turned: stopping at its best is the surest gain
        return Finding(_("validation loss turned at epoch {epoch} ({best:.4g}) and rose "
                         "{rise:.0%} to {last:.4g} while training loss kept falling to "
                         "{train:.4g}").format(epoch=best_i + 1, best=best, rise=rise,
                                               last=last, train=loss[-1]),
                       ev, _regularise(f, stop_first=True))
    if last > 2 * float(loss[-1]) and gap / scale > 0.1:
        # a linear model: weight decay (d2l 3.7); a network: stop at the best epoch
        return Finding(_("validation loss {last:.4g} is {times:.3g}x the training loss "
                         "{train:.4g}: the model fits the training rows much better than new "
                         "ones").format(last=last, times=last / max(loss[-1], 1e-12),
                                        train=loss[-1]), ev,
                       _regularise(f, stop_first=bool(f.params.get("hidden"))))
    return None


def _still_falling(f):
    """(relative slope, window) when the training loss still falls at the end of the
    run: by more than 1 % of the loss of learning nothing per epoch, steadily, or by
    less but without slowing down (see _undecelerated)."""
    w = min(max(MIN_EPOCHS, f.n // 3), f.n)
    tail = f.loss[-w:]
    per_epoch = (float(tail[0]) - float(tail[-1])) / (w - 1) / max(f.baseline, 1e-12)
    if w < 2:
        return None
    if per_epoch < 0.01:
        return (rel_slope(tail)[0], w) if _undecelerated(f, w) else None
    slope, significant = rel_slope(tail)
    if slope < -0.01 and significant:
        return slope, w
    slope_all = rel_slope(f.loss)[0]
    falling = float(np.mean(np.diff(f.loss) < 0))
    if slope_all < 0 and falling >= 0.8 and slope <= 0.5 * slope_all:
        return slope, w
    return None


def _undecelerated(f, w):
    """Whether the loss falls in nearly every epoch of the last `w` and, per epoch, at
    least half as fast as over the first `w` after the first epoch: a loss approaching
    the best the model can do slows down, one held back by a tiny step does not."""
    if f.n < 3 * w or not np.isfinite(f.loss).all():
        return False
    head, tail = f.loss[1:1 + w], f.loss[-w:]
    fall_head, fall_tail = float(head[0] - head[-1]), float(tail[0] - tail[-1])
    steady = float(np.mean(np.diff(tail) < 0)) >= 0.8 and trend(tail, f.baseline)[1] < -2
    return steady and fall_head > 0 and fall_tail >= 0.5 * fall_head


def not_converged(f):
    falling, change = _still_falling(f), f.weight_change
    frozen = change is not None and change < FROZEN and f.stalled()
    if falling is None and not frozen:
        return None
    if frozen:
        reason = _("the weights move only {change:.2%} of their size per epoch and the loss "
                   "is still {learnt:.0%} of learning nothing: the learning rate is too "
                   "small").format(change=change, learnt=f.learnt)
        fixes = ([{"lr": higher(f.lr)}] if f.lr else []) + [{"optimizer": "adam", "lr": 0.001},
                                                            {"epochs": 3 * f.n}]
    else:
        slope, w = falling
        reason = _("training loss still falls {slope:.1%} per epoch over the last {w} epochs "
                   "({start:.4g} -> {final:.4g})").format(slope=-slope, w=w, start=f.loss[-w],
                                                          final=f.final)
        fixes = [{"epochs": 3 * f.n}] + ([{"lr": higher(f.lr, 3)}] if f.lr else [])
        if f.stalled() and f.lr:  # far from fitting after all these epochs: the rate
            fixes = [{"lr": higher(f.lr)}, {"epochs": 3 * f.n}]
    return Finding(reason, {"train_slope_last": falling[0] if falling else None,
                            "weight_change_per_epoch": change, "loss_vs_baseline": f.learnt},
                   fixes)


def underfitting(f):
    if f.learnt <= UNDERFIT:
        return None
    hidden = f.params.get("hidden") or []
    wider = [max(64, 4 * h) for h in hidden] if hidden else [64]
    fixes = [{"hidden": wider}, {"epochs": 3 * f.n}]
    if f.params.get("weight_decay"):
        fixes.insert(1, {"weight_decay": 0.0})
    if f.params.get("dropout"):
        fixes.insert(1, {"dropout": 0.0})
    return Finding(_("training loss has flattened at {final:.4g}, still {learnt:.0%} of "
                     "the loss of learning nothing ({baseline:.4g}): the model cannot fit "
                     "even the training rows").format(final=f.final, learnt=f.learnt,
                                                      baseline=f.baseline), {"loss_vs_baseline": f.learnt}, fixes)


def good_fit(f):
    text = _("training loss flattened at {final:.4g} ({learnt:.1%} of learning "
             "nothing)").format(final=f.final, learnt=f.learnt)
    if f.val is not None:
        text += _("; validation loss {val:.4g} is not rising away from it").format(
            val=f.val[-1])
    return Finding(text, {"loss_vs_baseline": f.learnt}, [])


RULES = [(N_("too few epochs"), too_few_epochs),
         (N_("inputs not normalised"), inputs_not_normalised),
         (N_("exploding gradients"), exploding_gradients),
         (N_("vanishing gradients"), vanishing_gradients), (N_("diverged"), diverged),
         (N_("learning rate too high"), learning_rate_too_high), (N_("dead ReLUs"), dead_relus),
         (N_("nothing to learn"), nothing_to_learn), (N_("overfitting"), overfitting),
         (N_("not converged"), not_converged), (N_("underfitting"), underfitting),
         (N_("good fit"), good_fit)]
