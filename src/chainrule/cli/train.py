"""`chainrule train`: train a model on a data set, show the progress, diagnose the
learning curves, score the test rows and leave everything in a run folder."""
import os
import sys

import numpy as np

from ..runtime.i18n import _
from . import config as config_mod
from . import data_sources, models, mpi, runs
from ._common import (CLIError, HelpFormatter, fmt_int, mark_resumable, say, shown_value,
                      wrap)
from .fix_flags import flag_line, run_settings
from .resume import (apply_on_resume, check_checkpoint, check_epochs_on_resume,
                     refuse_changes_on_resume, resume_folder)

EPILOG = """examples:
  chainrule train                                   MLP on the built-in digits
  chainrule train --dataset fashion-mnist --epochs 10 --hidden 256 --dropout 0.2
  chainrule train --dataset synthetic-linear --optimizer sgd --lr 0.03
  chainrule train --model lenet --epochs 10          d2l's LeNet on the digits
  chainrule train --model resnet --dataset fashion-mnist --epochs 5 --compile
  chainrule train --dataset house.csv --target SalePrice --drop Id --weight-decay 1e-4
  chainrule train --kfold 5 --epochs 20            5-fold cross-validation
  chainrule train --name exp1 --config settings.toml --lr 0.01
  chainrule train --resume runs/exp1                continue an interrupted run

A TOML file for --config holds the same settings, named like the flags:
  dataset = "digits"
  hidden = [256, 128]
  lr = 0.001
Flags given on the command line win over the file."""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="train a model and write a run folder", epilog=EPILOG,
        formatter_class=HelpFormatter,
        description=wrap("Train a linear model, softmax regression, an MLP, LeNet or a small "
                    "ResNet. Prints one line "
                    "per epoch, a diagnosis of the learning curves (overfitting, "
                    "underfitting, divergence ...) and the test score, and writes "
                    "runs/<name>/ with the config, history, curves, weights and a checkpoint."))
    for key, conv, default, metavar, help_text in config_mod.OPTIONS:
        if conv is None:
            continue
        shown = f" (default: {shown_value(default)})" if default not in (None, []) else ""
        p.add_argument("--" + key.replace("_", "-"), dest=key, type=conv, default=None,
                       metavar=metavar, help=help_text + shown)
    p.add_argument("--no-download", dest="download", action="store_false", default=None,
                   help="never download: fail if fashion-mnist / mnist are not on disk")
    p.add_argument("--compile", dest="compile", action="store_true", default=None,
                   help="run each training step as one chainrule.compile'd function "
                   "(the same numbers, faster for small models)")
    p.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file")
    p.add_argument("--out", metavar="DIR", default="runs",
                   help="folder that holds the run folders (default: runs)")
    p.add_argument("--name", metavar="NAME", help="run folder name (default: date-time)")
    p.add_argument("--resume", nargs="?", const=True, default=None, metavar="RUN",
                   help="continue the run RUN (or --out/--name) from its last checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing run folder of the same name")
    p.add_argument("--quiet", action="store_true", help="print only the final results")
    p.add_argument("--repair", nargs="?", const=3, type=config_mod.positive_int, default=None,
                   metavar="ROUNDS", help="after the run, apply the diagnosis's top fix and "
                   "train again, keeping changes that improve the validation metric, up to "
                   "ROUNDS times (default 3); each round is a run <name>-repairN")
    p.set_defaults(run=run)
    return p


# ---- settings --------------------------------------------------------------------------
def settings(args):
    """(config dict, Run to resume or None)."""
    given = {k: getattr(args, k, None) for k in config_mod.OPTION_NAMES}
    stored, resume_run = {}, None
    if args.resume is not None:
        if args.overwrite:
            raise CLIError(_("--resume and --overwrite contradict each other; use one"))
        resume_run = runs.open_run(resume_folder(args))
        if not resume_run.has_checkpoint():
            raise CLIError(_("{path} has no checkpoint to resume from; start a new run "
                             "instead (without --resume)").format(path=resume_run.path))
        stored = {k: v for k, v in resume_run.config().items() if k in config_mod.CONVERTERS}
        stored = config_mod.absolute_paths(stored)
    from_file = config_mod.read_toml(args.config) if args.config else {}
    cfg = config_mod.merge(config_mod.defaults(), stored, config_mod.absolute_paths(from_file),
                           config_mod.absolute_paths(given))
    if resume_run is not None:
        refuse_changes_on_resume(config_mod.merge(config_mod.defaults(), stored), cfg)
    return cfg, resume_run


# ---- training pieces ------------------------------------------------------------------
def l1_callback(strength):
    """Adds the L1 subgradient strength * sign(W) to each weight matrix's gradient, so the
    logged loss stays the data loss and validation stays comparable."""
    import chainrule
    from chainrule.train import Callback

    class L1Penalty(Callback):
        def on_backward_end(self, batch, logs=None):
            with chainrule.no_grad():
                for p in self.model.parameters():
                    if p.ndim >= 2 and p.grad is not None:
                        p.grad.add_(chainrule.sign(p) * strength)
    return L1Penalty()


def metrics_for(data):
    """Metrics on the original target scale (CSV targets are standardised for training)."""
    if data.task == "classification":
        return ["accuracy"]
    t = data.transform
    if t["kind"] != "table":
        return ["rmse"]
    from chainrule.train import log_rmse, rmse
    mean, std = t["target_mean"], t["target_std"]
    base, name = (log_rmse, "log_rmse") if t["positive_target"] else (rmse, "rmse")

    def metric(y_pred, y_true):
        def unscale(v):
            return np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64) * std + mean
        return base(unscale(y_pred), unscale(y_true))
    metric.__name__ = name
    return [metric]


def shuffled_training_rows(data, seed):
    """validation_split takes the LAST rows: shuffle first so they are a fair sample."""
    order = np.random.default_rng(seed).permutation(len(data.X_train))
    return data.X_train[order], data.y_train[order]


def headline(cfg, data, run_path):
    if cfg["kfold"]:
        return "\n".join([_("data:   {data}").format(data=data.describe()),
                          _("model:  {model}").format(model=models.describe_for(cfg, data)),
                          _("run:    {path}").format(path=run_path)])
    val = (_(", {share:.0%} of them for validation").format(share=cfg["val_split"])
           if cfg["val_split"] else "")
    opt = _("{optimizer} lr {lr:g}").format(optimizer=cfg["optimizer"], lr=cfg["lr"])
    if cfg["momentum"]:
        opt += _(" momentum {v:g}").format(v=cfg["momentum"])
    if cfg["weight_decay"]:
        opt += _(" weight decay {v:g}").format(v=cfg["weight_decay"])
    if cfg["l1"]:
        opt += f" L1 {cfg['l1']:g}"
    stop = (_(", early stopping after {patience} epochs without progress").format(
        patience=cfg["patience"]) if cfg["patience"] and cfg["val_split"] else "")
    return "\n".join([
        _("data:   {data}").format(data=data.describe()) + val,
        _("model:  {model} ({init} init)").format(model=models.describe_for(cfg, data),
                                                  init=cfg["init"]),
        _("train:  {optimizer}, batch {batch}, up to {epochs} epochs").format(
            optimizer=opt, batch=cfg["batch_size"], epochs=cfg["epochs"]) + stop,
        _("run:    {path}").format(path=run_path)])


def _fit_kwargs(cfg, data, quiet):
    return dict(loss=models.loss_for(data.task), epochs=cfg["epochs"],
                metrics=metrics_for(data), batch_size=cfg["batch_size"],
                clip_grad_norm=cfg["clip_grad"], progress=not quiet, compile=cfg["compile"])


def run(args):
    rank, world = mpi.join(args, resume_folder(args) if args.resume else None)
    if rank == 0 and world > 1:
        say(_("MPI:    running on {world} ranks (data-parallel; rank 0 prints and writes "
              "the run folder)").format(world=world), args.quiet)
    elif rank > 0:  # the private folder replaces the run folder: nothing to print
        sys.stdout = open(os.devnull, "w")
    cfg, resume_run = settings(args)
    if args.repair and (cfg["kfold"] or resume_run is not None):
        raise CLIError(_("--repair starts from a new run's diagnosis; drop --kfold / "
                         "--resume"))
    data = data_sources.load(cfg)
    cfg = config_mod.resolve(cfg, cfg["dataset"] == "synthetic-linear")
    model = models.build_for(cfg, data)  # settings check
    if resume_run is not None:
        check_epochs_on_resume(cfg, resume_run, check_checkpoint(resume_run, model))
        try:
            return train_into(resume_run, cfg, data, args, resume=True)
        except BaseException as err:
            raise mark_resumable(err, resume_run.path)
    run_dir = runs.prepare_new(args.out, args.name, args.overwrite)
    try:
        status = train_into(run_dir, cfg, data, args, resume=False)
    except BaseException as err:  # what it trained up to its last checkpoint is kept
        if runs.finish_new(run_dir, succeeded=False):
            mark_resumable(err, run_dir.path)
        raise
    runs.finish_new(run_dir, succeeded=True)
    if args.repair:
        from .repair import repair_runs
        return repair_runs(args, cfg, data, run_dir, args.repair)
    return status


def train_into(run_dir, cfg, data, args, resume):
    if not resume:
        write_settings(run_dir, cfg, data)
    say(headline(cfg, data, run_dir.path), args.quiet)
    for note in data.notes:
        say(_("note:   {note}").format(note=note), args.quiet)
    if cfg["kfold"]:
        return run_kfold(cfg, data, run_dir, args.quiet)
    try:
        status = run_training(cfg, data, run_dir, resume, args.quiet)
    except KeyboardInterrupt:  # the checkpoint went on under the new settings
        if resume:
            write_settings(run_dir, cfg, data)
        raise
    # a resume that fails keeps the run's settings: they still describe its checkpoint
    if resume:
        write_settings(run_dir, cfg, data)
    return status


def write_settings(run_dir, cfg, data):
    run_dir.write_json(runs.CONFIG, dict(cfg, task=data.task))
    run_dir.write_json(runs.TRANSFORM, data.transform)


def run_training(cfg, data, run_dir, resume, quiet):
    import chainrule
    from chainrule.train import EarlyStopping, GradientMonitor, diagnose, evaluate, fit
    model = models.build_for(cfg, data)
    optimizer = models.optimizer_factory(cfg)(model.parameters())
    callbacks = [l1_callback(cfg["l1"])] if cfg["l1"] else []
    monitor = GradientMonitor(verbose=False)
    callbacks.append(monitor)
    if cfg["patience"] and cfg["val_split"]:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=cfg["patience"],
                                       restore_best_weights=True))
    if resume:  # last, so the saved states of the others keep their positions
        callbacks.append(apply_on_resume(cfg))
    X, y = shuffled_training_rows(data, cfg["seed"])
    kwargs = _fit_kwargs(cfg, data, quiet)
    try:
        history = fit(model, (X, y), optimizer=optimizer, callbacks=callbacks,
                      validation_split=cfg["val_split"] or None, seed=cfg["seed"],
                      checkpoint_dir=run_dir.checkpoint_dir, resume=resume,
                      settings=run_settings(cfg), **kwargs)
    except ValueError as err:  # fit checks its arguments (e.g. too few rows to split)
        raise CLIError(_("training could not run: {error}").format(error=err)) from None
    for flag in monitor.flags[-1:]:
        say(_("gradients: {message}").format(message=flag["message"]), quiet)
    chainrule.save_safetensors(dict(model.state_dict()), run_dir.file(runs.MODEL))
    history.to_csv(run_dir.file(runs.HISTORY_CSV))
    history.to_json(run_dir.file(runs.HISTORY_JSON))
    run_dir.write_json(runs.GRADIENTS, {"norms": monitor.norms, "flags": monitor.flags})
    curves = save_curves(history, run_dir)
    test = evaluate(model, (data.X_test, data.y_test), loss=kwargs["loss"],
                    metrics=kwargs["metrics"])
    try:
        verdict = diagnose(history).to_dict()
    except ValueError:
        verdict = None
    run_dir.write_json(runs.METRICS, {"test": test, "test_rows": len(data.X_test),
                                      "epochs_run": len(history), "diagnosis": verdict})
    if verdict and quiet:  # fit printed the full diagnosis otherwise
        print(_("diagnosis: {verdict}").format(verdict=_(verdict["verdict"])), flush=True)
    flags = flag_line(verdict["fixes"], dict(cfg, task=data.task)) if verdict else ""
    if flags:
        say(_("  with flags: {flags}").format(flags=flags), quiet)
    if data.name == "synthetic-linear" and cfg["model"] == "linear":
        w = [round(float(v), 4) for v in model[0].weight.detach().numpy().reshape(-1)]
        b = float(model[0].bias.detach().numpy().reshape(-1)[0])
        say(_("learned w = {w}, b = {b:.4f}  (true w = {true_w}, b = {true_b})").format(
            w=w, b=b, true_w=data_sources.SYNTHETIC_W, true_b=data_sources.SYNTHETIC_B), quiet)
    print(test_line(test, len(data.X_test)), flush=True)
    files = ", ".join(f for f in (runs.CONFIG, runs.TRANSFORM, runs.HISTORY_CSV,
                                  runs.HISTORY_JSON, curves, runs.MODEL, runs.METRICS,
                                  runs.GRADIENTS, runs.CHECKPOINT_DIR + "/") if f)
    print(_("saved to {path}/: {files}").format(path=run_dir.path, files=files), flush=True)
    say(_("next:   chainrule evaluate {path}   |   chainrule plot {path}").format(
        path=run_dir.path), quiet)
    return 0


def test_line(test, n_rows):
    parts = []
    for key, label in (("accuracy", _("test accuracy")), ("log_rmse", _("test log-RMSE")),
                       ("rmse", _("test RMSE")), ("loss", _("test loss"))):
        if key in test:
            parts.append(_("{label}: {value:.4f}").format(label=label, value=test[key]))
    return "   ".join(parts) + "   " + _("({rows} test rows)").format(rows=fmt_int(n_rows))


def save_curves(history, run_dir):
    try:
        history.plot(run_dir.file(runs.CURVES))
    except ImportError:
        print(_("note: curves.png skipped: plots need matplotlib (pip install matplotlib)"))
        return None
    import matplotlib.pyplot as plt
    plt.close("all")
    return runs.CURVES


def run_kfold(cfg, data, run_dir, quiet):
    from chainrule.train import LambdaCallback, k_fold
    k = cfg["kfold"]
    if k > len(data.X_train):
        raise CLIError(_("--kfold {k} needs at least {k} training rows; there are "
                         "{rows}").format(k=k, rows=len(data.X_train)))
    seen, last = [], {}
    kwargs = _fit_kwargs(cfg, data, True)

    def fold_done(logs=None):
        seen.append(1)
        shown = "  ".join(f"{key} {v:.4f}" for key, v in last.items()
                          if key not in ("lr", "seconds"))
        say(_("fold {i}/{k}: {scores}").format(i=len(seen), k=k, scores=shown), quiet)
    callbacks = [l1_callback(cfg["l1"])] if cfg["l1"] else []
    callbacks.append(LambdaCallback(on_epoch_end=lambda e, logs: last.update(logs or {}),
                                    on_train_end=fold_done))
    say(_("{k}-fold cross-validation on the {rows} training rows, {epochs} epochs per fold "
          "(no early stopping)").format(k=k, rows=fmt_int(len(data.X_train)),
                                        epochs=cfg["epochs"]), quiet)
    X, y = shuffled_training_rows(data, cfg["seed"])
    result = k_fold(lambda: models.build_for(cfg, data),
                    X, y, k=k, seed=cfg["seed"],
                    fit_kwargs=dict(kwargs, optimizer=models.optimizer_factory(cfg),
                                    callbacks=callbacks))
    say(result.to_table(), quiet)
    result.to_json(run_dir.file(runs.KFOLD_JSON))
    plot = runs.KFOLD_PNG
    try:
        result.plot(run_dir.file(runs.KFOLD_PNG))
    except ImportError:
        plot = None
    key = "val_accuracy" if "val_accuracy" in result.mean else "val_loss"
    for name in ("val_log_rmse", "val_rmse"):
        if name in result.mean:
            key = name
    print(_("{k}-fold {metric}: {mean:.4f} ± {std:.4f}").format(
        k=k, metric=key, mean=result.mean[key], std=result.std[key]), flush=True)
    files = ", ".join(f for f in (runs.CONFIG, runs.TRANSFORM, runs.KFOLD_JSON, plot) if f)
    print(_("saved to {path}/: {files}").format(path=run_dir.path, files=files), flush=True)
    return 0
