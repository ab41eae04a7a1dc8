"""The run folder: everything one `chainrule train` produced, under runs/<name>/.

    config.json         the settings (re-read by evaluate / predict / plot / --resume)
    transform.json      the input preprocessing (scales, CSV means, stds, categories)
    history.csv/.json   one row per epoch
    curves.png          learning curves
    model.safetensors   the final weights (best epoch with early stopping)
    metrics.json        test results and the diagnosis
    gradients.json      mean gradient norm of every parameter per epoch
    checkpoint/         the full training state after the last epoch, for --resume
"""
import datetime
import json
import os
import shutil

from ..runtime.atomic_files import atomic_write_text
from ..runtime.i18n import _
from ._common import CLIError

CONFIG = "config.json"
TRANSFORM = "transform.json"
HISTORY_CSV = "history.csv"
HISTORY_JSON = "history.json"
CURVES = "curves.png"
MODEL = "model.safetensors"
METRICS = "metrics.json"
GRADIENTS = "gradients.json"
CHECKPOINT_DIR = "checkpoint"
KFOLD_JSON = "kfold.json"
KFOLD_PNG = "kfold.png"
CONFUSION = "confusion_matrix.png"
GRADIENT_FLOW = "gradient_flow.png"
# written by train; an existing folder holding any of them is a run
RUN_FILES = (CONFIG, TRANSFORM, HISTORY_CSV, HISTORY_JSON, CURVES, MODEL, METRICS, GRADIENTS,
             KFOLD_JSON, KFOLD_PNG, CONFUSION, GRADIENT_FLOW)


class Run:
    def __init__(self, path, created=False, replaced=None):
        self.path = os.path.normpath(path)
        # for a new run: whether this command made the folder, and where the files of the
        # run it replaces (--overwrite) wait until it succeeds (see finish_new)
        self.created, self.replaced = created, replaced

    def file(self, name):
        return os.path.join(self.path, name)

    @property
    def checkpoint_dir(self):
        return self.file(CHECKPOINT_DIR)

    def has_checkpoint(self):
        return os.path.isfile(os.path.join(self.checkpoint_dir, "last.ckpt"))

    def read_json(self, name):
        path = self.file(name)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise CLIError(_("{path} is missing; the run folder is incomplete (was training "
                             "interrupted? continue it with `chainrule train --resume "
                             "{run}`)").format(path=path, run=self.path)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CLIError(_("{path} is not valid JSON ({error}); the run folder is "
                             "damaged").format(path=path, error=err)) from None

    def write_json(self, name, data):
        atomic_write_text(self.file(name), json.dumps(data, indent=1, sort_keys=False) + "\n")

    def config(self):
        return self.read_json(CONFIG)


def open_run(path):
    """An existing run folder, or a one-line error saying what it is instead."""
    if not os.path.isdir(path):
        raise CLIError(_("run folder {path} does not exist; runs are created by "
                         "`chainrule train` (under ./runs/ by default)").format(path=path))
    run = Run(path)
    if not os.path.isfile(run.file(CONFIG)):
        raise CLIError(_("{path} is not a run folder (it has no {file}); give a folder "
                         "made by `chainrule train`, e.g. runs/<name>").format(
                             path=path, file=CONFIG))
    return run


def is_run(path):
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, f))
                                       for f in RUN_FILES + (CHECKPOINT_DIR,))


def timestamp_name(parent):
    base = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name, i = base, 2
    while os.path.exists(os.path.join(parent, name)):
        name, i = f"{base}-{i}", i + 1
    return name


def prepare_new(parent, name, overwrite):
    """Create and claim the folder for a new run. An existing one is kept unless
    overwrite=True, and then only when it really is a run folder."""
    _make_parent(parent)
    while True:
        path = os.path.join(parent, name or timestamp_name(parent))
        try:
            return Run(path, *_claim(path, overwrite))
        except FileExistsError:
            if name:  # another `chainrule train --name` took it a moment ago
                raise CLIError(_("run folder {path} was just created by another "
                                 "`chainrule train`; choose another --name").format(
                                     path=path)) from None
            # a timestamp name taken in the same second: try the next one


def _make_parent(parent):
    try:
        os.makedirs(parent, exist_ok=True)
    except FileExistsError:
        raise CLIError(_("--out {path} exists and is not a folder; give a folder for the "
                         "run folders").format(path=parent)) from None
    except OSError as err:
        raise CLIError(_("cannot create the --out folder {path}: {error}").format(
            path=parent, error=err.strerror)) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(_("cannot write into the --out folder {path} (permission denied); "
                         "give a writable --out").format(path=parent))


def _claim(path, overwrite):
    """The run folder belongs to whoever creates its checkpoint/ folder: os.mkdir either
    creates it or fails, atomically, so two runs started at once never share a folder.
    Returns (created, folder holding the replaced run's files or None)."""
    created, replaced = False, None
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise CLIError(_("{path} exists and is not a folder; choose another "
                             "--name").format(path=path))
        if os.listdir(path):
            if not overwrite:
                raise CLIError(_("run folder {path} already exists; pass --overwrite to "
                                 "replace it, --resume to continue it, or choose another "
                                 "--name").format(path=path))
            if not is_run(path):
                raise CLIError(_("{path} is not empty and is not a run folder; refusing to "
                                 "overwrite it: choose another --name or --out").format(
                                     path=path))
            replaced = _set_aside(path)
    else:
        os.mkdir(path)  # FileExistsError: taken in between
        created = True
    try:
        os.mkdir(os.path.join(path, CHECKPOINT_DIR))
    except PermissionError as err:
        raise CLIError(_("cannot write into the run folder {path}: {error}").format(
            path=path, error=err.strerror)) from None
    return created, replaced


def _set_aside(path):
    # the replaced run is deleted only once the new one has succeeded
    aside = os.path.join(path, f".replaced-{os.getpid()}")
    os.mkdir(aside)
    for entry in RUN_FILES + (CHECKPOINT_DIR,):
        if os.path.lexists(os.path.join(path, entry)):
            os.rename(os.path.join(path, entry), os.path.join(aside, entry))
    return aside


def finish_new(run, succeeded):
    """After a new run: on success, or a failure after its first checkpoint (it can be
    resumed), drop the files of the run it replaced and return True; on a failure before
    that remove what it wrote and put the replaced run back, so the folder is as before."""
    if succeeded or run.has_checkpoint():
        if run.replaced:
            shutil.rmtree(run.replaced, ignore_errors=True)
        try:  # the claim of the folder, left empty by a run without checkpoints (--kfold)
            os.rmdir(run.checkpoint_dir)
        except OSError:
            pass
        return True
    for entry in RUN_FILES + (CHECKPOINT_DIR,):
        target = run.file(entry)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target, ignore_errors=True)
        elif os.path.lexists(target):
            os.remove(target)
    if run.replaced:
        for entry in os.listdir(run.replaced):
            os.rename(os.path.join(run.replaced, entry), run.file(entry))
        os.rmdir(run.replaced)
    elif run.created and not os.listdir(run.path):
        os.rmdir(run.path)
    return False
