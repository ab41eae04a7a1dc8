"""fit / evaluate / predict: d2l's training loop (ch. 3-5) with Keras's conveniences:
metrics, validation, callbacks, progress, resumable checkpoints and a diagnosis."""
import math
import numbers
import os
import time

import numpy as np

from . import data as _data
from .callbacks import CallbackList, LearningRateScheduler
from .checkpoint import load_training_state, plain_state, save_training_state
from .history import History
from .metrics import get_metric
from .progress import Progress

__all__ = ["fit", "evaluate", "predict", "Trainer"]


def _cr():
    import chainrule
    return chainrule


def _check_epochs(epochs):
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"epochs must be an integer, got {type(epochs).__name__}")
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    return int(epochs)


def _check_model(model):
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"model must be a chainrule.nn.Module (callable with parameters()), "
                        f"got {type(model).__name__}")


def _check_loss(loss):
    if loss is None or not callable(loss):
        raise TypeError(f"loss must be a loss module or a function (y_hat, y) -> tensor, got "
                        f"{type(loss).__name__}")


def _make_optimizer(optimizer, model):
    if optimizer is None:
        raise TypeError("fit needs an optimizer (e.g. chainrule.optim.SGD(model.parameters(), "
                        "lr=0.1)) or a factory params -> optimizer")
    if hasattr(optimizer, "param_groups"):
        return optimizer
    if callable(optimizer):  # a factory, e.g. functools.partial(optim.SGD, lr=0.1)
        opt = optimizer(model.parameters())
        if not hasattr(opt, "param_groups"):
            raise TypeError("the optimizer factory must return an optimizer")
        return opt
    raise TypeError(f"optimizer must be an optimizer or a factory, got {type(optimizer).__name__}")


def _metric_list(metrics, loss=None):
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    out, seen = [], set()
    for m in metrics:
        name, fn = get_metric(m, loss)
        if name in seen or name == "loss":
            raise ValueError(f"metric name {name!r} is used twice (or clashes with 'loss')")
        seen.add(name)
        out.append((name, fn))
    return out


def _split_batch(batch):
    if isinstance(batch, (list, tuple)):
        if len(batch) < 2:
            raise ValueError("each batch must be (inputs, targets); got a single item")
        return batch[0], batch[-1]
    raise TypeError(f"batches must be (inputs, targets) pairs, got {type(batch).__name__}")


def _scalar_loss(value):
    if value.numel() != 1:  # reduction='none' losses (d2l style): average them
        value = value.mean()
    return value


def _concat(chunks):
    return np.concatenate(chunks, axis=0) if chunks else np.zeros((0,))


def _compute_metrics(metrics, preds, targets):
    cr = _cr()
    if not metrics:
        return {}
    p, t = cr.from_numpy(_concat(preds)), cr.from_numpy(_concat(targets))
    return {name: float(fn(p, t)) for name, fn in metrics}


def _loop_eval(model, loader, loss, metrics):
    cr = _cr()
    total, count, preds, targets = 0.0, 0, [], []
    with cr.no_grad():
        for batch in loader:
            xb, yb = _split_batch(batch)
            out = model(xb)
            n = len(xb)
            if loss is not None:
                total += float(_scalar_loss(loss(out, yb)).item()) * n
            count += n
            if metrics:
                preds.append(np.array(out.numpy(), copy=True))
                targets.append(np.array(yb.numpy(), copy=True))
    if count == 0:
        raise ValueError("evaluation data yielded no rows")
    logs = {"loss": total / count} if loss is not None else {}
    logs.update(_compute_metrics(metrics, preds, targets))
    return logs


def evaluate(model, data, loss=None, metrics=("accuracy",), batch_size=None):
    """Loss (when `loss` is given) and metrics of `model` on `data` (DataLoader, Dataset or
    (X, y)), under no_grad and eval(); the model's training mode is restored after."""
    _check_model(model)
    if loss is not None:
        _check_loss(loss)
    mets = _metric_list(metrics, loss)
    ds = _data.normalize(data, "data")
    loader = _data.to_loader(ds, _data.check_batch_size(batch_size or 256), False, None)
    was = getattr(model, "training", False)
    model.eval()
    try:
        return _loop_eval(model, loader, loss, mets)
    finally:
        model.train(was)


def predict(model, X, batch_size=256):
    """Model outputs for X (array, tensor, Dataset or DataLoader; for datasets the first
    item of each row is the input), concatenated, under no_grad and eval()."""
    _check_model(model)
    cr = _cr()
    bs = _data.check_batch_size(batch_size)
    was = getattr(model, "training", False)
    model.eval()
    outs = []
    try:
        with cr.no_grad():
            if _data.is_loader(X) or _data._is_dataset(X):
                loader = _data.to_loader(X, bs, False, None)
                for batch in loader:
                    xb = batch[0] if isinstance(batch, (list, tuple)) else batch
                    outs.append(model(xb))
            else:
                Xt = _data.as_tensor(X, "X")
                if Xt.ndim == 0:
                    raise ValueError("predict: X needs a first (row) dimension")
                for s in range(0, len(Xt), bs):
                    outs.append(model(Xt[s:s + bs]))
    finally:
        model.train(was)
    if not outs:
        raise ValueError("predict: no rows")
    return cr.cat(outs, 0) if len(outs) > 1 else outs[0]


class Trainer:
    """The state of one `fit` call; callbacks see it as `self.trainer`."""

    def __init__(self, model, optimizer, params):
        self.model, self.optimizer, self.params = model, optimizer, params
        self.stop_training, self.stop_reason, self.messages = False, None, []
        self.epoch = 0  # the current epoch, from 0

    def request_stop(self, reason, message=None):
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason
        if message:
            self.messages.append(message)

    def should_stop(self):
        return self.stop_training or bool(getattr(self.model, "stop_training", False))


def _grads_finite(params):
    for p in params:
        g = p.grad
        if g is not None and not np.isfinite(g.numpy()).all():
            return False
    return True


def fit(model, train, val=None, *, loss, optimizer, epochs, metrics=("accuracy",),
        callbacks=(), batch_size=None, validation_split=None, seed=None, progress=True,
        checkpoint_dir=None, resume=False, clip_grad_norm=None, scheduler=None):
    """Train `model` on `train` for `epochs` epochs and return a History.

    train / val: DataLoader, Dataset or (X, y). validation_split: use the LAST fraction
    of the training rows for validation (Keras). optimizer: an optimizer or a factory
    `params -> optimizer`. scheduler: an lr_scheduler stepped once per epoch
    (ReduceLROnPlateau gets val_loss, or loss). checkpoint_dir: save the whole training
    state after every epoch; resume=True continues from it, bit for bit."""
    cr = _cr()
    _check_model(model)
    _check_loss(loss)
    epochs = _check_epochs(epochs)
    mets = _metric_list(metrics, loss)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir (where the checkpoint was written)")
    if clip_grad_norm is not None and (not isinstance(clip_grad_norm, numbers.Real)
                                       or not clip_grad_norm > 0):
        raise ValueError(f"clip_grad_norm must be a positive number, got {clip_grad_norm!r}")
    if validation_split is not None:
        if not isinstance(validation_split, numbers.Real) or not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be a fraction in (0, 1), got "
                             f"{validation_split!r}")
        if val is not None:
            raise ValueError("give either val or validation_split, not both")
    train_ds = _data.normalize(train, "train")
    if train_ds is None:
        raise TypeError("train data is required")
    if _data.is_loader(train_ds):
        if batch_size is not None:
            raise ValueError("batch_size is set by the DataLoader you passed; leave "
                             "batch_size=None")
        if validation_split is not None:
            raise ValueError("validation_split needs arrays or a Dataset, not a DataLoader "
                             "(its rows are shuffled); pass val=... instead")
    bs = _data.check_batch_size(batch_size)
    val_ds = _data.normalize(val, "val")
    if validation_split is not None:
        train_ds, val_ds = _data.split_last(train_ds, float(validation_split))

    optimizer = _make_optimizer(optimizer, model)
    if seed is not None:
        cr.manual_seed(int(seed))
    gen = None
    if not _data.is_loader(train_ds):
        gen = cr.Generator().manual_seed(
            int(seed) if seed is not None else int(cr.randint(0, 2 ** 62, (1,)).item()))
    train_loader = _data.to_loader(train_ds, bs, True, gen)
    if gen is None:
        gen = getattr(train_loader, "generator", None)
    val_loader = None if val_ds is None else _data.to_loader(
        val_ds, max(bs, 256) if not _data.is_loader(val_ds) else None, False, None)

    try:
        steps = len(train_loader)
    except TypeError:
        steps = None
    params = {"epochs": epochs, "steps": steps, "batch_size": bs,
              "metrics": [n for n, _ in mets]}
    trainer = Trainer(model, optimizer, params)
    cbs = list(callbacks or ())
    if scheduler is not None:
        cbs.insert(0, LearningRateScheduler(scheduler))
    cblist = CallbackList(cbs, trainer)
    history = History(params=params)
    model_params = [p for p in model.parameters()]
    start_epoch = 0

    state = load_training_state(checkpoint_dir) if resume else None
    show = Progress(progress, epochs)
    if resume and state is None:  # first run of a script that always resumes
        show.message(f"no checkpoint in {os.fspath(checkpoint_dir)!r} yet: starting from scratch")
    try:
        model.stop_training = False
    except (AttributeError, TypeError):
        pass
    if state is not None:  # continue log files rather than overwrite them
        for cb in cblist.callbacks:
            if type(cb).__name__ == "CSVLogger":
                cb.append = True
    cblist.call("on_train_begin", {})
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        cblist.load_state_dict(state["callbacks"])
        h = History.from_dict(state["history"])
        history.history, history.epoch, history.notes = h.history, h.epoch, h.notes
        history.initial_loss = h.initial_loss
        cr.set_rng_state(state["rng"])
        if gen is not None and state.get("loader_rng") is not None:
            gen.set_state(state["loader_rng"])
        start_epoch = int(state["epoch"]) + 1
        if start_epoch >= epochs:
            show.message(f"checkpoint already at epoch {start_epoch}/{epochs}: nothing to do")
        else:
            show.message(f"resuming from the checkpoint after epoch {start_epoch}")

    prev_weights = None
    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        trainer.epoch = epoch
        model.train()
        cblist.call("on_epoch_begin", epoch, {})
        lr = float(optimizer.param_groups[0]["lr"])
        show.epoch_begin(epoch, steps)
        total, count, preds, targets = 0.0, 0, [], []
        bad = None
        for b, batch in enumerate(train_loader):
            cblist.call("on_batch_begin", b, {})
            xb, yb = _split_batch(batch)
            out = model(xb)
            lval = _scalar_loss(loss(out, yb))
            lv = float(lval.item())
            if history.initial_loss is None and epoch == 0 and b == 0:
                history.initial_loss = lv
            n = len(xb)
            if not math.isfinite(lv):
                bad = (b, f"loss is {lv}")
            else:
                optimizer.zero_grad()
                lval.backward()
                cblist.call("on_backward_end", b, {"loss": lv})
                if not _grads_finite(model_params):
                    bad = (b, "gradients are NaN/Inf")
            if bad is not None:
                msg = (f"epoch {epoch + 1}, batch {b + 1}: {bad[1]}; training stopped")
                # a bad loss means the last step already spoiled the weights: undo it
                if prev_weights is not None and bad[1].startswith("loss"):
                    with cr.no_grad():
                        for p, w in zip(model_params, prev_weights):
                            p.copy_(w)
                    msg += " and the weights from before the last step restored"
                msg += " (try a lower learning rate or clip_grad_norm)"
                trainer.request_stop("nan", msg)
                total, count = float("nan"), max(count, 1)
                cblist.call("on_batch_end", b, {"loss": lv, "size": n})
                break
            if clip_grad_norm is not None:
                cr.nn.utils.clip_grad_norm_(model_params, clip_grad_norm)
            prev_weights = [p.detach().clone() for p in model_params]
            optimizer.step()
            total += lv * n
            count += n
            if mets:
                preds.append(np.array(out.detach().numpy(), copy=True))
                targets.append(np.array(yb.numpy(), copy=True))
            cblist.call("on_batch_end", b, {"loss": lv, "size": n})
            show.batch_end({"loss": total / count})
            if trainer.should_stop():
                break
        if count == 0:
            raise ValueError("the training data yielded no batches")
        logs = {"loss": total / count}
        if bad is None:
            logs.update(_compute_metrics(mets, preds, targets))
        else:
            logs.update({name: float("nan") for name, _ in mets})
        if val_loader is not None:
            if bad is None:
                model.eval()
                vlogs = _loop_eval(model, val_loader, loss, mets)
                model.train()
            else:
                vlogs = {"loss": float("nan"), **{n: float("nan") for n, _ in mets}}
            logs.update({f"val_{k}": v for k, v in vlogs.items()})
        logs["lr"] = lr
        cblist.call("on_epoch_end", epoch, logs)
        logs["seconds"] = time.perf_counter() - t0
        history.append(epoch, logs)
        for m in trainer.messages:
            history.notes.append(m)
            show.message(m)
        trainer.messages = []
        show.epoch_end(epoch, logs)
        if checkpoint_dir is not None and bad is None:
            save_training_state(checkpoint_dir, {
                "epoch": epoch, "model": plain_state(dict(model.state_dict())),
                "optimizer": plain_state(optimizer.state_dict()),
                "callbacks": plain_state(cblist.state_dict()),
                "history": history.to_dict(), "rng": cr.get_rng_state(),
                "loader_rng": gen.get_state() if gen is not None else None})
        if trainer.should_stop():
            break
    show.close()
    history.stop_reason = trainer.stop_reason
    cblist.call("on_train_end", {})
    for m in trainer.messages:
        history.notes.append(m)
        show.message(m)
    if progress and len(history):
        from .diagnosis import diagnose
        try:
            show.message(str(diagnose(history)))
        except ValueError:
            pass
    return history
