"""The training loop of `fit` in named steps: prepare_data, restore, run_epoch (one
train_batch per batch), validate, checkpoint, finish. A caller that trains differently
(several processes, an estimator wrapper) subclasses Trainer and replaces one step."""
import math
import os
import time
import warnings

import numpy as np

from . import data as _data
from .callbacks import Callback, CallbackList
from .checkpoint import load_training_state, plain_state, save_training_state
from .history import History
from .recording import RunRecorder
from .progress import Progress

__all__ = ["Trainer", "NaNRollback"]


def _cr():
    import chainrule
    return chainrule


def split_batch(batch):
    if isinstance(batch, (list, tuple)):
        if len(batch) < 2:
            raise ValueError("each batch must be (inputs, targets); got a single item")
        return batch[0], batch[-1]
    raise TypeError(f"batches must be (inputs, targets) pairs, got {type(batch).__name__}")


def scalar_loss(value):
    if value.numel() != 1:  # reduction='none' losses (d2l style): average them
        value = value.mean()
    return value


def compute_metrics(metrics, preds, targets):
    if not metrics:
        return {}
    cr = _cr()
    cat = (lambda c: np.concatenate(c, axis=0) if c else np.zeros((0,)))
    p, t = cr.from_numpy(cat(preds)), cr.from_numpy(cat(targets))
    return {name: float(fn(p, t)) for name, fn in metrics}


def loop_eval(model, loader, loss, metrics):
    """Mean loss and metrics of `model` over `loader`, under no_grad."""
    cr = _cr()
    total, count, preds, targets = 0.0, 0, [], []
    with cr.no_grad():
        for batch in loader:
            xb, yb = split_batch(batch)
            out = model(xb)
            n = len(xb)
            if loss is not None:
                total += float(scalar_loss(loss(out, yb)).item()) * n
            count += n
            if metrics:
                preds.append(np.array(out.numpy(), copy=True))
                targets.append(np.array(yb.numpy(), copy=True))
    if count == 0:
        raise ValueError("evaluation data yielded no rows")
    logs = {"loss": total / count} if loss is not None else {}
    logs.update(compute_metrics(metrics, preds, targets))
    return logs


def _grads_finite(params):
    for p in params:
        g = p.grad
        if g is not None and not np.isfinite(g.numpy()).all():
            return False
    return True


class NaNRollback(Callback):
    """After a non-finite loss, put back the weights from the start of the epoch: the
    step before the bad loss has already spoiled them. One copy per epoch, not per batch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.stepped = epoch, False
        self.snapshot = [p.detach().clone() for p in self.model.parameters()]

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            self.stepped = True
            return
        if self.stepped:  # otherwise the weights are still the snapshot
            with _cr().no_grad():
                for p, w in zip(self.model.parameters(), self.snapshot):
                    p.copy_(w)
            self.trainer.messages.append(f"the weights from the start of epoch "
                                         f"{self.epoch + 1} restored")


class Trainer:
    """The state of one `fit` call and its steps; callbacks see it as `self.trainer`."""

    def __init__(self, model, optimizer, params, *, loss=None, metrics=(), callbacks=(),
                 clip_grad_norm=None, checkpoint_dir=None, progress=False, compile=False,
                 record=True):
        self.model, self.optimizer, self.params = model, optimizer, params
        self.compile, self.compiled_step = compile, None
        self.stop_training, self.stop_reason, self.messages = False, None, []
        self.epoch = 0  # the current epoch, from 0
        # the first epoch this call runs: after a resume, the one after the checkpoint's.
        # Callbacks that write files drop what they wrote from it on (written, not committed)
        self.initial_epoch = 0
        self.loss, self.metrics, self.clip_grad_norm = loss, list(metrics), clip_grad_norm
        self.checkpoint_dir = checkpoint_dir
        self.recorder = RunRecorder() if record else None
        extra = [self.recorder] if record else []  # after the user's: their state keys hold
        self.callbacks = CallbackList(list(callbacks) + [NaNRollback()] + extra, self)
        self.history = History(params=params)
        self.show = Progress(progress, params.get("epochs"))
        self.train_loader = self.val_loader = self.generator = None

    def request_stop(self, reason, message=None):
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason
        if message:
            self.messages.append(message)

    def should_stop(self):
        return self.stop_training or bool(getattr(self.model, "stop_training", False))

    # ---- steps ---------------------------------------------------------------------
    def prepare_data(self, train_ds, val_ds, batch_size, seed):
        """Loaders for the (normalized) training and validation data; the shuffling
        generator is seeded from `seed` or the global generator."""
        cr = _cr()
        if seed is not None:
            cr.manual_seed(int(seed))
        gen = None
        if not _data.is_loader(train_ds):
            gen = cr.Generator().manual_seed(
                int(seed) if seed is not None else int(cr.randint(0, 2 ** 62, (1,)).item()))
        self.train_loader = _data.to_loader(train_ds, batch_size, True, gen)
        self.generator = gen if gen is not None else getattr(self.train_loader, "generator",
                                                            None)
        self.val_loader = None if val_ds is None else _data.to_loader(
            val_ds, max(batch_size, 256) if not _data.is_loader(val_ds) else None, False, None)
        try:
            steps = len(self.train_loader)
        except TypeError:
            steps = None
        self.params["steps"] = self.history.params["steps"] = steps

    def restore(self, state):
        """Continue from a checkpoint's state; returns the first epoch to run."""
        cr, history = _cr(), self.history
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.callbacks.load_state_dict(state["callbacks"])
        h = History.from_dict(state["history"])
        history.history, history.epoch, history.notes = h.history, h.epoch, h.notes
        history.initial_loss, history.signals = h.initial_loss, h.signals
        self.stop_reason = h.stop_reason
        cr.set_rng_state(state["rng"])
        if self.generator is not None and state.get("loader_rng") is not None:
            self.generator.set_state(state["loader_rng"])
        return int(state["epoch"]) + 1

    def forward(self, xb):
        """The training forward pass (a data-parallel trainer routes it through its
        gradient-averaging wrapper)."""
        return self.model(xb)

    def train_batch(self, epoch, b, batch):
        """One optimizer step; returns (loss value, rows, output, targets, problem), the
        problem being None or why no step was taken (a non-finite loss or gradient)."""
        cbs = self.callbacks
        cbs.call("on_batch_begin", b, {})
        xb, yb = split_batch(batch)
        if self.compiled_step is not None:
            done = self.compiled_step(xb, yb)
            if done is not None:
                return self._compiled_batch_end(epoch, b, xb, yb, *done)
            self.compiled_step = None  # a branch changed: this batch and the rest eagerly
        out = self.forward(xb)
        lval = scalar_loss(self.loss(out, yb))
        lv = float(lval.item())
        if self.history.initial_loss is None and epoch == 0 and b == 0:
            self.history.initial_loss = lv
        if not math.isfinite(lv):
            return lv, len(xb), out, yb, f"loss is {lv}"
        self.optimizer.zero_grad()
        lval.backward()
        cbs.call("on_backward_end", b, {"loss": lv})
        if not _grads_finite(self.model_params):
            return lv, len(xb), out, yb, "gradients are NaN/Inf"
        if self.clip_grad_norm is not None:
            _cr().nn.utils.clip_grad_norm_(self.model_params, self.clip_grad_norm)
        self.optimizer.step()
        return lv, len(xb), out, yb, None

    def _compiled_batch_end(self, epoch, b, xb, yb, lval, out, problem):
        lv = float(lval.item())
        if self.history.initial_loss is None and epoch == 0 and b == 0:
            self.history.initial_loss = lv
        if problem == "loss":
            return lv, len(xb), out, yb, f"loss is {lv}"
        self.callbacks.call("on_backward_end", b, {"loss": lv})
        return lv, len(xb), out, yb, problem

    def use_compiled_step(self):
        """fit(compile=True): the step as one compiled function, where it can be."""
        from .compiled_step import CompiledStep
        reason = CompiledStep.reason_not(self)
        if reason is not None:
            warnings.warn(f"fit(compile=True): the step runs eagerly: {reason}",
                          RuntimeWarning, stacklevel=3)
            return
        self.compiled_step = CompiledStep(self, scalar_loss, self.compile)

    def run_epoch(self, epoch):
        """Train one epoch; returns its logs and whether it ended on a bad batch."""
        total, count, preds, targets = 0.0, 0, [], []
        for b, batch in enumerate(self.train_loader):
            if self.recorder is not None and self.recorder.wants_batches:
                self.recorder.see_batch(*split_batch(batch))
            lv, n, out, yb, problem = self.train_batch(epoch, b, batch)
            if problem is not None:
                self.request_stop("nan", f"epoch {epoch + 1}, batch {b + 1}: {problem}; "
                                  "training stopped (try a lower learning rate or "
                                  "clip_grad_norm)")
                total, count = float("nan"), max(count, 1)
                self.callbacks.call("on_batch_end", b, {"loss": lv, "size": n})
                return self._epoch_logs(total, count, None), True
            total += lv * n
            count += n
            if self.metrics:
                preds.append(np.array(out.detach().numpy(), copy=True))
                targets.append(np.array(yb.numpy(), copy=True))
            self.callbacks.call("on_batch_end", b, {"loss": lv, "size": n})
            self.show.batch_end({"loss": total / count})
            if self.should_stop():
                break
        return self._epoch_logs(total, count, (preds, targets)), False

    def _epoch_logs(self, total, count, outputs):
        if count == 0:
            raise ValueError("the training data yielded no batches")
        logs = {"loss": total / count}
        if outputs is None:
            logs.update({name: float("nan") for name, _ in self.metrics})
        else:
            logs.update(compute_metrics(self.metrics, *outputs))
        return logs

    def validate(self, bad):
        """val_ logs (NaN after a bad epoch: its weights are not worth measuring)."""
        if bad:
            vlogs = {"loss": float("nan"), **{n: float("nan") for n, _ in self.metrics}}
        else:
            self.model.eval()
            vlogs = loop_eval(self.model, self.val_loader, self.loss, self.metrics)
            self.model.train()
        return {f"val_{k}": v for k, v in vlogs.items()}

    def checkpoint(self, epoch):
        cr = _cr()
        save_training_state(self.checkpoint_dir, {
            "epoch": epoch, "model": plain_state(dict(self.model.state_dict())),
            "optimizer": plain_state(self.optimizer.state_dict()),
            "callbacks": plain_state(self.callbacks.state_dict()),
            "history": self.history.to_dict(), "rng": cr.get_rng_state(),
            "loader_rng": self.generator.get_state() if self.generator is not None else None})

    def finish(self):
        self.show.close()
        self.history.stop_reason = self.stop_reason
        self.callbacks.call("on_train_end", {})
        self._flush_messages()
        if self.show.enabled and len(self.history):
            from .diagnosis import diagnose
            try:
                self.show.message(str(diagnose(self.history)))
            except ValueError:
                pass
        return self.history

    def _flush_messages(self):
        for m in self.messages:
            self.history.notes.append(m)
            self.show.message(m)
        self.messages = []

    # ---- the loop ------------------------------------------------------------------
    def run(self, epochs, resume=False):
        state = load_training_state(self.checkpoint_dir) if resume else None
        if resume and state is None:  # first run of a script that always resumes
            self.show.message(f"no checkpoint in {os.fspath(self.checkpoint_dir)!r} yet: "
                              "starting from scratch")
        try:
            self.model.stop_training = False
        except (AttributeError, TypeError):
            pass
        if state is not None:
            self.initial_epoch = int(state["epoch"]) + 1
            self.callbacks.call("on_resume")
        self.callbacks.call("on_train_begin", {})
        start = 0 if state is None else self.restore(state)
        if state is not None:
            self.show.message(self._resume_message(start, epochs))
        if self.stop_reason is not None:  # a finished run stays finished
            start = epochs
        self.model_params = list(self.model.parameters())
        if self.compile:
            self.use_compiled_step()
        try:
            for epoch in range(start, epochs):
                self.one_epoch(epoch)
                if self.should_stop():
                    break
        except BaseException:  # a bar left open would print itself after the error
            self.show.close()
            raise
        return self.finish()

    def _resume_message(self, start, epochs):
        if self.stop_reason is not None:
            return (f"the run stopped after epoch {start} ({self.stop_reason}): nothing to "
                    "do")
        if start >= epochs:
            return f"checkpoint already at epoch {start}/{epochs}: nothing to do"
        return f"resuming from the checkpoint after epoch {start}"

    def one_epoch(self, epoch):
        t0 = time.perf_counter()
        self.epoch = epoch
        self.model.train()
        self.callbacks.call("on_epoch_begin", epoch, {})
        lr = float(self.optimizer.param_groups[0]["lr"])
        self.show.epoch_begin(epoch, self.params["steps"])
        logs, bad = self.run_epoch(epoch)
        if self.val_loader is not None:
            logs.update(self.validate(bad))
        logs["lr"] = lr
        self.callbacks.call("on_epoch_end", epoch, logs)
        logs["seconds"] = time.perf_counter() - t0
        self.history.append(epoch, logs)
        self.show.epoch_end(epoch, logs)  # the epoch's line first, then what it caused
        self._flush_messages()
        if self.should_stop():  # recorded in the checkpoint: a resume does not go on
            self.stop_reason = self.history.stop_reason = self.stop_reason or "callback"
        if self.checkpoint_dir is not None and not bad:
            self.checkpoint(epoch)
