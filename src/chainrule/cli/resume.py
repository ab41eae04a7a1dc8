"""`chainrule train --resume`: which run to continue, what a resumed run may change, and
the checks that leave the run folder untouched when a resume cannot work."""
import os

from ..runtime.i18n import _
from . import config as config_mod
from ._common import CLIError, shown_value


def resume_folder(args):
    if args.resume is True:
        if not args.name:
            raise CLIError(_("--resume needs the run to continue: --resume runs/NAME "
                             "(or --name NAME)"))
        return os.path.join(args.out, args.name)
    return args.resume


# what a resumed run can change: the length of training, the optimiser's hyperparameters
# (set on the loaded optimizer) and where the data lives. Anything else would not match
# the checkpoint (model shape, data split, callbacks), so it is refused, not ignored.
RESUMABLE = ("epochs", "lr", "weight_decay", "momentum", "clip_grad", "data_dir", "download")


def refuse_changes_on_resume(stored, cfg):
    changed = [k for k in config_mod.OPTION_NAMES
               if k not in RESUMABLE and cfg[k] != stored.get(k)]
    if changed:
        shown = ", ".join(_("--{flag} {value} (the run has {stored})").format(
            flag=k.replace('_', '-'), value=shown_value(cfg[k]),
            stored=shown_value(stored.get(k)))
            for k in changed)
        raise CLIError(_("--resume continues a run with its own settings; cannot change "
                         "{changes}: start a new run instead (only {flags} can change on "
                         "--resume)").format(
            changes=shown, flags=", ".join("--" + k.replace("_", "-") for k in RESUMABLE)))


def check_checkpoint(run_dir, model):
    """Load the run's checkpoint into a fresh model before anything is written, so that a
    resume that cannot work leaves the run folder exactly as it was."""
    from chainrule.train.checkpoint import load_training_state
    path = os.path.join(run_dir.checkpoint_dir, "last.ckpt")
    try:
        state = load_training_state(run_dir.checkpoint_dir)
        model.load_state_dict(state["model"])
        done = int(state["epoch"]) + 1
    except Exception as err:  # a damaged or foreign checkpoint is a problem of the input
        raise CLIError(_("cannot resume from {path}: {kind}: {error}").format(
            path=path, kind=type(err).__name__, error=err)) from None
    return done


def check_epochs_on_resume(cfg, run_dir, done):
    if cfg["epochs"] < done:  # cannot apply: training does not go backwards
        raise CLIError(_("--epochs {epochs}: {path} has already trained {done} epochs; "
                         "--resume continues up to a larger --epochs").format(
            epochs=cfg["epochs"], path=run_dir.path, done=done))


def apply_on_resume(cfg):
    """A callback that sets the optimiser's hyperparameters from the settings once the
    checkpoint's optimizer state is loaded (which restores the old ones)."""
    from chainrule.train import Callback

    class ApplySettings(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for group in self.trainer.optimizer.param_groups:
                group["lr"] = float(cfg["lr"])
                group["weight_decay"] = float(cfg["weight_decay"])
                if "momentum" in group:
                    group["momentum"] = float(cfg["momentum"])
    return ApplySettings()
