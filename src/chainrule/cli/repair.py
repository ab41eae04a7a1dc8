"""`chainrule train --repair [ROUNDS]`: AutoTrainer's loop on the command line. After the
run, take the diagnosis's top fix that has flags, train a new run with it
(<name>-repair1, -repair2, ...), keep the change when the validation metric improved,
and say for each round the verdict, the change and the metric before and after."""
import argparse
import math

from ..runtime.i18n import _
from . import runs
from ._common import say
from .fix_flags import fix_as_flags

# fix key -> the setting it changes in the command line's config
_CONFIG_KEYS = {"clip_grad_norm": "clip_grad"}


def apply_fix(cfg, fix):
    """The config with a fix applied (early stopping: patience 10 on 10 % held out)."""
    cfg = dict(cfg)
    for key, value in fix.items():
        if key == "early_stopping":
            cfg["patience"] = 10 if value else 0
            cfg["val_split"] = cfg["val_split"] or 0.1
        elif key == "hidden":
            cfg["hidden"] = list(value)
            if value and cfg["model"] != "mlp":
                cfg["model"] = "mlp"
        else:
            cfg[_CONFIG_KEYS.get(key, key)] = value
    return cfg


def validation_score(run_dir):
    """(metric, value, higher is better) of the weights a run kept: the best epoch's
    under early stopping, else the last."""
    history = run_dir.read_json(runs.HISTORY_JSON)
    values = history["history"]
    losses = [float(v) for v in values.get("val_loss", [])]
    if not losses:
        return None
    stopped = "EarlyStopping" in (history.get("params") or {}).get("callbacks", [])
    finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
    i = min(finite, key=lambda j: losses[j]) if stopped and finite else len(losses) - 1
    if "val_accuracy" in values:
        return "val_accuracy", float(values["val_accuracy"][i]), True
    return "val_loss", losses[i], False


def _better(new, old):
    if new is None or not math.isfinite(new[1]):
        return False
    if old is None or not math.isfinite(old[1]):
        return True
    return new[1] > old[1] if new[2] else new[1] < old[1]


def _next_fix(diagnosis, cfg, tried):
    for fix in (diagnosis or {}).get("fixes", []):
        flags = fix_as_flags(fix, cfg)
        if flags and fix not in tried:
            return fix, flags
    return None, None


def repair_runs(args, cfg, data, run_dir, rounds):
    """Up to `rounds` repair rounds after the run in run_dir; returns 0."""
    from .train import train_into
    quiet_args = argparse.Namespace(**dict(vars(args), quiet=True))
    best_dir, best_cfg, tried, kept_flags = run_dir, cfg, [], []
    score = validation_score(run_dir)
    diagnosis = run_dir.read_json(runs.METRICS).get("diagnosis")
    if score is None:
        say(_("repair: needs validation rows (--val-split > 0) to judge a change"), False)
        return 0
    for r in range(1, rounds + 1):
        verdict = (diagnosis or {}).get("verdict")
        if verdict in (None, "good fit"):
            say(_("repair: {verdict}: nothing to repair").format(
                verdict=_(verdict) if verdict else _("no diagnosis")), False)
            break
        fix, flags = _next_fix(diagnosis, best_cfg, tried)
        if fix is None:
            say(_("repair round {r}: {verdict}; no fix left that flags can express").format(
                r=r, verdict=_(verdict)), False)
            break
        tried.append(fix)
        trial_cfg = apply_fix(best_cfg, fix)
        say(_("repair round {r}: {verdict}; trying {flags}").format(
            r=r, verdict=_(verdict), flags=" ".join(flags)), False)
        trial_dir = runs.prepare_new(args.out, f"{_base(run_dir)}-repair{r}", args.overwrite)
        train_into(trial_dir, trial_cfg, data, quiet_args, resume=False)
        runs.finish_new(trial_dir, succeeded=True)
        new = validation_score(trial_dir)
        kept = _better(new, score)
        say((_("repair round {r}: {metric} {before:.4f} -> {after:.4f} (kept)") if kept else
             _("repair round {r}: {metric} {before:.4f} -> {after:.4f} (undone)")).format(
                 r=r, metric=score[0], before=score[1], after=new[1]), False)
        if kept:
            best_dir, best_cfg, score = trial_dir, trial_cfg, new
            kept_flags += flags
            diagnosis = trial_dir.read_json(runs.METRICS).get("diagnosis")
    change = " ".join(kept_flags) if kept_flags else _("no change")
    print(_("repair: best run {path} ({metric} {score:.4f}; {change})").format(
        path=best_dir.path, metric=score[0], score=score[1], change=change), flush=True)
    return 0


def _base(run_dir):
    import os
    return os.path.basename(run_dir.path)
