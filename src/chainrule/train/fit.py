"""fit / evaluate / predict: d2l's training loop (ch. 3-5) with Keras's conveniences:
metrics, validation, callbacks, progress, resumable checkpoints and a diagnosis."""
import numbers

from . import data as _data
from .callbacks import LearningRateScheduler
from .metrics import default_metrics, get_metric
from .recording import run_params
from .names import resolve_loss, resolve_optimizer
from .distributed import DistributedTrainer, use_distributed
from .trainer import Trainer, loop_eval

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


def _keras_names(progress, val, verbose, validation_data):
    """(progress, val) with Keras's verbose= and validation_data= folded in."""
    if verbose is not None:
        if isinstance(verbose, bool) or verbose not in (0, 1, 2, "auto"):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto' (Keras's values; chainrule's "
                             f"spelling is progress=True/False), got {verbose!r}")
        progress = verbose != 0
    if validation_data is not None:
        if val is not None:
            raise ValueError("give val= or validation_data= (the same thing), not both")
        val = validation_data
    return progress, val


def _check_settings(settings):
    if settings is None:
        return {}
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise TypeError("settings must be a dict of the run's settings by name, e.g. "
                        f"{{'init': 'xavier'}}; got {type(settings).__name__}")
    return dict(settings)


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


def evaluate(model, data, loss=None, metrics=("accuracy",), batch_size=None):
    """Loss (when `loss` is given) and metrics of `model` on `data` (DataLoader, Dataset or
    (X, y)), under no_grad and eval(); the model's training mode is restored after."""
    _check_model(model)
    if loss is not None:
        loss = resolve_loss(loss)
        _check_loss(loss)
    mets = _metric_list(metrics, loss)
    ds = _data.normalize(data, "data")
    loader = _data.to_loader(ds, _data.check_batch_size(batch_size or 256), False, None)
    was = getattr(model, "training", False)
    model.eval()
    try:
        return loop_eval(model, loader, loss, mets)
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


def _fit_data(train, val, batch_size, validation_split):
    """fit's data arguments checked and normalized: (train, val, batch size)."""
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
    return train_ds, val_ds, bs


def _compile_mode(compile):
    """fit's compile= as the trainer takes it: False, or the mode to compile the step in
    (True: the default mode); another value is refused naming the modes."""
    if isinstance(compile, str):
        from ..compiler import check_mode
        check_mode(compile)
        return compile
    return "default" if compile else False


def fit(model, train, val=None, *, loss, optimizer, epochs, metrics="auto",
        callbacks=(), batch_size=None, validation_split=None, seed=None, progress=True,
        checkpoint_dir=None, resume=False, clip_grad_norm=None, scheduler=None, lr=None,
        learning_rate=None, distributed=None, compile=False, record=True, settings=None,
        verbose=None, validation_data=None):
    """Train `model` on `train` for `epochs` epochs and return a History.

    train / val: DataLoader, Dataset or (X, y). validation_split: use the LAST fraction
    of the training rows for validation (Keras). optimizer: an optimizer or a factory
    `params -> optimizer`. scheduler: an lr_scheduler stepped once per epoch
    (ReduceLROnPlateau gets val_loss, or loss). checkpoint_dir: save the whole training
    state after every epoch; resume=True continues from it, bit for bit. Keras habits:
    loss and optimizer by name ("cross_entropy", "adam", see train.names) and
    lr / learning_rate for an optimizer given by name, class or factory. distributed: train on
    the ranks of an MPI job (see train.distributed); None: when a process group exists.
    compile=True: each training step runs as one `chainrule.compile`d function (the same
    numbers, faster for small models; see chainrule.compiler); a mode name
    (compile="max-autotune") compiles it in that mode. metrics="auto": accuracy
    for a classification loss, none for a regression loss. record=True: the signals the
    diagnosis reads go into `history.signals` (train.recording, a few % of an epoch);
    `history.params` holds the run's settings (lr, optimizer, epochs, batch_size,
    weight_decay, callbacks, the model's hidden widths, activation and dropout), to which
    `settings` (a dict, e.g. {"init": "xavier"}) adds what fit cannot see. Keras's names
    work too: verbose=0 is progress=False, validation_data is val."""
    progress, val = _keras_names(progress, val, verbose, validation_data)
    _check_model(model)
    loss = resolve_loss(loss)
    _check_loss(loss)
    optimizer = resolve_optimizer(optimizer, lr, learning_rate)
    epochs = _check_epochs(epochs)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir (where the checkpoint was written)")
    if clip_grad_norm is not None and (not isinstance(clip_grad_norm, numbers.Real)
                                       or not clip_grad_norm > 0):
        raise ValueError(f"clip_grad_norm must be a positive number, got {clip_grad_norm!r}")
    train_ds, val_ds, bs = _fit_data(train, val, batch_size, validation_split)
    if isinstance(metrics, str) and metrics == "auto":
        metrics = default_metrics(loss, _data.targets_of(train_ds))
    mets = _metric_list(metrics, loss)
    optimizer = _make_optimizer(optimizer, model)
    cbs = list(callbacks or ())
    if scheduler is not None:
        cbs.insert(0, LearningRateScheduler(scheduler))
    params = run_params(model, optimizer, cbs, _data.batch_size_of(train_ds, bs),
                        clip_grad_norm)
    params.update({"epochs": epochs, "steps": None, "metrics": [n for n, _ in mets]},
                  **_check_settings(settings))
    trainer_class = DistributedTrainer if use_distributed(distributed) else Trainer
    trainer = trainer_class(model, optimizer, params, loss=loss, metrics=mets, callbacks=cbs,
                      clip_grad_norm=clip_grad_norm, checkpoint_dir=checkpoint_dir,
                      progress=progress, compile=_compile_mode(compile), record=bool(record))
    trainer.prepare_data(train_ds, val_ds, bs, seed)
    return trainer.run(epochs, resume)
