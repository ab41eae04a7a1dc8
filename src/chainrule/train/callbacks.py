"""Callbacks with Keras's semantics: hooks called by `fit` at the start and end of
training, of each epoch and of each batch. Set `self.model.stop_training = True` (or
`self.trainer.stop_training = True`) to end training after the current epoch."""
import csv
import math
import os
import sys
import warnings

from ..runtime.atomic_files import atomic_write_text
from .metrics import resolve_mode

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "CSVLogger",
           "LearningRateScheduler", "TerminateOnNaN", "LambdaCallback"]


def copy_weights(model):
    """A detached copy of every entry of the model's state_dict."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class Callback:
    """Base class: override any of the hooks. `self.model`, `self.optimizer`,
    `self.trainer` and `self.params` (epochs, steps, ...) are set by `fit`.

    For `fit(resume=True)`, a callback with state should implement `state_dict()` and
    `load_state_dict(d)` returning / taking a dict of numbers, strings and tensors."""

    def __init__(self):
        self.model = None
        self.trainer = None
        self.params = {}

    def set_trainer(self, trainer):
        self.trainer = trainer
        self.model = trainer.model
        self.params = trainer.params

    @property
    def optimizer(self):
        return self.trainer.optimizer if self.trainer is not None else None

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    # called after loss.backward() and before clipping / optimizer.step()
    def on_backward_end(self, batch, logs=None): pass
    # called before on_train_begin when fit continues from a checkpoint
    def on_resume(self): pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class LambdaCallback(Callback):
    """Callback from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


class CallbackList:
    def __init__(self, callbacks, trainer):
        self.callbacks = []
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be chainrule.train.Callback instances, "
                                f"got {type(cb).__name__}")
            cb.set_trainer(trainer)
            self.callbacks.append(cb)

    def call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def state_dict(self):
        return {f"{i}:{type(cb).__name__}": cb.state_dict() for i, cb in enumerate(self.callbacks)}

    def load_state_dict(self, state):
        for i, cb in enumerate(self.callbacks):
            key = f"{i}:{type(cb).__name__}"
            if key in state:
                cb.load_state_dict(state[key])


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience`
    epochs (Keras semantics).

    - an epoch improves when `current - min_delta` beats the best value (for mode
      'min': current < best - min_delta);
    - `baseline`: the wait counter is reset only by improvements that also beat the
      baseline, so training stops after `patience` epochs that never reach it;
    - `start_from_epoch`: epochs before it (0-based) are ignored entirely;
    - `restore_best_weights`: at the end of training the weights of the best epoch are
      loaded back, whether or not training was stopped early."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: start_from_epoch must be >= 0, got {start_from_epoch}")
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.min_delta, self.baseline = abs(float(min_delta)), baseline
        self.mode = resolve_mode(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None

    def _is_improvement(self, value, reference):
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping is watching {self.monitor!r}, which is not logged; "
                          f"logged: {sorted(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = copy_weights(self.model), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = copy_weights(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.request_stop("early_stopping",
                                      f"early stopping at epoch {epoch + 1}: {self.monitor} "
                                      f"has not improved for {self.wait} epoch(s) (best "
                                      f"{self.best:.4g} at epoch {self.best_epoch + 1})")

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self):
        d = {"wait": self.wait, "stopped_epoch": self.stopped_epoch,
             "best_epoch": self.best_epoch, "best": float(self.best)}
        if self.best_weights is not None:
            d["best_weights"] = dict(self.best_weights)
        return d

    def load_state_dict(self, state):
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_epoch, self.best = int(state["best_epoch"]), float(state["best"])
        self.best_weights = dict(state["best_weights"]) if "best_weights" in state else None


class ModelCheckpoint(Callback):
    """Save the model's state_dict after each epoch to `filepath`, which may contain
    `{epoch}` (1-based) and logged values, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.pt".
    With save_best_only, only when `monitor` improves. Writes are atomic (a temporary
    file renamed over the target), so a crash never leaves a half-written checkpoint."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 mode="auto", save_weights_only=True, initial_value_threshold=None):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only = save_best_only
        self.mode = resolve_mode(monitor, mode)
        self.save_weights_only = save_weights_only
        self.initial = initial_value_threshold
        self.best = self._start()
        self.saved = []

    def _start(self):
        if self.initial is not None:
            return float(self.initial)
        return math.inf if self.mode == "min" else -math.inf

    def _better(self, current):
        return current < self.best if self.mode == "min" else current > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: the path {self.filepath!r} uses {err}, which "
                           f"is not logged; logged: {sorted(logs)}") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint can save best model only with {self.monitor} "
                              f"available, skipping; logged: {sorted(logs)}", stacklevel=2)
                return
            if not self._better(current):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        from ..serialization import save
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        save(self.model.state_dict(), path)
        self.saved.append(path)

    def state_dict(self):
        return {"best": float(self.best)}

    def load_state_dict(self, state):
        self.best = float(state["best"])


class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file: a header `epoch,<sorted keys>` then one row
    per epoch (epoch counted from 0, as Keras). With append=True an existing file is
    continued without a second header."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys, self._file, self._writer = None, None, None

    def on_resume(self):
        self.append = True  # continue the log rather than overwrite it

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        if exists and self.trainer is not None and self.trainer.initial_epoch:
            self._drop_rows_from(self.trainer.initial_epoch)
        if exists:
            with open(self.filename, newline="", encoding="utf-8") as f:
                first = f.readline().strip()
            self.keys = first.split(self.sep)[1:] if first else None
        else:
            self.keys = None
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._has_header = exists

    def _drop_rows_from(self, epoch):
        # rows of epochs the checkpoint does not hold were written before a failure: the
        # resumed run writes them again, so they go (one row per epoch, whatever happened)
        with open(self.filename, newline="", encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        kept = lines[:1] + [line for line in lines[1:]
                            if not _row_epoch_from(line, self.sep, epoch)]
        if len(kept) < len(lines):
            atomic_write_text(self.filename, "".join(kept))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
            if not self._has_header:
                self._writer.writerow(["epoch"] + self.keys)
        self._writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


def _row_epoch_from(line, sep, epoch):
    """Whether a CSVLogger row belongs to `epoch` or a later one."""
    first = line.split(sep, 1)[0].strip()
    return first.isdigit() and int(first) >= epoch


def _watches_metric(schedule):
    """ReduceLROnPlateau, chainrule's or PyTorch's: its step() takes the monitored value."""
    from ..optim.lr_scheduler import ReduceLROnPlateau
    kinds = [ReduceLROnPlateau]
    torch_schedulers = sys.modules.get("torch.optim.lr_scheduler")
    if torch_schedulers is not None:
        kinds.append(torch_schedulers.ReduceLROnPlateau)
    return isinstance(schedule, tuple(kinds))


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = lr


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch.

    `schedule` is either a function `schedule(epoch, lr) -> new_lr` (epoch from 0; a
    one-argument `schedule(epoch)` is accepted too) or a chainrule/PyTorch lr_scheduler
    object, stepped once at the end of every epoch; ReduceLROnPlateau is given the value
    of `monitor` (default val_loss, falling back to loss)."""

    def __init__(self, schedule, verbose=0, monitor=None):
        super().__init__()
        self.schedule, self.verbose, self.monitor = schedule, verbose, monitor
        self.is_object = hasattr(schedule, "step")
        if not self.is_object and not callable(schedule):
            raise TypeError("LearningRateScheduler needs a function schedule(epoch, lr) or an "
                            f"lr_scheduler object, got {type(schedule).__name__}")

    def on_epoch_begin(self, epoch, logs=None):
        if self.is_object:
            return
        lr = self.optimizer.param_groups[0]["lr"]
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        if not isinstance(new, (int, float)) or isinstance(new, bool) or not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: schedule returned {new!r} at epoch "
                             f"{epoch}; expected a finite float")
        _set_lr(self.optimizer, float(new))
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if not self.is_object:
            return
        if _watches_metric(self.schedule):
            logs = logs or {}
            key = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            if key not in logs:
                raise ValueError(f"ReduceLROnPlateau watches {key!r}, which is not logged; "
                                 f"logged: {sorted(logs)}")
            self.schedule.step(logs[key])
        else:
            self.schedule.step()

    def state_dict(self):
        if self.is_object and hasattr(self.schedule, "state_dict"):
            from .checkpoint import plain_state
            return {"scheduler": plain_state(self.schedule.state_dict())}
        return {}

    def load_state_dict(self, state):
        if "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class TerminateOnNaN(Callback):
    """Stop training when the loss (or the validation loss) becomes NaN or infinite.
    `fit` itself already refuses to apply a step whose loss is not finite; this callback
    adds the check on validation values at the end of each epoch."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.trainer.request_stop("nan", f"batch {batch}: invalid loss {loss}, "
                                      "terminating training")

    def on_epoch_end(self, epoch, logs=None):
        for key, v in (logs or {}).items():
            if key.endswith("loss") and v is not None and not math.isfinite(v):
                self.trainer.request_stop("nan", f"epoch {epoch + 1}: {key} is {v}, "
                                          "terminating training")
