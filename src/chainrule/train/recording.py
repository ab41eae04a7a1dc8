"""What `fit` records by default for the diagnosis, beyond the per-epoch curves: the
run's settings (`history.params`) and a few cheap training signals (`history.signals`):

- grad_norm: per parameter, the mean gradient norm over a few sampled batches per epoch;
  grad_norm_initial: the untrained model's, from the very first batch;
- weight_change: per weight matrix, ||w_end - w_start|| / ||w_start|| of each epoch;
- dead_relu: share of ReLU units that never fire on up to 256 training rows, measured
  after the first epoch and at the end ([[epoch, share], ...]);
- inputs: the scale of the training inputs (rms, mean, absmax) seen in the first epoch;
- baseline_loss: the loss of the best constant prediction for the training targets
  (label entropy for cross-entropy, target variance for MSE), the level of "learnt
  nothing"; val_baseline_loss: that constant's loss on the validation targets.

The cost is a few vector norms every few batches and one small forward pass twice per
run (`benchmarks/diagnosis/overhead.py` measures it on the main job's epoch)."""
import math

import numpy as np

from .callbacks import Callback

__all__ = ["RunRecorder", "run_params"]

SAMPLED_BATCHES = 3  # gradient norms are read on this many batches per epoch
PROBE_ROWS = 256


def _np64(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t, dtype=np.float64)


def _norm(t):
    return _norm_np(np.asarray(t.numpy()))


# ---- the run's settings -----------------------------------------------------------------
_ACTIVATIONS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyReLU": "leaky_relu",
                "GELU": "gelu", "ELU": "elu", "SiLU": "silu", "Softplus": "softplus"}


def model_params(model):
    """What the model's structure says about fixes: hidden widths, activation, dropout."""
    from .. import nn
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    acts = [_ACTIVATIONS[type(m).__name__] for m in model.modules()
            if type(m).__name__ in _ACTIVATIONS]
    drops = [float(m.p) for m in model.modules() if isinstance(m, nn.Dropout)]
    out = {"layers": len(linears), "hidden": [int(m.out_features) for m in linears[:-1]],
           "dropout": max(drops, default=0.0)}
    if acts:
        out["activation"] = acts[0]
    return out


def run_params(model, optimizer, callbacks, batch_size, clip_grad_norm):
    """history.params beyond Keras's epochs/steps: the settings a fix may change."""
    group = optimizer.param_groups[0] if getattr(optimizer, "param_groups", None) else {}
    params = {"lr": float(group.get("lr", float("nan"))),
              "optimizer": type(optimizer).__name__,
              "weight_decay": float(group.get("weight_decay", 0.0) or 0.0),
              "batch_size": batch_size, "clip_grad_norm": clip_grad_norm,
              "callbacks": [type(cb).__name__ for cb in callbacks]}
    if "momentum" in group:
        params["momentum"] = float(group["momentum"])
    try:
        params.update(model_params(model))
    except Exception:  # a model that is not made of chainrule modules: no structure facts
        pass
    return params


# ---- the loss of learning nothing ---------------------------------------------------------
def baseline_loss(loss, targets, reference=None):
    """The loss on `targets` of the best constant prediction for `reference` (default:
    the targets themselves), for the losses where it is known; else None."""
    name = type(loss).__name__
    if targets is None or len(targets) == 0 or getattr(loss, "reduction", "mean") == "sum":
        return None
    y = np.asarray(targets)
    ref = y if reference is None else np.asarray(reference)
    with np.errstate(all="ignore"):
        if name in ("CrossEntropyLoss", "NLLLoss"):
            return _label_baseline(loss, y, ref)
        y = y.astype(np.float64).reshape(len(y), -1)
        ref = ref.astype(np.float64).reshape(len(ref), -1)
        if y.shape[1] != ref.shape[1]:
            return None
        if name == "MSELoss":
            return float(((y - ref.mean(axis=0)) ** 2).mean())
        if name == "L1Loss":
            return float(np.abs(y - np.median(ref, axis=0)).mean())
        if name in ("BCEWithLogitsLoss", "BCELoss") and ((ref == 0) | (ref == 1)).all():
            p = np.clip(ref.mean(axis=0), 1e-7, 1 - 1e-7)
            return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    return None


def _label_baseline(loss, y, ref):
    """Cross-entropy of the reference's label frequencies on the labels y."""
    if y.dtype.kind not in "iu" or ref.dtype.kind not in "iu":
        return None
    if getattr(loss, "label_smoothing", 0.0) or getattr(loss, "weight", None) is not None:
        return None
    y, ref = y.reshape(-1), ref.reshape(-1)
    y, ref = y[y >= 0], ref[ref >= 0]
    if len(y) == 0 or len(ref) == 0:
        return None
    size = int(max(y.max(), ref.max())) + 1
    p = np.clip(np.bincount(ref, minlength=size) / ref.size, 1e-7, 1.0)
    q = np.bincount(y, minlength=size) / y.size
    return float(-(q * np.log(p)).sum())


# ---- the recorder -----------------------------------------------------------------------
class RunRecorder(Callback):
    """fit's built-in recorder of training signals into `history.signals` (see the
    module's docstring); fit(record=False) leaves it out."""

    def __init__(self):
        super().__init__()
        self._rows, self._targets, self._sums = [], [], None

    @property
    def signals(self):
        # read through the trainer: a resumed run replaces the history's signals
        return self.trainer.history.signals if self.trainer is not None else None

    @property
    def wants_batches(self):
        return "inputs" not in self.signals

    def on_train_begin(self, logs=None):
        self._named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    def on_epoch_begin(self, epoch, logs=None):
        steps = self.params.get("steps") or 1
        self._stride = max(1, -(-steps // SAMPLED_BATCHES))
        self._grad_sums, self._grad_count = {}, 0
        # weight matrices only: a bias's change says little and would double the copies
        self._start = {n: np.array(p.detach().numpy(), copy=True) for n, p in self._named
                       if p.ndim >= 2}

    def on_backward_end(self, batch, logs=None):
        if batch % self._stride:
            return
        first = "grad_norm_initial" not in self.signals
        with np.errstate(over="ignore", invalid="ignore"):
            norms = {n: _norm(p.grad) for n, p in self._named if p.grad is not None}
        for n, v in norms.items():
            self._grad_sums[n] = self._grad_sums.get(n, 0.0) + v
        self._grad_count += 1
        if first:
            self.signals["grad_norm_initial"] = norms

    def see_batch(self, xb, yb):
        """The first epoch's batches: the inputs' scale, the targets, probe rows."""
        x = _np64(xb)
        if self._sums is None:
            self._sums = [0.0, 0.0, 0, 0.0]
        s = self._sums
        with np.errstate(over="ignore", invalid="ignore"):
            s[0] += float(x.sum())
            s[1] += float((x * x).sum())
        s[2] += x.size
        s[3] = max(s[3], float(np.abs(x).max()) if x.size else 0.0)
        self._targets.append(np.array(yb.detach().numpy() if hasattr(yb, "detach") else yb,
                                      copy=True))
        if sum(len(r) for r in self._rows) < PROBE_ROWS:
            self._rows.append(np.array(xb.detach().numpy(), copy=True))

    def on_epoch_end(self, epoch, logs=None):
        if self._grad_count:
            for n, _ in self._named:
                series = self.signals.setdefault("grad_norm", {}).setdefault(n, [])
                series.append(self._grad_sums.get(n, float("nan")) / self._grad_count)
        changes = self.signals.setdefault("weight_change", {})
        with np.errstate(over="ignore", invalid="ignore"):
            for n, p in self._named:
                w0 = self._start.get(n)
                if w0 is None:
                    continue
                change = _norm_np(np.asarray(p.detach().numpy()) - w0) / max(_norm_np(w0), 1e-12)
                changes.setdefault(n, []).append(change)
        if self.wants_batches and self._sums is not None:
            self._finish_first_epoch()
            self._probe(epoch)

    def _finish_first_epoch(self):
        total, squares, count, absmax = self._sums
        count = max(count, 1)
        self.signals["inputs"] = {"mean": total / count, "rms": math.sqrt(max(squares, 0) / count),
                                  "absmax": absmax}
        try:
            targets = np.concatenate(self._targets, axis=0)
        except ValueError:
            targets = None
        self.signals["baseline_loss"] = baseline_loss(self.trainer.loss, targets)
        val = self.trainer.val_loader
        if val is not None:
            from .data import targets_of
            self.signals["val_baseline_loss"] = baseline_loss(
                self.trainer.loss, targets_of(getattr(val, "dataset", None)), targets)
        self._targets = []

    def on_train_end(self, logs=None):
        if len(self.trainer.history):
            self._probe(self.trainer.epoch)

    def _probe(self, epoch):
        share = dead_relu_share(self.model, self._rows)
        if share is not None:
            dead = self.signals.setdefault("dead_relu", [])
            if not dead or dead[-1][0] != epoch:
                dead.append([int(epoch), share])


def _norm_np(a):
    a = a.ravel()
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    sq = float(np.dot(a, a))  # callers silence overflow once for all their norms
    return math.sqrt(sq) if math.isfinite(sq) else float("inf")


def dead_relu_share(model, rows):
    """Share of the units after nn.ReLU modules that are zero for every probe row."""
    from .. import nn
    import chainrule
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus or not rows:
        return None
    fired = []

    def hook(module, inputs, output):
        out = np.asarray(output.detach().numpy())
        fired.append((out > 0).reshape(len(out), -1).any(axis=0))
    handles = [m.register_forward_hook(hook) for m in relus]
    was = model.training
    model.eval()
    try:
        with chainrule.no_grad(), np.errstate(all="ignore"):
            model(chainrule.from_numpy(np.concatenate(rows, axis=0)[:PROBE_ROWS]))
    except Exception:  # a model that cannot take the stacked rows: no measure
        return None
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    units = sum(f.size for f in fired)
    return float(sum(int((~f).sum()) for f in fired) / units) if units else None
